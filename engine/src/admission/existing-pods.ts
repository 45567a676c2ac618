import { decideInjection, type PodLike, type SidecarSettings } from './inject/patch.js';
import type { PolicyIndex } from './inject/policy-index.js';
import type { InjectablePolicy } from './inject/policy.js';
import type { Labels } from './inject/selector.js';

/**
 * Pods created before a policy matched them have no sidecar until they are recreated. This
 * finds them (for `bulkhead plan`) and, for policies that opt in with `spec.rollout:
 * Restart`, names the workloads to restart. Pure: the caller lists pods and ReplicaSets.
 */
export interface ExistingPod extends PodLike {
  metadata: NonNullable<PodLike['metadata']> & {
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
}

export interface WorkloadRef {
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'ReplicaSet' | 'Pod';
  namespace: string;
  name: string;
}

export interface PodAwaitingSidecar {
  namespace: string;
  name: string;
  policy: string;
  workload: WorkloadRef;
  /** Whether the policy asks for a restart (spec.rollout: Restart). */
  restart: boolean;
}

export interface RolloutPolicy extends InjectablePolicy {
  spec: InjectablePolicy['spec'] & { rollout?: 'None' | 'Restart' };
}

/** Which workload owns a pod; `replicaSetOwners` maps "ns/rs" to its Deployment name. */
export function owningWorkload(pod: ExistingPod, replicaSetOwners: ReadonlyMap<string, string>): WorkloadRef {
  const namespace = pod.metadata.namespace ?? '';
  const ctl = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!ctl) return { kind: 'Pod', namespace, name: pod.metadata.name ?? '' };
  if (ctl.kind === 'ReplicaSet') {
    const deployment = replicaSetOwners.get(`${namespace}/${ctl.name}`);
    return deployment
      ? { kind: 'Deployment', namespace, name: deployment }
      : { kind: 'ReplicaSet', namespace, name: ctl.name };
  }
  if (ctl.kind === 'StatefulSet' || ctl.kind === 'DaemonSet') return { kind: ctl.kind, namespace, name: ctl.name };
  return { kind: 'Pod', namespace, name: pod.metadata.name ?? '' };
}

export function podsAwaitingSidecar(
  pods: readonly ExistingPod[],
  index: PolicyIndex,
  namespaceLabels: (ns: string) => Labels,
  replicaSetOwners: ReadonlyMap<string, string>,
  sidecar: SidecarSettings,
): PodAwaitingSidecar[] {
  const out: PodAwaitingSidecar[] = [];
  for (const pod of pods) {
    const namespace = pod.metadata.namespace ?? '';
    // Exactly the decision the webhook would make for this pod at creation.
    const d = decideInjection(pod, namespace, namespaceLabels(namespace), index, sidecar);
    if (!d.inject) continue;
    const policy = index.candidates(namespace, namespaceLabels(namespace)).find((p) => p.name === d.policy)?.policy as
      RolloutPolicy | undefined;
    out.push({
      namespace,
      name: pod.metadata.name ?? '',
      policy: d.policy,
      workload: owningWorkload(pod, replicaSetOwners),
      restart: policy?.spec.rollout === 'Restart',
    });
  }
  return out.sort((a, b) => (a.namespace + a.name < b.namespace + b.name ? -1 : 1));
}

/** Workloads to restart, once each, in a stable order: only restartable kinds, only opted-in policies. */
export function restartPlan(awaiting: readonly PodAwaitingSidecar[]): WorkloadRef[] {
  const seen = new Map<string, WorkloadRef>();
  for (const p of awaiting) {
    if (
      !p.restart ||
      (p.workload.kind !== 'Deployment' && p.workload.kind !== 'StatefulSet' && p.workload.kind !== 'DaemonSet')
    )
      continue;
    seen.set(`${p.workload.kind}/${p.workload.namespace}/${p.workload.name}`, p.workload);
  }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, w]) => w);
}
