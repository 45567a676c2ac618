import { readFile } from 'node:fs/promises';
import { BulkheadError } from '../core/errors.js';

/** Shortest dashboard token accepted: guessing 16 random characters over HTTP is hopeless. */
export const MIN_TOKEN_LENGTH = 16;

/** A token as written in a file or Secret key: surrounding whitespace (a trailing newline) is not part of it. */
export function normalizeToken(raw: string): string {
  const token = raw.trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new BulkheadError({
      kind: 'Stalled',
      code: 'BH_DASHBOARD_WEAK_TOKEN',
      reason: 'WeakToken',
      message: `the dashboard token must be at least ${MIN_TOKEN_LENGTH} characters`,
    });
  }
  return token;
}

/**
 * Reads the dashboard token file (e.g. a mounted Secret key) for the engine's wiring. Errors
 * name the file, never its content.
 */
export async function readDashboardToken(path: string): Promise<string> {
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (err) {
    throw new BulkheadError({
      kind: 'Stalled',
      code: 'BH_DASHBOARD_TOKEN_FILE',
      reason: 'TokenFileUnreadable',
      message: `cannot read the dashboard token file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
      cause: err,
    });
  }
  return normalizeToken(raw);
}
