import { GROUP, PLURAL, VERSION, type Quarantine } from '../core/api/index.js';
import type { KubeClient } from '../core/kube/client.js';
import { watchResource, type WatchedResource } from '../core/kube/informer.js';
import type { KubeMetrics } from '../core/kube/metrics.js';
import type { Logger } from '../core/logger.js';
import { AVOID_NODE_LABEL } from './quarantine-object.js';

/** The nodes new pods of an owner must avoid: what the injection webhook asks. */
export type AvoidedNodes = (namespace: string, ownerUid: string) => string[];

/** From the watched Quarantines (pure): the nodes of held pods of this owner that asked for it. */
export function avoidedNodesOf(quarantines: readonly Quarantine[], namespace: string, ownerUid: string): string[] {
  const nodes = new Set<string>();
  for (const q of quarantines) {
    if (q.metadata.namespace !== namespace || q.spec.owner?.uid !== ownerUid || !q.spec.node) continue;
    if (q.spec.mode !== 'Enforce' || q.status?.phase === 'Released') continue;
    nodes.add(q.spec.node);
  }
  return [...nodes].sort();
}

/**
 * A watch of the Quarantines labelled AVOID_NODE_LABEL (every replica runs it: the webhook may
 * be called on any of them). The label is set when the Quarantine is created, before the pod is
 * detached and its owner creates the replacement, so the watch has it by the time the
 * replacement is admitted (a watch event lags the create by milliseconds; the detach takes
 * several round trips more). The cache holds only those Quarantines.
 */
export function watchAvoidedNodes(opts: { client: KubeClient; logger: Logger; metrics?: KubeMetrics }): {
  nodesFor: AvoidedNodes;
  watch: WatchedResource<Quarantine>;
} {
  const watch = watchResource<Quarantine>({
    client: opts.client,
    path: `/apis/${GROUP}/${VERSION}/${PLURAL.Quarantine}`,
    resource: 'quarantines-avoid-node',
    labelSelector: `${AVOID_NODE_LABEL}=true`,
    onEvent: () => {},
    logger: opts.logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  return { nodesFor: (ns, owner) => avoidedNodesOf(watch.list(), ns, owner), watch };
}
