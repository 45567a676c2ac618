import { API_VERSION, findCondition, KIND, setCondition, type Condition, type Quarantine } from '../core/api/index.js';
import { serverSideApply } from '../core/kube/apply.js';
import type { KubeClient } from '../core/kube/client.js';
import { objectPath, type ResourceResolver } from '../core/kube/resources.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/**
 * Whether records reach git, as a condition on each waiting Quarantine and on the PolicySource
 * the records target comes from. A push the remote refuses (a protected branch) would otherwise
 * leave quarantines "audit Pending" with nothing saying why or what to do.
 */
export const RECORDS_PUSHED = 'RecordsPushed';

/** The audit loop's own field manager: the sync owns the PolicySource's other conditions. */
export const AUDIT_FIELD_MANAGER = 'bulkhead-audit';

export type PushState = { pushed: true; message: string } | { pushed: false; reason: string; message: string };

const conditionOf = (s: PushState) =>
  s.pushed
    ? { type: RECORDS_PUSHED, status: 'True' as const, reason: 'Pushed', message: s.message }
    : { type: RECORDS_PUSHED, status: 'False' as const, reason: s.reason, message: s.message.slice(0, 1024) };

/** A copy of the Quarantine with the RecordsPushed condition set (pure). */
export function withPushCondition(q: Quarantine, s: PushState, now: Date): Quarantine {
  return { ...q, status: { ...q.status, conditions: setCondition(q.status?.conditions, conditionOf(s), now) } };
}

/** Whether writing `s` would change the condition the object already has. */
export function pushConditionChanges(current: readonly Condition[] | undefined, s: PushState): boolean {
  const c = findCondition(current ? [...current] : undefined, RECORDS_PUSHED);
  const next = conditionOf(s);
  return !c || c.status !== next.status || c.reason !== next.reason || c.message !== next.message;
}

/**
 * Marks Quarantines whose record could not be pushed (merge patch of the status conditions,
 * which carries every condition they have). Only those whose condition changes are written, so
 * a retry every backoff step costs nothing.
 */
export async function markPushRefused(
  deps: { client: KubeClient; resolver: ResourceResolver; now: () => Date; logger: Logger },
  batch: readonly Quarantine[],
  state: Extract<PushState, { pushed: false }>,
): Promise<void> {
  const res = await deps.resolver.resolve(API_VERSION, KIND.Quarantine);
  for (const q of batch) {
    if (!pushConditionChanges(q.status?.conditions, state)) continue;
    const conditions = withPushCondition(q, state, deps.now()).status!.conditions;
    await deps.client
      .request({
        method: 'PATCH',
        path: `${objectPath(res, q.metadata.name!, q.metadata.namespace)}/status`,
        contentType: 'application/merge-patch+json',
        body: { status: { conditions } },
      })
      .catch((err: unknown) =>
        deps.logger.warn(
          { err: errorMessage(err), quarantine: q.metadata.name },
          'could not mark the record as refused',
        ),
      );
  }
}

/**
 * The RecordsPushed condition of the PolicySource records go to, written by server-side apply
 * under the audit's own field manager (the sync's summarizer owns Ready/Reconciling/Stalled
 * and leaves this entry alone). Written on a change only; the leader's first outcome after it
 * takes over is written once, then only transitions.
 */
export class SourcePushStatus {
  /** What was last written per source, and when: rewritten after REWRITE_MS even if unchanged,
   * so a leader that lost and regained leadership (another wrote meanwhile) converges. */
  private last = new Map<string, { key: string; at: number }>();
  static readonly REWRITE_MS = 5 * 60_000;

  constructor(
    private readonly deps: { client: KubeClient; resolver: ResourceResolver; now: () => Date; logger: Logger },
  ) {}

  async report(source: string | undefined, state: PushState): Promise<void> {
    if (!source) return; // --records-repo: no PolicySource to report on; the Quarantines say it
    const cond = conditionOf(state);
    const key = `${cond.status}|${cond.reason}|${state.pushed ? '' : cond.message}`;
    const prev = this.last.get(source);
    const now = this.deps.now().getTime();
    if (prev?.key === key && now - prev.at < SourcePushStatus.REWRITE_MS) return;
    try {
      await serverSideApply(
        this.deps.client,
        this.deps.resolver,
        {
          apiVersion: API_VERSION,
          kind: KIND.PolicySource,
          metadata: { name: source },
          status: { conditions: setCondition(undefined, cond, this.deps.now()) },
        },
        { subresource: 'status', force: true, fieldManager: AUDIT_FIELD_MANAGER },
      );
      this.last.delete(source);
      this.last.set(source, { key, at: now });
      if (this.last.size > 64) this.last.delete(this.last.keys().next().value as string);
    } catch (err) {
      this.deps.logger.warn(
        { err: errorMessage(err), source },
        'could not report the records push on the PolicySource',
      );
    }
  }
}
