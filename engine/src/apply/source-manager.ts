import { join } from 'node:path';
import { GROUP, PLURAL, VERSION, type PolicySource } from '../core/api/index.js';
import { backoffDelay } from '../core/backoff.js';
import { parseDuration } from '../core/duration.js';
import { BulkheadError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isNotFound, type KubeClient } from '../core/kube/client.js';
import { watchResource, type WatchedResource } from '../core/kube/informer.js';
import type { KubeMetrics } from '../core/kube/metrics.js';
import {
  Coalescer,
  credentialsFromSecretData,
  GitSource,
  NO_CREDENTIALS,
  type Artifact,
  type GitRef,
} from '../source/index.js';
import type { SyncMetrics } from './metrics.js';
import type { SyncOutcome, PolicySourceReconciler } from './reconciler.js';

export interface SourceManagerOptions {
  client: KubeClient;
  reconciler: PolicySourceReconciler;
  logger: Logger;
  metrics?: SyncMetrics;
  kubeMetrics?: KubeMetrics;
  /** Where Secrets named by secretRef live: the engine's namespace. */
  engineNamespace: string;
  cacheDir: string;
  gitEnv: { path: string; home: string };
  /** Floor for spec.interval, so a PolicySource cannot make the engine hammer a git server. */
  minIntervalMs: number;
  /** Cap on how many PolicySources one engine serves (every loop has a bound). */
  maxSources?: number;
}

/** guard: the GitOps guard's webhook configuration was deleted and is back (ADR 1412). */
type Trigger = 'poll' | 'webhook' | 'watch' | 'start' | 'guard';

interface Worker {
  source: PolicySource;
  git: GitSource;
  coalescer: Coalescer<SyncOutcome>;
  timer?: NodeJS.Timeout;
  failures: number;
  lastGeneration?: number;
  firstDone: boolean;
}

/** The files that decide whether a revision is work: policies and repo settings, not records/. */
export const CONTENT_PATHS = ['policies', 'bulkhead.yaml'];

export function gitRefOf(s: PolicySource): GitRef {
  const r = s.spec.ref ?? {};
  if (r.commit) return { commit: r.commit };
  if (r.tag) return { tag: r.tag };
  return { branch: r.branch ?? 'main' };
}

/**
 * Runs one worker per PolicySource while this engine leads: polls on spec.interval (with
 * backoff on transient failures), and syncs at once on a push webhook or a spec change.
 * Triggers for one source coalesce (one fetch in flight, at most one queued). When `signal`
 * aborts (leadership lost, shutdown), every timer stops and no new write starts.
 */
export class SourceManager {
  private readonly workers = new Map<string, Worker>();
  private watch: WatchedResource<PolicySource> | undefined;
  private signal: AbortSignal = AbortSignal.abort();

