import { MAX_EVIDENCE } from '../types.js';

/** Items with `t` inside (now - windowMs, now]. Windows are small (bounded upstream). */
export function inWindow<T extends { t: number }>(items: readonly T[], now: number, windowMs: number): T[] {
  return items.filter((x) => x.t > now - windowMs && x.t <= now);
}

/** The newest evidence items, at most MAX_EVIDENCE, oldest first. */
export function evidenceOf<T>(items: readonly T[]): T[] {
  return items.slice(-MAX_EVIDENCE);
}

export function p99(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]!;
}
