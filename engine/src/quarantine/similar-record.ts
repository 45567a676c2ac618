import { API_VERSION, KIND, type Quarantine } from '../core/api/index.js';
import { objectPath } from '../core/kube/resources.js';
import type { Verdict } from '../analytics/index.js';
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

type Step = NonNullable<Quarantine['spec']['actions']>[number];
const MAX_STEPS = 16; // the schema's bound on spec.actions

const STEP: Record<'Isolate' | 'Restart' | 'Alert', Step['type']> = {
  Isolate: 'SimilarIsolate',
  Restart: 'SimilarRestart',
  Alert: 'SimilarAlert',
};

/**
 * The steps a failing pod's record gains for the siblings tied to it (pure): one per sibling,
 * "namespace/pod: outcome", skipping siblings it already names (a repeated verdict), within the
 * schema's 16 steps (the last one then counts the rest).
 */
export function similarSteps(existing: readonly Step[], siblings: readonly TakenAction[], now: Date): Step[] {
  const named = new Set(existing.map((s) => s.detail?.split(':')[0]));
  const fresh = siblings.filter((s) => !named.has(`${s.namespace}/${s.pod}`) && s.action !== 'Quarantine');
  const room = MAX_STEPS - existing.length;
  if (fresh.length === 0 || room <= 0) return [];
  const time = now.toISOString();
  const step = (s: TakenAction): Step => ({
    type: STEP[s.action as keyof typeof STEP],
    time,
    detail:
      `${s.namespace}/${s.pod}: ${s.outcome}${s.quarantine ? ` (Quarantine ${s.quarantine})` : ''}${s.detail ? `, ${s.detail}` : ''}`.slice(
        0,
        1024,
      ),
  });
  if (fresh.length <= room) return fresh.map(step);
  const shown = fresh.slice(0, room - 1).map(step);
  const rest = fresh.slice(room - 1);
  return [
    ...shown,
    {
      type: STEP[rest[0]!.action as keyof typeof STEP],
      time,
      detail:
        `and ${rest.length} more similar pods: ${rest.map((s) => `${s.namespace}/${s.pod} ${s.action} ${s.outcome}`).join(', ')}`.slice(
          0,
          1024,
        ),
    },
  ];
}

/**
 * One decision, one record: what was done to the siblings of a failing pod goes into the
 * failing pod's Quarantine (its git record), before the outbox may write it (the pipeline
 * holds the drain while a verdict runs). A sibling that was isolated also has its own
 * Quarantine CR, but it points at this record (same recordPath) and is released with it.
 */
export async function recordSimilar(
  deps: Deps,
  verdict: Verdict,
  taken: readonly TakenAction[],
  now: Date,
): Promise<void> {
  const siblings = taken.filter((t) => t.role === 'similar');
  if (siblings.length === 0) return;
  const twinOf = new Map(
    verdict.actions.flatMap((a) => (a.similarTo ? [[`${a.pod.namespace}/${a.pod.name}`, a.similarTo] as const] : [])),
  );
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  for (const primary of taken) {
    if (primary.role !== 'primary' || !primary.quarantine || primary.outcome === 'failed' || primary.outcome === 'gone')
      continue;
    const mine = siblings.filter((s) => {
      const twin = twinOf.get(`${s.namespace}/${s.pod}`);
      return twin?.namespace === primary.namespace && twin.name === primary.pod;
    });
    if (mine.length === 0) continue;
    const path = objectPath(res, primary.quarantine, primary.namespace);
    const q = await deps.client.request<Quarantine>({ method: 'GET', path });
    const steps = similarSteps(q.spec.actions ?? [], mine, now);
    if (steps.length === 0) continue;
    await deps.client.request({
      method: 'PATCH',
      path,
      contentType: 'application/merge-patch+json',
      body: { spec: { actions: [...(q.spec.actions ?? []), ...steps] } },
    });
  }
}
