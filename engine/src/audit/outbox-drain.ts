import type { AuditMetrics } from './metrics.js';
import { flushOutbox, releaseFromGit, type FlushResult, type OutboxDeps } from './outbox.js';
import { SourcePushStatus } from './push-conditions.js';
import { PUSH_REFUSED_CODE, type RecordsRepo } from './records-repo.js';
import { isBulkheadError } from '../core/errors.js';

export interface OutboxDrainOptions {
  deps: Omit<OutboxDeps, 'repo'>;
  /** The repository records go to this cycle; none yet → the records wait (audit Pending). */
  repo: () => Promise<RecordsRepo | undefined>;
  /** Releases (records removed in git, `releaseAfter` elapsed) are read at most this often. */
  releaseIntervalMs: number;
  metrics: AuditMetrics;
  /** The outbox operations; tests replace them. */
  flush?: (deps: OutboxDeps) => Promise<FlushResult>;
  release?: (deps: OutboxDeps) => Promise<{ released: string[] }>;
}

/**
 * One drain cycle, as the leader runs it: flush the outbox batch after batch until nothing is
 * waiting, then, at most every `releaseIntervalMs`, read git for released records. Returns the
 * cycle; the DrainScheduler runs it. Throws when git or the apiserver fails (the scheduler
 * backs off; the records stay Pending in the cluster).
 */
export function createOutboxDrain(opts: OutboxDrainOptions): () => Promise<void> {
  const { deps, metrics } = opts;
  const flush = opts.flush ?? ((d: OutboxDeps) => flushOutbox(d));
  const release = opts.release ?? releaseFromGit;
  const sourceStatus = new SourcePushStatus(deps);
  let lastRelease = 0;
  return async () => {
    const repo = await opts.repo();
    if (!repo) return;
    // Optional chaining: a test's stand-in repository may not say where it writes.
    const target = repo.target as RecordsRepo['target'] | undefined;
    for (;;) {
      let r: FlushResult;
      try {
        r = await flush({ ...deps, repo });
      } catch (err) {
        if (isBulkheadError(err) && err.code === PUSH_REFUSED_CODE)
          await sourceStatus.report(target?.source, { pushed: false, reason: err.reason, message: err.message });
        throw err;
      }
      if (r.committed + r.recovered > 0) {
        metrics.flushes.inc({ result: 'committed' });
        deps.logger.info({ committed: r.committed, recovered: r.recovered, commit: r.commit }, 'audit records pushed');
        if (target)
          await sourceStatus.report(target.source, {
            pushed: true,
            message: `records are pushed to branch ${target.branch}`,
          });
      }
      if (r.waiting === 0) break;
    }
    if (deps.now().getTime() - lastRelease >= opts.releaseIntervalMs) {
      lastRelease = deps.now().getTime();
      const { released } = await release({ ...deps, repo });
      if (released.length > 0) deps.logger.info({ released }, 'pods released from git');
    }
  };
}
