/**
 * The one error type Bulkhead raises on purpose. Its kind tells the caller how to handle it,
 * so no caller ever switches on a message string:
 *   - Stalled: the input must change (a bad policy file); retrying the same input is pointless.
 *   - Waiting: a precondition is not met yet (a CRD not established); requeue after a delay.
 *   - Transient: something flaky failed (network, apiserver 5xx); retry with backoff.
 * `reason` is CamelCase and doubles as the condition and Event reason.
 */
export type ErrorKind = 'Stalled' | 'Waiting' | 'Transient';

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface BulkheadErrorOptions {
  kind: ErrorKind;
  code: `BH_${string}`;
  reason: string;
  message: string;
  location?: SourceLocation;
  cause?: unknown;
}

export class BulkheadError extends Error {
  readonly kind: ErrorKind;
  readonly code: `BH_${string}`;
  readonly reason: string;
  readonly location?: SourceLocation;

  constructor(opts: BulkheadErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BulkheadError';
    this.kind = opts.kind;
    this.code = opts.code;
    this.reason = opts.reason;
    if (opts.location) this.location = opts.location;
  }
}

export function isBulkheadError(err: unknown): err is BulkheadError {
  return err instanceof BulkheadError;
}

/** The text of anything thrown (a rejected promise may carry a non-Error), for logs and status messages. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
