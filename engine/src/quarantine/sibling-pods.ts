import { podFactsOf, type PodHealth, type PodObject } from '../analytics/index.js';
import { LABEL, type HealthPolicy, type LabelSelector } from '../core/api/index.js';
import type { KubeClient } from '../core/kube/client.js';

/** Pods read per namespace when siblings are chosen; past it the rest are not considered. */
export const MAX_SIBLING_CANDIDATES = 500;

/** A LabelSelector as the `labelSelector` query string (pure); Kubernetes' own syntax. */
export function selectorQuery(sel: LabelSelector | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  for (const e of sel?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

interface ListedPod extends PodObject {
  metadata: PodObject['metadata'] & { deletionTimestamp?: string };
  status?: { phase?: string };
}

/**
 * The candidates for a policy's `similar` siblings in one namespace: the cluster's pods the
 * policy's selector matches, running, not being deleted and not already quarantined, read when
 * an incident is decided (a sibling need not have reported yet to share a bad image). Bounded
 * at MAX_SIBLING_CANDIDATES per namespace; the budget limits what is done to them.
 */
export function siblingPods(client: KubeClient) {
  return async (namespace: string, policy: HealthPolicy): Promise<PodHealth[]> => {
    const selector = selectorQuery(policy.spec.match.selector);
    const list = await client.request<{ items: ListedPod[] }>({
      method: 'GET',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      query: {
        limit: String(MAX_SIBLING_CANDIDATES),
        ...(selector ? { labelSelector: selector } : {}),
      },
    });
    return list.items
      .filter(
        (p) =>
          p.status?.phase === 'Running' &&
          !p.metadata.deletionTimestamp &&
          p.metadata.labels?.[LABEL.quarantined] !== 'true',
      )
      .map((p) => ({
        namespace: p.metadata.namespace,
        name: p.metadata.name,
        uid: p.metadata.uid,
        ...podFactsOf(p),
        samples: [],
        events: [],
      }));
  };
}