  constructor(private readonly o: SourceManagerOptions) {}

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    this.watch = watchResource<PolicySource>({
      client: this.o.client,
      path: `/apis/${GROUP}/${VERSION}/${PLURAL.PolicySource}`,
      resource: PLURAL.PolicySource,
      logger: this.o.logger,
      ...(this.o.kubeMetrics ? { metrics: this.o.kubeMetrics } : {}),
      onEvent: (ev, obj) => (ev === 'delete' ? this.remove(obj.metadata.name!) : this.upsert(obj)),
    });
    signal.addEventListener('abort', () => void this.stop(), { once: true });
    await this.watch.synced;
  }

  /** True once every known source has finished one reconcile (readiness). */
  initialSyncDone(): boolean {
    return [...this.workers.values()].every((w) => w.firstDone);
  }

  sources(): string[] {
    return [...this.workers.keys()];
  }

  /** A push webhook or a CLI asks for a sync now. Undefined when no such source is served. */
  trigger(name: string, why: Trigger): Promise<SyncOutcome> | undefined {
    const w = this.workers.get(name);
    if (!w || this.signal.aborted) return undefined;
    this.o.metrics?.triggers.inc({ source: name, trigger: why });
    const before = w.coalescer.stats();
    const p = w.coalescer.trigger();
    const after = w.coalescer.stats();
    if (after.runs === before.runs) this.o.metrics?.coalesced.inc({ source: name });
    return p;
  }

  async stop(): Promise<void> {
    for (const w of this.workers.values()) clearTimeout(w.timer);
    this.workers.clear();
    await this.watch?.stop();
  }

  private upsert(s: PolicySource): void {
    if (this.signal.aborted) return;
    const name = s.metadata.name!;
    let w = this.workers.get(name);
    if (!w) {
      if (this.workers.size >= (this.o.maxSources ?? 100)) {
        this.o.logger.error({ source: name }, 'too many PolicySources for one engine; ignoring this one');
        return;
      }
      const git = new GitSource({ cacheDir: join(this.o.cacheDir, name), logger: this.o.logger, env: this.o.gitEnv });
      const worker: Worker = {
        source: s,
        git,
        failures: 0,
        firstDone: false,
        coalescer: new Coalescer(() => this.run(worker)),
      };
      w = worker;
      this.workers.set(name, w);
      void this.trigger(name, 'start');
      return;
    }
    w.source = s;
    // A spec change (generation) syncs at once; a status-only update (our own write) does not.
    if (s.metadata.generation !== w.lastGeneration) void this.trigger(name, 'watch');
  }

  private remove(name: string): void {
    const w = this.workers.get(name);
    if (!w) return;
    clearTimeout(w.timer);
    this.workers.delete(name);
    this.o.reconciler.forget(name);
    void w.git.remove();
  }

  private async run(w: Worker): Promise<SyncOutcome> {
    const name = w.source.metadata.name!;
    clearTimeout(w.timer);
    w.lastGeneration = w.source.metadata.generation;
    let outcome: SyncOutcome;
    if (w.source.spec.suspend) {
      outcome = { result: 'Failed', kind: 'Waiting', reason: 'Suspended', message: 'spec.suspend is true' };
    } else {
      try {
        outcome = await this.o.reconciler.reconcile(w.source, this.signal);
      } catch (err) {
        // The reconciler reports through outcomes; this is the last guard so a bug in a step
        // never becomes an unhandled rejection that ends the process.
        outcome = {
          result: 'Failed',
          kind: 'Transient',
          reason: 'ReconcileFailed',
          message: errorMessage(err),
        };
      }
    }
    w.firstDone = true;
    const transient = outcome.result === 'Failed' && outcome.kind !== 'Stalled';
    w.failures = transient ? w.failures + 1 : 0;
    if (!this.signal.aborted && this.workers.get(name) === w) {
      const interval = Math.max(this.o.minIntervalMs, safeDuration(w.source.spec.interval, 60_000));
      const delay = transient
        ? Math.min(interval, Math.max(500, backoffDelay(w.failures, { baseMs: 1000, capMs: interval })))
        : interval;
      w.timer = setTimeout(() => void this.trigger(name, 'poll'), delay);
    }
    this.o.logger.info(
      {
        source: name,
        result: outcome.result,
        revision: 'artifact' in outcome ? outcome.artifact?.revision : undefined,
        ...(outcome.result === 'Failed' ? { reason: outcome.reason, error: outcome.message } : {}),
      },
      'reconciled',
    );
    return outcome;
  }

  /** Fetches a source's artifact: credentials from its Secret (read each time: rotation works). */
  async fetchArtifact(s: PolicySource): Promise<Artifact> {
    const w = this.workers.get(s.metadata.name!);
    if (!w)
      throw new BulkheadError({
        kind: 'Waiting',
        code: 'BH_SOURCE_GONE',
        reason: 'SourceRemoved',
        message: 'the PolicySource was removed',
      });
    let creds = NO_CREDENTIALS;
    if (s.spec.secretRef?.name) {
      const secret = await this.o.client
        .request<{ data?: Record<string, string> }>({
          method: 'GET',
          path: `/api/v1/namespaces/${this.o.engineNamespace}/secrets/${encodeURIComponent(s.spec.secretRef.name)}`,
        })
        .catch((err: unknown) => {
          if (isNotFound(err)) {
            throw new BulkheadError({
              kind: 'Transient',
              code: 'BH_SOURCE_SECRET_NOT_FOUND',
              reason: 'SecretNotFound',
              message: `secret ${this.o.engineNamespace}/${s.spec.secretRef!.name} not found`,
            });
          }
          throw err;
        });
      creds = credentialsFromSecretData(secret.data);
    }
    return w.git.fetch(
      { url: s.spec.url, ref: gitRefOf(s), path: s.spec.path ?? '.', contentPaths: CONTENT_PATHS },
      creds,
    );
  }
}

function safeDuration(text: string | undefined, fallback: number): number {
  if (!text) return fallback;
  try {
    return parseDuration(text);
  } catch {
    return fallback;
  }
}
