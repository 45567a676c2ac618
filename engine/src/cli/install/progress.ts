import { BulkheadError, errorMessage } from '../../core/errors.js';

/**
 * The install/uninstall progress display: one line per finished step with its duration, and
 * indented detail lines while a step runs (`· 1/2 pods ready`). Plain lines, no cursor
 * control, so the output reads the same in a terminal, a CI log and a test.
 */
export class Progress {
  private readonly started = Date.now();
  constructor(
    private readonly write: (line: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  detail(text: string): void {
    this.write(`    · ${text}`);
  }

  /** Runs one step; prints `✓ <title> (1.2s)` with the summary it returns, or `✗ <title>` and rethrows. */
  async step<T>(title: string, fn: () => Promise<T>, summary?: (value: T) => string): Promise<T> {
    const t0 = this.now();
    try {
      const value = await fn();
      const s = summary?.(value);
      this.write(`  ✓ ${title}${s ? `: ${s}` : ''} (${seconds(this.now() - t0)})`);
      return value;
    } catch (err) {
      this.write(`  ✗ ${title} (${seconds(this.now() - t0)}): ${errorMessage(err)}`);
      throw err;
    }
  }

  total(): string {
    return seconds(this.now() - this.started);
  }
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

/**
 * Polls `check` until it returns a value (not undefined) or the deadline passes. Errors from
 * `check` propagate (a forbidden read will not heal by waiting). Bounded by the deadline; the
 * interval is fixed and short because every wait here is for one object to settle.
 */
export async function pollUntil<T>(
  check: () => Promise<T | undefined>,
  opts: { deadline: number; intervalMs?: number; what: string; lastState?: () => string },
): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() >= opts.deadline) {
      const state = opts.lastState?.();
      throw new BulkheadError({
        kind: 'Waiting',
        code: 'BH_INSTALL_TIMEOUT',
        reason: 'Timeout',
        message: `timed out waiting for ${opts.what}${state ? ` (${state})` : ''}`,
      });
    }
    await new Promise((ok) =>
      setTimeout(ok, Math.min(opts.intervalMs ?? 500, Math.max(0, opts.deadline - Date.now()))),
    );
  }
}
