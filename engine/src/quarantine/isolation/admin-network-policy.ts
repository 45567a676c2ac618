import { LABEL, MANAGED_BY } from '../../core/api/index.js';

export const ADMIN_POLICY_API_VERSION = 'policy.networking.k8s.io/v1alpha1';
export const ADMIN_POLICY_KIND = 'AdminNetworkPolicy';
export const ADMIN_POLICY_NAME = 'bulkhead-quarantine';

/**
 * The cluster-wide deny for quarantined pods (pure), for clusters that serve the network
 * policy API (sigs.k8s.io/network-policy-api). An AdminNetworkPolicy is evaluated before every
 * namespace NetworkPolicy and its Deny cannot be overridden by them, so it closes exactly the
 * gap NetworkPolicies leave (an allow that selects every pod of a namespace). Priority 0 is
 * the highest precedence the API has. One object for the whole cluster; the namespace
 * deny-all stays as well, for CNIs that enforce only NetworkPolicy.
 */
export function adminNetworkPolicy() {
  return {
    apiVersion: ADMIN_POLICY_API_VERSION,
    kind: ADMIN_POLICY_KIND,
    metadata: {
      name: ADMIN_POLICY_NAME,
      labels: { [LABEL.managedBy]: MANAGED_BY },
      annotations: { 'bulkhead.dev/purpose': 'deny all traffic to and from quarantined pods, in every namespace' },
    },
    spec: {
      priority: 0,
      subject: {
        pods: { namespaceSelector: {}, podSelector: { matchLabels: { [LABEL.quarantined]: 'true' } } },
      },
      ingress: [{ name: 'quarantined-no-ingress', action: 'Deny', from: [{ namespaces: {} }] }],
      egress: [
        {
          name: 'quarantined-no-egress',
          action: 'Deny',
          to: [{ namespaces: {} }, { networks: ['0.0.0.0/0', '::/0'] }],
        },
      ],
    },
  };
}
