import { errorMessage } from '../../engine/src/core/errors.js';
/**
 * The one way tests wait: retry `check` until it returns without throwing (its value is
 * returned) or the timeout passes (the last error is rethrown, with what was awaited).
 * No bare sleeps anywhere in the tests.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const msg = errorMessage(last);
      const e = new Error(`eventually(${opts.what ?? 'condition'}) did not hold within ${timeoutMs} ms: ${msg}`);
      (e as { cause?: unknown }).cause = last;
      throw e;
    }
    await new Promise((ok) => setTimeout(ok, intervalMs));
  }
}
