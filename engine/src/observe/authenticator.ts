import { createHash } from 'node:crypto';
import { RateLimiter } from './rate-limiter.js';
import { peekClaims } from './token-claims.js';

/** Why a request was refused authentication; also the `reason` label of the metric. */
export type AuthFailure =
  | 'missing'
  | 'malformed'
  | 'expired'
  | 'wrong_audience'
  | 'rejected'
  | 'review_error'
  /** No review was made: the caller's address (or everyone) is over the review budget; 429. */
  | 'throttled';

export interface Identity {
  username: string;
  groups: string[];
  /** Set when the token is bound to a pod (projected ServiceAccount token). */
  pod?: { namespace: string; name: string; uid: string };
}

export type AuthResult =
  | { ok: true; identity: Identity; cached: boolean }
  | { ok: false; reason: AuthFailure; /** With `throttled`: when to try again. */ retryAfterSec?: number };

/** The subset of a TokenReview status the authenticator needs (client-node's V1TokenReviewStatus fits). */
export interface TokenReviewStatus {
  authenticated?: boolean;
  audiences?: string[];
  user?: { username?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

export type ReviewToken = (token: string, audiences: string[]) => Promise<TokenReviewStatus>;

export interface AuthenticatorOptions {
  review: ReviewToken;
  audience: string;
  /** How long an accepted review is reused (capped by the token's exp). */
  ttlMs?: number;
  /** How long a rejection is reused, so a flood of bad tokens does not become a flood of reviews. */
  negativeTtlMs?: number;
  /** Accepted tokens kept (one per pod or caller). */
  maxEntries?: number;
  /** Rejected tokens kept, apart from the accepted ones so a flood cannot evict a real sidecar's. */
  maxNegativeEntries?: number;
  /** TokenReviews one source address may cause (cache misses only): sustained rate and burst. */
  reviewsPerSource?: { ratePerSec: number; burst: number };
  /** TokenReviews all sources together may cause: what the apiserver pays at most. */
  reviewsTotal?: { ratePerSec: number; burst: number };
  /** TokenReviews in flight at once (each holds a request and its connection). */
  maxInflightReviews?: number;
  now?: () => number;
}

/**
 * The review budget (ADR 1411). A sidecar needs one review per `ttlMs` (60 s) and a verdict
 * caller about as few, so 2/s with a burst of 30 per address leaves a node's worth of pods
 * starting at once room, and the total (20/s, burst 100) bounds what a flood from many
 * addresses costs the apiserver: at most burst + rate × seconds reviews, whatever is sent.
 */
export const REVIEW_LIMITS = {
  perSource: { ratePerSec: 2, burst: 30 },
  total: { ratePerSec: 20, burst: 100 },
  maxInflight: 32,
  maxSources: 10_000,
} as const;

const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';
const SA_PREFIX = 'system:serviceaccount:';

interface Entry {
  result: AuthResult;
  expires: number;
}

/**
 * Bearer-token authentication by TokenReview against the apiserver, with bounded TTL caches
 * keyed by the token's SHA-256 (the token itself is never kept): one for accepted tokens, one
 * for rejected ones, so a flood of bad tokens can evict only bad tokens. Concurrent requests
 * with the same token share one review. A review is made only within the budget of the
 * caller's source address and of all callers together, and with at most `maxInflightReviews`
 * at once; past it the request is refused `throttled` (429) without one. The audience is
 * required twice: asked for in the review, and checked in its answer; a JWT naming other
 * audiences is refused before any review.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly negative = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<AuthResult>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly maxNegativeEntries: number;
  private readonly maxInflight: number;
  private readonly perSource: RateLimiter;
  private readonly total: RateLimiter;
  private readonly now: () => number;
  private lastSweep = 0;
  reviews = 0;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 30_000;
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.maxNegativeEntries = opts.maxNegativeEntries ?? 10_000;
    this.maxInflight = opts.maxInflightReviews ?? REVIEW_LIMITS.maxInflight;
    this.now = opts.now ?? Date.now;
    const src = opts.reviewsPerSource ?? REVIEW_LIMITS.perSource;
    const all = opts.reviewsTotal ?? REVIEW_LIMITS.total;
    this.perSource = new RateLimiter(src.ratePerSec, src.burst, REVIEW_LIMITS.maxSources, this.now);
    this.total = new RateLimiter(all.ratePerSec, all.burst, 1, this.now);
  }

  /**
   * `authorization` header value → identity or the reason for refusal. `source` is the
   * caller's address (the socket's, never a header): the key of its review budget.
   */
  async authenticate(header: string | undefined, source = ''): Promise<AuthResult> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return { ok: false, reason: header ? 'malformed' : 'missing' };
    const token = m[1]!;
    const claims = peekClaims(token);
    const now = this.now();
    // An expired token is refused without a review (TokenReview would refuse it too).
    if (claims?.exp !== undefined && claims.exp * 1000 <= now) return { ok: false, reason: 'expired' };
    // So is a JWT for other audiences: the review asks for ours, and it would say no.
    if (claims?.aud && !claims.aud.includes(this.opts.audience)) return { ok: false, reason: 'wrong_audience' };
    this.sweep(now);
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key) ?? this.negative.get(key);
    if (hit && hit.expires > now) return hit.result.ok ? { ...hit.result, cached: true } : hit.result;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const refused = this.overBudget(source);
    if (refused) return refused;
    const p = this.review(token, claims?.aud, claims?.exp).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    const result = await p;
    if (result.ok || result.reason !== 'review_error') {
      const ttl = result.ok ? this.ttlMs : this.negativeTtlMs;
      const cap = claims?.exp !== undefined ? claims.exp * 1000 : Infinity;
      const entry = { result, expires: Math.min(this.now() + ttl, cap) };
      if (result.ok) remember(this.cache, this.maxEntries, key, entry, this.now());
      else remember(this.negative, this.maxNegativeEntries, key, entry, this.now());
    }
    return result;
  }

  /** Accepted tokens cached. */
  get cacheSize(): number {
    return this.cache.size;
  }

  /** Rejected tokens cached. */
  get negativeCacheSize(): number {
    return this.negative.size;
  }

  /** Expired entries go at most once per negative TTL, so memory returns to baseline after a flood. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.negativeTtlMs) return;
    this.lastSweep = now;
    for (const cache of [this.cache, this.negative]) for (const [k, e] of cache) if (e.expires <= now) cache.delete(k);
  }

  /** A refusal when this review would exceed a budget; the budgets are charged otherwise. */
  private overBudget(source: string): AuthResult | undefined {
    if (this.inflight.size >= this.maxInflight) return { ok: false, reason: 'throttled', retryAfterSec: 1 };
    if (!this.perSource.take(source))
      return { ok: false, reason: 'throttled', retryAfterSec: this.perSource.retryAfterSec(source) };
    if (!this.total.take('*')) return { ok: false, reason: 'throttled', retryAfterSec: this.total.retryAfterSec('*') };
    return undefined;
  }

  private async review(token: string, aud: string[] | undefined, exp: number | undefined): Promise<AuthResult> {
    this.reviews++;
    let status: TokenReviewStatus;
    try {
      status = await this.opts.review(token, [this.opts.audience]);
    } catch {
      return { ok: false, reason: 'review_error' };
    }
    if (status.authenticated !== true || !(status.audiences ?? []).includes(this.opts.audience)) {
      if (aud && !aud.includes(this.opts.audience)) return { ok: false, reason: 'wrong_audience' };
      if (exp !== undefined && exp * 1000 <= this.now()) return { ok: false, reason: 'expired' };
      return { ok: false, reason: 'rejected' };
    }
    const username = status.user?.username ?? '';
    const identity: Identity = { username, groups: status.user?.groups ?? [] };
    const extra = status.user?.extra ?? {};
    const podName = extra[POD_NAME]?.[0];
    const podUid = extra[POD_UID]?.[0];
    if (podName && podUid && username.startsWith(SA_PREFIX)) {
      const namespace = username.slice(SA_PREFIX.length).split(':')[0]!;
      identity.pod = { namespace, name: podName, uid: podUid };
    }
    return { ok: true, identity, cached: false };
  }
}

/** Adds to a bounded cache: expired entries go first, then the oldest (Map order is insertion order). */
function remember(cache: Map<string, Entry>, max: number, key: string, entry: Entry, now: number): void {
  cache.delete(key);
  if (cache.size >= max) {
    for (const [k, e] of cache) if (e.expires <= now) cache.delete(k);
    if (cache.size >= max) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
  }
  cache.set(key, entry);
}
