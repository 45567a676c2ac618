import { LABEL, MANAGED_BY } from '../../core/api/index.js';

export const ISOLATION_POLICY_NAME = 'bulkhead-quarantine';

/**
 * Isolate (pure): one deny-all NetworkPolicy per namespace, selecting every pod labelled
 * quarantined. Both policy types with no rules means no ingress and no egress at all (DNS
 * included): the pod stays for forensics and cannot spread anything. Idempotent by name.
 */
export function isolationNetworkPolicy(namespace: string) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: ISOLATION_POLICY_NAME,
      namespace,
      labels: { [LABEL.managedBy]: MANAGED_BY },
      annotations: { 'bulkhead.dev/purpose': 'deny all traffic to and from quarantined pods' },
    },
    spec: {
      podSelector: { matchLabels: { [LABEL.quarantined]: 'true' } },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [],
      egress: [],
    },
  };
}
