import { backoffDelay, type BackoffOptions } from '../core/backoff.js';

export interface DrainSchedulerOptions {
  /** One drain cycle; a throw counts as a failure. */
  cycle: () => Promise<void>;
  /** Time between cycles while they succeed. */
  intervalMs: number;
  /** After failures: capped, jittered backoff on top of RETRY_FLOOR_MS. */
  backoff?: BackoffOptions;
  onError: (err: unknown, failures: number) => void;
}

export const DRAIN_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 30_000 };
/** A failed cycle is never retried sooner than this, however the jitter falls. */
export const RETRY_FLOOR_MS = 500;

/** How long after a cycle the next one runs: the interval, or backoff while cycles fail. */
export function nextDrainDelay(failures: number, intervalMs: number, backoff: BackoffOptions = DRAIN_BACKOFF): number {
  return failures > 0 ? backoffDelay(failures, backoff) + RETRY_FLOOR_MS : intervalMs;
}

/**
 * Runs the audit outbox drain on a timer: one cycle at a time (a cycle asked for while one
 * runs joins it), every `intervalMs` while cycles succeed, with growing delays while they
 * fail (records stay Pending in the cluster meanwhile, so nothing is lost), and sooner on
 * request (right after a verdict, so its record is pushed at once).
 */
export class DrainScheduler {
  private stopped = false;
  private failures = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: DrainSchedulerOptions) {}

  /** The first cycle now, then on the timer. */
  start(): void {
    this.soon(0);
  }

  /** Runs a cycle now, or joins the one in flight; never rejects. */
  runNow(): Promise<void> {
    return (this.running ??= this.opts
      .cycle()
      .then(() => {
        this.failures = 0;
      })
      .catch((err: unknown) => {
        this.failures++;
        this.opts.onError(err, this.failures);
      })
      .finally(() => {
        this.running = undefined;
      }));
  }

  /** Moves the next cycle to `ms` from now (earlier or later than planned). */
  soon(ms: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.soon(nextDrainDelay(this.failures, this.opts.intervalMs, this.opts.backoff)));
    }, ms);
  }

  /** No cycle starts after this; resolves when the one in flight has finished. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.running ?? Promise.resolve();
  }
}
