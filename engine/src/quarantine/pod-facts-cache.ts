import { podFactsOf, type PodFacts, type PodObject } from '../analytics/index.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';

export interface PodKey {
  namespace: string;
  name: string;
  uid: string;
}

export interface PodFactsCacheOptions {
  /** Reads the pod from the cluster; undefined when it is gone. */
  read(pod: PodKey): Promise<PodObject | undefined>;
  now: () => Date;
  /** Pods kept; past it the entry read longest ago goes first. */
  maxPods?: number;
  /** How long an entry is trusted before it is read again. */
  ttlMs?: number;
}

export const POD_FACTS_DEFAULTS = { maxPods: 20_000, ttlMs: 60_000 } as const;

/**
 * Pod facts (labels, node, owner, image) for the evaluator's grouping and the budget: read once
 * per pod, bounded, refreshed after `ttlMs` so a relabelled pod is seen. A pod that was
 * replaced under the same name (another uid) has no facts: the verdict is about the old one.
 * Absent pods are cached too, so a burst of reports about a deleted pod costs one read.
 */
export class PodFactsCache {
  private readonly entries = new Map<string, { facts: PodFacts | undefined; at: number }>();
  private readonly maxPods: number;
  private readonly ttlMs: number;

  constructor(private readonly opts: PodFactsCacheOptions) {
    this.maxPods = opts.maxPods ?? POD_FACTS_DEFAULTS.maxPods;
    this.ttlMs = opts.ttlMs ?? POD_FACTS_DEFAULTS.ttlMs;
  }

  get size(): number {
    return this.entries.size;
  }

  async get(pod: PodKey): Promise<PodFacts | undefined> {
    const hit = this.entries.get(pod.uid);
    if (hit && this.opts.now().getTime() - hit.at < this.ttlMs) return hit.facts;
    const obj = await this.opts.read(pod);
    const facts = obj && obj.metadata.uid === pod.uid ? podFactsOf(obj) : undefined;
    // Re-inserted, so the Map's order is the order entries were read: the first is the oldest.
    this.entries.delete(pod.uid);
    this.entries.set(pod.uid, { facts, at: this.opts.now().getTime() });
    if (this.entries.size > this.maxPods) this.entries.delete(this.entries.keys().next().value as string);
    return facts;
  }
}

/** The cache's reader against the apiserver: GET the pod, 404 → undefined. */
export const podReader =
  (client: KubeClient) =>
  (pod: PodKey): Promise<PodObject | undefined> =>
    client
      .request<PodObject>({
        method: 'GET',
        path: `/api/v1/namespaces/${encodeURIComponent(pod.namespace)}/pods/${encodeURIComponent(pod.name)}`,
      })
      .catch((e: unknown) => {
        if (isNotFound(e)) return undefined;
        throw e;
      });
