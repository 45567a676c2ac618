import { API_VERSION, KIND } from '../core/api/index.js';
import type { KubeClient } from '../core/kube/client.js';
import { collectionPath, type KubeObject, type ResourceResolver } from '../core/kube/resources.js';

/** The kinds a PolicySource manages: HealthPolicy today; prune must look at each of them. */
export const MANAGED_KINDS: { apiVersion: string; kind: string }[] = [
  { apiVersion: API_VERSION, kind: KIND.HealthPolicy },
];

/**
 * Every live object of the managed kinds (one LIST per kind). Not only the labelled ones:
 * a desired name that exists unlabelled is an update (or a conflict), not a create.
 */
export async function listLive(
  client: KubeClient,
  resolver: ResourceResolver,
  kinds = MANAGED_KINDS,
): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  for (const k of kinds) {
    const res = await resolver.resolve(k.apiVersion, k.kind);
    const list = await client.request<{ items: KubeObject[] }>({ method: 'GET', path: collectionPath(res) });
    for (const item of list.items) out.push({ ...item, apiVersion: k.apiVersion, kind: k.kind });
  }
  return out;
}
