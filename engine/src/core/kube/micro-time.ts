/**
 * Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. Real apiservers reject
 * `Date.toISOString()`'s three (400), so Lease times are always formatted here.
 */
export function microTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
