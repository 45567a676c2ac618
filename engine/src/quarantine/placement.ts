import { API_VERSION, KIND, type Quarantine } from '../core/api/index.js';
import { objectPath } from '../core/kube/resources.js';
import type { PlannedAction, Verdict } from '../analytics/index.js';
import type { TakenAction } from './taken-action.js';
import type { KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { ResourceResolver } from '../core/kube/resources.js';

/** What this needs of the executor's deps (structural: no import cycle). */
interface Deps {
  client: KubeClient;
  resolver: ResourceResolver;
  events: EventRecorder;
}

export const NODE_TAINT_KEY = 'bulkhead.dev/unhealthy';

/**
 * "The replacement starts elsewhere", by a node taint. The owner creates the replacement the
 * moment the pod is detached and the scheduler binds it within milliseconds, so the taint has
 * to be on the node BEFORE the detach: the nodes are tainted right after the budget and before
 * any pod is touched. Which nodes (pure):
 *   - a node-wide incident under `taintNode`: its node, if any of its pods is to be held;
 *   - `replacement.avoidNode: Taint`: the node of every failing pod that is to be detached.
 * Only in Enforce mode and only for actions the budget allowed, so a budget-stopped incident
 * never taints.
 */
export function nodesToTaint(verdict: Verdict, allowed: readonly PlannedAction[]): string[] {
  if (verdict.mode !== 'Enforce') return [];
  const nodes = new Set<string>();
  const held = allowed.filter((a) => a.action === 'Quarantine' || a.action === 'Isolate');
  if (verdict.taintNode && verdict.incident.scope === 'node' && held.length > 0) nodes.add(verdict.incident.value);
  if (verdict.avoidNode === 'Taint')
    for (const a of held) if (a.role === 'primary' && a.action === 'Quarantine' && a.pod.node) nodes.add(a.pod.node);
  return [...nodes].sort();
}

/**
 * Adds the NoSchedule taint (idempotent) and says so in an Event on the node. Existing pods
 * stay (NoSchedule evicts nothing). The value is the incident id, for `kubectl describe node`.
 */
export async function taintNode(deps: Deps, name: string, verdict: Verdict, incident: string): Promise<void> {
  const path = `/api/v1/nodes/${encodeURIComponent(name)}`;
  const node = await deps.client.request<{
    metadata: { uid: string; resourceVersion: string };
    spec?: { taints?: { key: string; value?: string; effect: string }[] };
  }>({ method: 'GET', path });
  const taints = node.spec?.taints ?? [];
  if (!taints.some((t) => t.key === NODE_TAINT_KEY && t.effect === 'NoSchedule')) {
    // A merge patch replaces the whole taint list, and the node controller edits it too: the
    // resourceVersion makes it optimistic (409 if the list changed since the read).
    await deps.client.request({
      method: 'PATCH',
      path,
      contentType: 'application/merge-patch+json',
      body: {
        metadata: { resourceVersion: node.metadata.resourceVersion },
        spec: { taints: [...taints, { key: NODE_TAINT_KEY, value: incident, effect: 'NoSchedule' }] },
      },
    });
  }
  await deps.events.emit(
    { apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid },
    'Warning',
    'NodeTainted',
    `${verdict.policy}: tainted ${NODE_TAINT_KEY}:NoSchedule so replacements of pods quarantined here start elsewhere (incident ${verdict.incident.key})`,
  );
}

/** Each held Quarantine on a tainted node records the TaintNode step (once). */
export async function recordTaints(
  deps: Deps,
  verdict: Verdict,
  taken: readonly TakenAction[],
  tainted: ReadonlySet<string>,
  now: Date,
): Promise<void> {
  if (tainted.size === 0) return;
  const nodeOf = new Map(verdict.actions.map((a) => [`${a.pod.namespace}/${a.pod.name}`, a.pod.node]));
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  for (const t of taken) {
    const node = nodeOf.get(`${t.namespace}/${t.pod}`);
    if (!t.quarantine || !node || !tainted.has(node) || (t.outcome !== 'done' && t.outcome !== 'already')) continue;
    if (t.role !== 'primary') continue;
    const path = objectPath(res, t.quarantine, t.namespace);
    const q = await deps.client.request<Quarantine>({ method: 'GET', path });
    if (q.spec.actions?.some((a) => a.type === 'TaintNode')) continue;
    await deps.client.request({
      method: 'PATCH',
      path,
      contentType: 'application/merge-patch+json',
      body: {
        spec: {
          actions: [
            ...(q.spec.actions ?? []),
            { type: 'TaintNode', time: now.toISOString(), detail: `${node} ${NODE_TAINT_KEY}:NoSchedule` },
          ],
        },
      },
    });
  }
}
