import type { Logger } from '../core/logger.js';
import { listQuarantines } from './cluster-facts.js';
import { resumePending, type QuarantineDeps } from './executor.js';

/**
 * The first step of every leader cycle: on becoming leader, the quarantines a previous leader
 * left half-done (a crash between the Quarantine CR and the isolation) are finished first,
 * once per leadership term. A resume that fails is tried again on the next cycle; losing the
 * lead arms it again for the next term.
 */
export class LeaderResume {
  private resumed = false;

  constructor(
    private readonly opts: {
      logger: Logger;
      /** Finishes the pending quarantines; returns how many. */
      resume: () => Promise<number>;
    },
  ) {}

  /** false when this replica does not lead: the cycle stops there. */
  async step(isLeader: boolean): Promise<boolean> {
    if (!isLeader) {
      this.resumed = false;
      return false;
    }
    if (!this.resumed) {
      const n = await this.opts.resume();
      if (n > 0) this.opts.logger.info({ resumed: n }, 'finished quarantines a previous leader left half-done');
      this.resumed = true;
    }
    return true;
  }
}

/** What a new leader resumes: every pending Quarantine in the cluster. */
export const resumeFromCluster = (deps: QuarantineDeps) => async (): Promise<number> =>
  resumePending(deps, await listQuarantines(deps.client, deps.resolver));
