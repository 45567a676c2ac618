import { API_VERSION, KIND, type PolicySource } from '../core/api/index.js';
import type { Logger } from '../core/logger.js';
import { Coalescer, DirSource, type Artifact } from '../source/index.js';
import type { SyncOutcome, PolicySourceReconciler } from './reconciler.js';

/**
 * `bulkhead run --dir <folder>`, for development: the folder (a policy repository checkout)
 * is a source of its own, re-applied on every save (chokidar, debounced, coalesced). It goes
 * through the same reconciler as git sources; there is no PolicySource object, so outcomes
 * are logged instead of written to a status.
 */
export class LocalDirRunner {
  private readonly dir: DirSource;
  private readonly coalescer: Coalescer<SyncOutcome>;
  private readonly source: PolicySource;
  private signal: AbortSignal = AbortSignal.abort();
  private done = false;

  constructor(
    folder: string,
    readonly sourceName: string,
    private readonly reconciler: PolicySourceReconciler,
    private readonly logger: Logger,
  ) {
    this.dir = new DirSource(folder);
    this.source = {
      apiVersion: API_VERSION,
      kind: KIND.PolicySource,
      metadata: { name: sourceName, generation: 1 },
      spec: { url: `file://${folder}` },
    };
    this.coalescer = new Coalescer(async () => {
      const o = await this.reconciler.reconcile(this.source, this.signal);
      this.done = true;
      this.logger.info(
        {
          source: sourceName,
          result: o.result,
          ...(o.result === 'ValidationFailed' ? { diagnostics: o.diagnostics.slice(0, 20) } : {}),
          ...(o.result === 'Failed' ? { reason: o.reason, error: o.message } : {}),
        },
        'reconciled local folder',
      );
      return o;
    });
  }

  fetch(): Promise<Artifact> {
    return this.dir.snapshot();
  }

  initialSyncDone(): boolean {
    return this.done;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    signal.addEventListener('abort', () => void this.dir.close(), { once: true });
    await this.dir.watch(() => void this.coalescer.trigger().catch(() => {}));
    void this.coalescer.trigger().catch(() => {});
  }
}
