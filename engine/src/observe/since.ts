import { parseDuration } from '../core/duration.js';

/** `since` of the read API: an RFC 3339 time, or a duration back from now (`5m`). Undefined when invalid. */
export function parseSince(text: string, now: number): number | undefined {
  if (/^\d+(ms|s|m|h)/.test(text)) {
    try {
      return now - parseDuration(text);
    } catch {
      return undefined;
    }
  }
  const t = Date.parse(text);
  return Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(text) ? undefined : t;
}
