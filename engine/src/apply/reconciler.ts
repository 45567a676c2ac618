import { API_VERSION, KIND, type PolicySource } from '../core/api/index.js';
import type { Condition } from '../core/api/index.js';
import { isBulkheadError, type ErrorKind } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { serverSideApply } from '../core/kube/apply.js';
import type { KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { KubeObject, ResourceResolver } from '../core/kube/resources.js';
import type { Artifact } from '../source/index.js';
import { computePlan, desiredObjects, hasChanges, listLive, type LoadedPolicy } from '../plan/index.js';
import { executePlan, type ApplyResult } from './applier.js';
import { findCondition, setCondition } from './conditions.js';
import type { SyncMetrics } from './metrics.js';

/** What the policy stage's loader reports (its contract: loadPolicyDir). */
export interface Diagnostic {
  severity: 'error' | 'warning';
  code: string;
  message: string;
  hint?: string;
  file: string;
  line: number;
  column: number;
}
export type PolicyLoader = (dir: string) => Promise<{ policies: LoadedPolicy[]; diagnostics: Diagnostic[] }>;

export interface ReconcilerDeps {
  client: KubeClient;
  resolver: ResourceResolver;
  logger: Logger;
  events: EventRecorder;
  metrics?: SyncMetrics;
  loadPolicies: PolicyLoader;
  fetch: (source: PolicySource, signal: AbortSignal) => Promise<Artifact>;
  forceConflicts: boolean;
  maxDiagnostics?: number;
  now?: () => Date;
}

/** How a reconcile ended: the summarizer turns this, and only this, into status and Events. */
export type Outcome =
  | { result: 'Applied' | 'NoChange'; artifact: Artifact; policies: number; apply?: ApplyResult }
  | { result: 'ValidationFailed'; artifact: Artifact; diagnostics: Diagnostic[] }
  | { result: 'ApplyIncomplete'; artifact: Artifact; policies: number; apply: ApplyResult }
  | { result: 'Failed'; artifact?: Artifact; kind: ErrorKind; reason: string; message: string };

interface SourceState {
  key?: string;
  /** The content key of a rejected revision and why: re-polling it is no reload. */
  rejected?: { key: string; diagnostics: Diagnostic[] };
  desired?: KubeObject[];
  policies?: number;
}

const ref = (s: PolicySource): string => {
  const r = s.spec.ref ?? {};
  return r.commit ? r.commit.slice(0, 12) : r.tag ? r.tag : (r.branch ?? 'main');
};
const short = (rev: string): string => (rev.startsWith('sha256:') ? rev.slice(0, 19) : rev.slice(0, 12));

/**
 * The PolicySource reconciler: ordered steps (fetch → load/validate → plan → apply), each
 * returning or throwing a typed result, then one summarizer that alone writes status and
 * Events. Same content (tree of the policy paths) and same generation → no load and no
 * writes; a LIST of the live objects still runs, so drift is seen on every sync.
 */
export class PolicySourceReconciler {
  private readonly state = new Map<string, SourceState>();
  private readonly maxDiagnostics: number;

  constructor(private readonly deps: ReconcilerDeps) {
    this.maxDiagnostics = deps.maxDiagnostics ?? 50;
  }

  forget(name: string): void {
    this.state.delete(name);
  }

  async reconcile(source: PolicySource, signal: AbortSignal): Promise<Outcome> {
    const name = source.metadata.name!;
    const end = this.deps.metrics?.reconcileDuration.startTimer({ source: name });
    const outcome = await this.steps(source, signal);
    end?.({ result: outcome.result });
    if (!signal.aborted) await this.summarize(source, outcome);
    return outcome;
  }

  private async steps(source: PolicySource, signal: AbortSignal): Promise<Outcome> {
    const name = source.metadata.name!;
    const st = this.state.get(name) ?? {};
    this.state.set(name, st);
    let artifact: Artifact | undefined;
    try {
      // 1. fetch
      artifact = await this.deps.fetch(source, signal);
      // 2. load + validate (skipped when the content and the spec are what we loaded last)
      const key = `${artifact.pathTree}|${source.metadata.generation ?? 0}`;
      if (st.rejected?.key === key) return { result: 'ValidationFailed', artifact, diagnostics: st.rejected.diagnostics };
      if (st.key !== key || !st.desired) {
        const loaded = await this.deps.loadPolicies(artifact.dir);
        const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
        if (errors.length > 0) {
          st.rejected = { key, diagnostics: errors };
          return { result: 'ValidationFailed', artifact, diagnostics: errors };
        }
        delete st.rejected;
        st.desired = desiredObjects(loaded.policies, name);
        st.policies = loaded.policies.length;
        st.key = key;
      }
      // 3. plan against what is live now
      const live = await listLive(this.deps.client, this.deps.resolver);
      const plan = computePlan(st.desired, live, name);
      if (!hasChanges(plan)) return { result: 'NoChange', artifact, policies: st.policies ?? 0 };
      // 4. apply + prune
      const apply = await executePlan(this.deps.client, this.deps.resolver, plan, { forceConflicts: this.deps.forceConflicts, signal, logger: this.deps.logger });
      this.count(name, apply);
      if (apply.conflicts.length > 0 || apply.failed.length > 0) return { result: 'ApplyIncomplete', artifact, policies: st.policies ?? 0, apply };
      return { result: 'Applied', artifact, policies: st.policies ?? 0, apply };
    } catch (err) {
      const e = isBulkheadError(err)
        ? { kind: err.kind, reason: err.reason, message: err.message }
        : { kind: 'Transient' as const, reason: 'ReconcileFailed', message: err instanceof Error ? err.message : String(err) };
      return { result: 'Failed', ...(artifact ? { artifact } : {}), ...e };
    }
  }

  private count(source: string, a: ApplyResult): void {
    const m = this.deps.metrics?.objectsApplied;
    if (!m) return;
    m.inc({ source, action: 'create' }, a.created.length);
    m.inc({ source, action: 'update' }, a.updated.length);
    m.inc({ source, action: 'prune' }, a.pruned.length);
    m.inc({ source, action: 'drift' }, a.driftCorrected.length);
    m.inc({ source, action: 'conflict' }, a.conflicts.length);
  }

  /** The one place that writes PolicySource status and Events. */
  private async summarize(source: PolicySource, o: Outcome): Promise<void> {
    // A local folder source (`bulkhead run --dir`) has no PolicySource object to report on.
    if (!source.metadata.uid) return;
    const now = (this.deps.now ?? (() => new Date()))();
    const gen = source.metadata.generation ?? 0;
    const prev = source.status ?? {};
    const status: NonNullable<PolicySource['status']> = { observedGeneration: gen };
    const at = o.artifact ? `${ref(source)}@${short(o.artifact.revision)}` : undefined;
    if (o.artifact) status.lastAttemptedRevision = o.artifact.revision;
    let lastApplied = prev.lastAppliedRevision;
    let policies = prev.policies;
    let ready: { status: Condition['status']; reason: string; message: string };
    let stalled = false;
    let retrying = false;
    let eventDetail = '';
    switch (o.result) {
      case 'Applied':
      case 'NoChange': {
        lastApplied = o.artifact.revision;
        policies = o.policies;
        const a = o.apply;
        const what = a ? ` (${a.created.length} created, ${a.updated.length} updated, ${a.pruned.length} pruned${a.driftCorrected.length ? `, ${a.driftCorrected.length} drift corrected` : ''})` : '';
        // The condition says what is in force (stable across no-op resyncs); the Event says what changed.
        ready = { status: 'True', reason: 'Applied', message: `Applied revision ${at}: ${o.policies} policies` };
        eventDetail = what;
        this.deps.metrics?.policies.set({ source: source.metadata.name! }, o.policies);
        this.deps.metrics?.lastAppliedTimestamp.set({ source: source.metadata.name! }, now.getTime() / 1000);
        break;
      }
      case 'ValidationFailed': {
        const d = o.diagnostics;
        status.validationErrors = d.slice(0, this.maxDiagnostics).map((x) => ({
          file: x.file.slice(0, 1024),
          line: Math.max(0, x.line),
          column: Math.max(0, x.column),
          code: x.code.slice(0, 64),
          message: x.message.slice(0, 1024),
        }));
        const first = d
          .slice(0, 3)
          .map((x) => `${x.file}:${x.line}:${x.column}: ${x.message}`)
          .join('; ');
        ready = {
          status: 'False',
          reason: 'ValidationFailed',
          message: `Revision ${at} rejected, ${d.length} error(s); still serving ${lastApplied ? short(lastApplied) : 'nothing'}: ${first}${d.length > 3 ? '; …' : ''}`,
        };
        stalled = true;
        break;
      }
      case 'ApplyIncomplete': {
        const a = o.apply;
        const c = a.conflicts.map((x) => `${x.name} is managed by ${x.managers.join(', ')}`);
        const f = a.failed.map((x) => `${x.name}: ${x.message}`);
        const conflict = a.conflicts.length > 0;
        ready = {
          status: 'False',
          reason: conflict ? 'ApplyConflict' : (a.failed[0]?.reason ?? 'ApplyFailed'),
          message: `Revision ${at}: ${[...c, ...f].slice(0, 5).join('; ')}${conflict ? ' (not forced; run with --force-conflicts to take ownership)' : ''}`,
        };
        stalled = conflict || a.failed.every((x) => x.kind === 'Stalled');
        retrying = !stalled;
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
    let conditions = setCondition(prev.conditions, { type: 'Ready', ...ready, observedGeneration: gen }, now);
    conditions = setCondition(
      conditions,
      retrying
        ? { type: 'Reconciling', status: 'True', reason: 'RetryingAfterError', message: 'retrying with backoff', observedGeneration: gen }
        : { type: 'Reconciling', status: 'False', reason: 'Done', message: 'reconcile finished', observedGeneration: gen },
      now,
    );
    conditions = setCondition(
      conditions,
      stalled
        ? { type: 'Stalled', status: 'True', reason: ready.reason, message: 'the source must change before this can succeed', observedGeneration: gen }
        : { type: 'Stalled', status: 'False', reason: 'NotStalled', message: 'progressing normally', observedGeneration: gen },
      now,
    );
    status.conditions = conditions;

    if (!sameStatus(prev, status)) {
      const body: KubeObject = { apiVersion: API_VERSION, kind: KIND.PolicySource, metadata: { name: source.metadata.name! }, status };
      try {
        await serverSideApply(this.deps.client, this.deps.resolver, body, { subresource: 'status', force: true });
      } catch (err) {
        this.deps.logger.warn({ source: source.metadata.name, err: err instanceof Error ? err.message : String(err) }, 'status write failed');
      }
    }
    // Events on transitions only: Ready changed status or reason, or a new revision was tried.
    const before = findCondition(prev.conditions, 'Ready');
    const transition = before?.status !== ready.status || before?.reason !== ready.reason || (o.artifact && prev.lastAttemptedRevision !== o.artifact.revision);
    if (transition && !(o.result === 'NoChange' && before?.status === 'True' && prev.lastAppliedRevision === lastApplied)) {
      await this.deps.events.emit(
        { apiVersion: API_VERSION, kind: KIND.PolicySource, name: source.metadata.name!, ...(source.metadata.uid ? { uid: source.metadata.uid } : {}) },
        ready.status === 'True' ? 'Normal' : 'Warning',
        ready.reason,
        `${ready.message}${eventDetail}`,
      );
    }
  }
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

function sameStatus(a: PolicySource['status'] | undefined, b: NonNullable<PolicySource['status']>): boolean {
  const byType = (s: PolicySource['status'] | undefined): unknown => ({ ...s, conditions: [...(s?.conditions ?? [])].sort((x, y) => x.type.localeCompare(y.type)) });
  return JSON.stringify(canonical(byType(a))) === JSON.stringify(canonical(byType(b)));
}
