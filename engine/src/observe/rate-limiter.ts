/**
 * Per-key token buckets (key: the reporting pod's uid): `ratePerSec` sustained, `burst` at
 * once. A sidecar reports every few seconds plus once per state change, so the defaults leave
 * it ample room while one misbehaving pod cannot monopolise ingest. At most `maxKeys`
 * buckets; the least recently used goes first.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly maxKeys = 20_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token; false means "429". */
  take(key: string): boolean {
    const now = this.now();
    let b = this.buckets.get(key);
    if (b) {
      this.buckets.delete(key);
      b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerSec);
      b.at = now;
    } else {
      if (this.buckets.size >= this.maxKeys) {
        const lru = this.buckets.keys().next().value;
        if (lru !== undefined) this.buckets.delete(lru);
      }
      b = { tokens: this.burst, at: now };
    }
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** Seconds until the key has a token again (the Retry-After header). */
  retryAfterSec(key: string): number {
    const b = this.buckets.get(key);
    if (!b || b.tokens >= 1) return 0;
    return Math.max(1, Math.ceil((1 - b.tokens) / this.ratePerSec));
  }
}
