import { API_VERSION, KIND, type PolicySource } from '../core/api/index.js';
import { isBulkheadError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { serverSideApply } from '../core/kube/apply.js';
import type { KubeClient } from '../core/kube/client.js';
import type { EventRecorder } from '../core/kube/events.js';
import type { KubeObject, ResourceResolver } from '../core/kube/resources.js';
import type { Artifact } from '../source/index.js';
import { computePlan, desiredObjects, hasChanges, listLive } from '../plan/index.js';
import { executePlan, type ApplyResult } from './applier.js';
import type { SyncMetrics } from './metrics.js';
import type { Diagnostic } from '../policy/index.js';
import type { SyncOutcome, PolicyLoader } from './outcome.js';
import { summarizeOutcome } from './status.js';

export type { SyncOutcome, PolicyLoader } from './outcome.js';

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

interface SourceState {
  key?: string;
  /** The content key of a rejected revision and why: re-polling it is no reload. */
  rejected?: { key: string; diagnostics: Diagnostic[] };
  desired?: KubeObject[];
  policies?: number;
  /**
   * The status this process last wrote (or found current). The informer's copy of the
   * PolicySource can lag our own write by a moment; comparing against it would rewrite the
   * same status and repeat the Event. Forgotten when leadership is lost.
   */
  status?: PolicySource['status'];
  statusOf?: string;
}

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

  /** Another process may write while we do not lead: start from the cluster's view again. */
  forgetAll(): void {
    this.state.clear();
  }

  async reconcile(source: PolicySource, signal: AbortSignal): Promise<SyncOutcome> {
    const name = source.metadata.name!;
    const end = this.deps.metrics?.reconcileDuration.startTimer({ source: name });
    const outcome = await this.steps(source, signal);
    end?.({ result: outcome.result });
    if (!signal.aborted) await this.summarize(source, outcome);
    return outcome;
  }

  private async steps(source: PolicySource, signal: AbortSignal): Promise<SyncOutcome> {
    const name = source.metadata.name!;
    const st = this.state.get(name) ?? {};
    this.state.set(name, st);
    let artifact: Artifact | undefined;
    try {
      // 1. fetch
      artifact = await this.deps.fetch(source, signal);
      // 2. load + validate (skipped when the content and the spec are what we loaded last)
      const key = `${artifact.pathTree}|${source.metadata.generation ?? 0}|${source.metadata.uid ?? ''}`;
      if (st.rejected?.key === key)
        return { result: 'ValidationFailed', artifact, diagnostics: st.rejected.diagnostics };
      if (st.key !== key || !st.desired) {
        const loaded = await this.deps.loadPolicies(artifact.dir);
        const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
        if (errors.length > 0) {
          st.rejected = { key, diagnostics: errors };
          return { result: 'ValidationFailed', artifact, diagnostics: errors };
        }
        delete st.rejected;
        st.desired = desiredObjects(loaded.policies, {
          name,
          ...(source.metadata.uid ? { uid: source.metadata.uid } : {}),
          ...(source.spec.url ? { url: source.spec.url } : {}),
          ...(loaded.settings?.defaults?.mode ? { defaultMode: loaded.settings.defaults.mode } : {}),
        });
        st.policies = loaded.policies.length;
        st.key = key;
      }
      // 3. plan against what is live now
      const live = await listLive(this.deps.client, this.deps.resolver);
      const plan = computePlan(st.desired, live, name);
      if (!hasChanges(plan)) return { result: 'NoChange', artifact, policies: st.policies ?? 0 };
      // 4. apply + prune
      const apply = await executePlan(this.deps.client, this.deps.resolver, plan, {
        forceConflicts: this.deps.forceConflicts,
        signal,
        logger: this.deps.logger,
      });
      this.count(name, apply);
      if (apply.conflicts.length > 0 || apply.failed.length > 0)
        return { result: 'ApplyIncomplete', artifact, policies: st.policies ?? 0, apply };
      return { result: 'Applied', artifact, policies: st.policies ?? 0, apply };
    } catch (err) {
      const e = isBulkheadError(err)
        ? { kind: err.kind, reason: err.reason, message: err.message }
        : {
            kind: 'Transient' as const,
            reason: 'ReconcileFailed',
            message: errorMessage(err),
          };
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
  private async summarize(source: PolicySource, o: SyncOutcome): Promise<void> {
    // A local folder source (`bulkhead run --dir`) has no PolicySource object to report on.
    if (!source.metadata.uid) return;
    const now = (this.deps.now ?? (() => new Date()))();
    const st = this.state.get(source.metadata.name!) ?? {};
    const known =
      st.status && st.statusOf === source.metadata.uid && source.metadata.generation === st.status.observedGeneration
        ? { ...source, status: st.status }
        : source;
    const { status, event, changed } = summarizeOutcome(known, o, now, this.maxDiagnostics);
    if (o.result === 'Applied' || o.result === 'NoChange')
      this.deps.metrics?.policies.set({ source: source.metadata.name! }, o.policies);
    if (o.result === 'Applied')
      this.deps.metrics?.lastAppliedTimestamp.set({ source: source.metadata.name! }, now.getTime() / 1000);
    if (!changed) {
      st.status = status;
      st.statusOf = source.metadata.uid;
    }
    if (changed) {
      const body: KubeObject = {
        apiVersion: API_VERSION,
        kind: KIND.PolicySource,
        metadata: { name: source.metadata.name! },
        status,
      };
      try {
        await serverSideApply(this.deps.client, this.deps.resolver, body, { subresource: 'status', force: true });
        st.status = status;
        st.statusOf = source.metadata.uid;
      } catch (err) {
        this.deps.logger.warn({ source: source.metadata.name, err: errorMessage(err) }, 'status write failed');
      }
    }
    if (event) {
      await this.deps.events.emit(
        {
          apiVersion: API_VERSION,
          kind: KIND.PolicySource,
          name: source.metadata.name!,
          ...(source.metadata.uid ? { uid: source.metadata.uid } : {}),
        },
        event.type,
        event.reason,
        event.message,
      );
    }
  }
}
