import type { PolicyIndex } from './inject/policy-index.js';
import type { Labels } from './inject/selector.js';

export interface PodMeta {
  metadata?: { namespace?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
}

/**
 * How many pods each policy selects now (pure): the webhook's own matching (namespaces, their
 * labels, the pod selector; excluded namespaces never), every policy that matches counting the
 * pod, as HealthPolicy status.matchedPods reports. Pods being deleted are not counted.
 */
export function matchedPodCounts(
  pods: Iterable<PodMeta>,
  index: PolicyIndex,
  namespaceLabels: (ns: string) => Labels,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp) continue;
    const ns = pod.metadata?.namespace ?? '';
    for (const p of index.match(ns, namespaceLabels(ns), pod.metadata?.labels ?? {}).policies)
      counts.set(p.name, (counts.get(p.name) ?? 0) + 1);
  }
  return counts;
}
