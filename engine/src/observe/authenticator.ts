import { createHash } from 'node:crypto';
import { peekClaims } from './token-claims.js';

/** Why a request was refused authentication; also the `reason` label of the metric. */
export type AuthFailure = 'missing' | 'malformed' | 'expired' | 'wrong_audience' | 'rejected' | 'review_error';

export interface Identity {
  username: string;
  groups: string[];
  /** Set when the token is bound to a pod (projected ServiceAccount token). */
  pod?: { namespace: string; name: string; uid: string };
}

export type AuthResult = { ok: true; identity: Identity; cached: boolean } | { ok: false; reason: AuthFailure };

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
  maxEntries?: number;
  now?: () => number;
}

const POD_NAME = 'authentication.kubernetes.io/pod-name';
const POD_UID = 'authentication.kubernetes.io/pod-uid';
const SA_PREFIX = 'system:serviceaccount:';

interface Entry {
  result: AuthResult;
  expires: number;
}

/**
 * Bearer-token authentication by TokenReview against the apiserver, with a bounded TTL cache
 * keyed by the token's SHA-256 (the token itself is never kept). Concurrent requests with the
 * same token share one review. The audience is required twice: asked for in the review, and
 * checked in its answer.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<AuthResult>>();
  private readonly ttlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  reviews = 0;

  constructor(private readonly opts: AuthenticatorOptions) {
    this.ttlMs = opts.ttlMs ?? 60_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 5_000;
    this.maxEntries = opts.maxEntries ?? 20_000;
    this.now = opts.now ?? Date.now;
  }

  /** `authorization` header value → identity or the reason for refusal. */
  async authenticate(header: string | undefined): Promise<AuthResult> {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!m) return { ok: false, reason: header ? 'malformed' : 'missing' };
    const token = m[1]!;
    const claims = peekClaims(token);
    const now = this.now();
    // An expired token is refused without a review (TokenReview would refuse it too).
    if (claims?.exp !== undefined && claims.exp * 1000 <= now) return { ok: false, reason: 'expired' };
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.result.ok ? { ...hit.result, cached: true } : hit.result;
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const p = this.review(token, claims?.aud, claims?.exp).finally(() => this.inflight.delete(key));
    this.inflight.set(key, p);
    const result = await p;
    if (result.ok || result.reason !== 'review_error') {
      const ttl = result.ok ? this.ttlMs : this.negativeTtlMs;
      const cap = claims?.exp !== undefined ? claims.exp * 1000 : Infinity;
      this.remember(key, { result, expires: Math.min(this.now() + ttl, cap) });
    }
    return result;
  }

  get cacheSize(): number {
    return this.cache.size;
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

  private remember(key: string, entry: Entry): void {
    if (this.cache.size >= this.maxEntries) {
      // Drop expired entries first; if none, the oldest (Map order is insertion order).
      const now = this.now();
      for (const [k, e] of this.cache) if (e.expires <= now) this.cache.delete(k);
      if (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    this.cache.set(key, entry);
  }
}
