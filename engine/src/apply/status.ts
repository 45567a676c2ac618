import { findCondition, setCondition, type Condition, type PolicySource } from '../core/api/index.js';
import type { EventType } from '../core/kube/events.js';
import type { SyncOutcome } from './outcome.js';

type Status = NonNullable<PolicySource['status']>;

export interface Summary {
  status: Status;
  ready: { status: Condition['status']; reason: string; message: string };
  /** Set only on a transition: Ready changed status or reason, or a new revision was tried. */
  event?: { type: EventType; reason: string; message: string };
  /** Whether `status` differs from what the object has (no write when false). */
  changed: boolean;
}

const refOf = (s: PolicySource): string => {
  const r = s.spec.ref ?? {};
  return r.commit ? r.commit.slice(0, 12) : r.tag ? r.tag : (r.branch ?? 'main');
};
/**
 * The condition types the sync writes. Others on a PolicySource belong to other loops (the
 * audit's RecordsPushed, under its own field manager): the summarizer neither copies nor
 * compares them, so its server-side apply never takes or overwrites them.
 */
export const SYNC_CONDITIONS: readonly string[] = ['Ready', 'Reconciling', 'Stalled'];
const syncConditions = (s: PolicySource['status'] | undefined) =>
  (s?.conditions ?? []).filter((c) => SYNC_CONDITIONS.includes(c.type));

export const shortRevision = (rev: string): string => (rev.startsWith('sha256:') ? rev.slice(0, 19) : rev.slice(0, 12));

/**
 * The summarizer's logic (pure): one reconcile SyncOutcome → the PolicySource status (revisions,
 * Ready/Reconciling/Stalled, the diagnostics of a rejected revision capped at
 * `maxDiagnostics` entries of bounded size) and the Event to emit, if any.
 */
