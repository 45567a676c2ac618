import type { ActionType, ExternalVerdict } from '../quarantine/index.js';

/** What a receiver made of one alert or event: a verdict to take, or why there is none. */
export type Mapped = { verdict: ExternalVerdict; threat: boolean } | { skipped: string };

export const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const ACTIONS: readonly ActionType[] = ['Alert', 'Restart', 'Isolate', 'Quarantine'];

/**
 * A name from another tool as a verdict reason (CamelCase, at most 63 characters): an
 * Alertmanager alertname ("KubePodCrashLooping") stays as it is; a Falco rule ("Terminal
 * shell in container") becomes "TerminalShellInContainer". Empty after cleaning: the fallback.
 */
export function camelReason(name: string | undefined, fallback: string): string {
  const words = (name ?? '').split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
  // Leading digits go first, then the first letter is raised: "0a" must become "A", not "a".
  const out = words
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')
    .replace(/^[0-9]+/, '');
  return out === '' ? fallback : (out[0]!.toUpperCase() + out.slice(1)).slice(0, 63);
}

export function actionOf(value: unknown): ActionType | undefined {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value)
    ? (value as ActionType)
    : undefined;
}

export const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
