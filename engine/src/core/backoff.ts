/**
 * Exponential backoff with full jitter (AWS architecture blog's "full jitter"): the delay is
 * uniform in [0, min(cap, base * 2^attempt)], which spreads retries of many clients apart.
 * `random` is injectable so tests are deterministic.
 */
export interface BackoffOptions {
  baseMs: number;
  capMs: number;
  random?: () => number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor((opts.random ?? Math.random)() * ceiling);
}

/** Resolves after `ms`, or at once with the abort when `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    if (signal?.aborted) return ok();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      ok();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