export function summarizeOutcome(source: PolicySource, o: SyncOutcome, now: Date, maxDiagnostics = 50): Summary {
  const gen = source.metadata.generation ?? 0;
  const prev = source.status ?? {};
  const status: Status = { observedGeneration: gen };
  const at = o.artifact ? `${refOf(source)}@${shortRevision(o.artifact.revision)}` : undefined;
  if (o.artifact) status.lastAttemptedRevision = o.artifact.revision;
  let lastApplied = prev.lastAppliedRevision;
  let policies = prev.policies;
  let ready: Summary['ready'];
  let stalled = false;
  let retrying = false;
  let waitingForOwners = false;
  let eventDetail = '';
  switch (o.result) {
    case 'Applied':
    case 'NoChange': {
      lastApplied = o.artifact.revision;
      policies = o.policies;
      const a = o.apply;
      // The condition says what is in force (stable across no-op resyncs); the Event says what changed.
      ready = { status: 'True', reason: 'Applied', message: `Applied revision ${at}: ${o.policies} policies` };
      eventDetail = a
        ? ` (${a.created.length} created, ${a.updated.length} updated, ${a.pruned.length} pruned${a.driftCorrected.length ? `, ${a.driftCorrected.length} drift corrected` : ''})`
        : '';
      break;
    }
    case 'ValidationFailed': {
      const d = o.diagnostics;
      status.validationErrors = d.slice(0, maxDiagnostics).map((x) => ({
        file: x.file.slice(0, 1024),
        line: Math.max(0, x.line),
        column: Math.max(0, x.column),
        code: x.code.slice(0, 64),
        message: x.message.slice(0, 1024),
      }));
      const first = d
        .slice(0, 3)
        .map((x) => `${x.file}:${x.line}:${x.column}: ${x.message.slice(0, 300)}`)
        .join('; ');
      ready = {
        status: 'False',
        reason: 'ValidationFailed',
        message: `Revision ${at} rejected, ${d.length} error(s)${d.length > maxDiagnostics ? ` (first ${maxDiagnostics} in status)` : ''}; still serving ${lastApplied ? shortRevision(lastApplied) : 'nothing'}: ${first}${d.length > 3 ? '; …' : ''}`,
      };
      stalled = true;
      break;
    }
    case 'ApplyIncomplete': {
      const a = o.apply;
      const c = a.conflicts.map((x) => `${x.name} is managed by ${x.managers.join(', ')}`);
      const f = a.failed.map((x) => `${x.name}: ${x.message.slice(0, 300)}`);
      const conflict = a.conflicts.length > 0;
      ready = {
        status: 'False',
        reason: conflict ? 'ApplyConflict' : (a.failed[0]?.reason ?? 'ApplyFailed'),
        message: `Revision ${at}: ${[...c, ...f].slice(0, 5).join('; ')}${c.length + f.length > 5 ? '; …' : ''}${conflict ? `. Not forced. To let Bulkhead apply: stop ${[...new Set(a.conflicts.flatMap((x) => x.managers))].join(', ')} from applying these objects (remove them from its source, or delete its Kustomization/Application with pruning off), then the next sync applies them; or run the engine with --force-conflicts to take ownership now; or run it with --apply=false and let that tool apply (docs/gitops.md, switching modes)` : ''}`,
      };
      // A conflict is not the source's fault: it resolves outside it (the other tool lets go),
      // and every interval retries, so it is Reconciling, never Stalled (ADR 1602).
      stalled = !conflict && a.failed.every((x) => x.kind === 'Stalled');
      retrying = !stalled;
      waitingForOwners = conflict;
      break;
    }
    case 'Failed':
      ready = { status: 'False', reason: o.reason, message: at ? `Revision ${at}: ${o.message}` : o.message };
      stalled = o.kind === 'Stalled';
      retrying = !stalled;
      break;
  }
  if (lastApplied) status.lastAppliedRevision = lastApplied;
  if (policies !== undefined) status.policies = policies;
  let conditions = setCondition(syncConditions(prev), { type: 'Ready', ...ready, observedGeneration: gen }, now);
  conditions = setCondition(
    conditions,
    retrying
      ? {
          type: 'Reconciling',
          status: 'True',
          reason: waitingForOwners ? 'WaitingForFieldOwners' : 'RetryingAfterError',
          message: waitingForOwners
            ? 'retried every interval until the other field manager lets go (or --force-conflicts)'
            : 'retrying with backoff',
          observedGeneration: gen,
        }
      : {
          type: 'Reconciling',
          status: 'False',
          reason: 'Done',
          message: 'reconcile finished',
          observedGeneration: gen,
        },
    now,
  );
  conditions = setCondition(
    conditions,
    stalled
      ? {
          type: 'Stalled',
          status: 'True',
          reason: ready.reason,
          message: 'the source must change before this can succeed',
          observedGeneration: gen,
        }
      : {
          type: 'Stalled',
          status: 'False',
          reason: 'NotStalled',
          message: 'progressing normally',
          observedGeneration: gen,
        },
    now,
  );
  status.conditions = conditions;

  const before = findCondition(prev.conditions, 'Ready');
  const newRevision = o.artifact !== undefined && prev.lastAttemptedRevision !== o.artifact.revision;
  // A new commit that changed nothing we apply (records/, README) is not worth an Event.
  const quiet = o.result === 'NoChange' && before?.status === 'True' && before.reason === 'Applied';
  const transition = !quiet && (before?.status !== ready.status || before?.reason !== ready.reason || newRevision);
  const summary: Summary = { status, ready, changed: !sameStatus(prev, status) };
  if (transition)
    summary.event = {
      type: ready.status === 'True' ? 'Normal' : 'Warning',
      reason: ready.reason,
      message: `${ready.message}${eventDetail}`,
    };
  return summary;
}

/** Canonical JSON (sorted keys, empty lists dropped), so a status equal in content is no write. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? undefined : v.map(canonical);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).sort()) {
    const c = canonical((v as Record<string, unknown>)[k]);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

export function sameStatus(a: PolicySource['status'] | undefined, b: Status): boolean {
  const byType = (s: PolicySource['status'] | undefined): unknown => ({
    ...s,
    conditions: syncConditions(s).sort((x, y) => x.type.localeCompare(y.type)),
  });
  return JSON.stringify(canonical(byType(a))) === JSON.stringify(canonical(byType(b)));
}
