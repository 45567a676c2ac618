// One narrated step of a demo story: what failed, and waiting for a step's condition.

export class StepFailed extends Error {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
  }
}

/** Waits for `check` to return a value (not undefined), or fails the named step. */
export async function until<T>(step: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new StepFailed(
        step,
        `timed out after ${timeoutMs / 1000}s${last instanceof Error ? ` (${last.message})` : ''}`,
      );
    await new Promise((ok) => setTimeout(ok, 150));
  }
}

export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;
