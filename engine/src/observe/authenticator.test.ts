import { strict as assert } from 'node:assert';
import { TokenAuthenticator, type TokenReviewStatus } from './authenticator.js';

const jwt = (claims: Record<string, unknown>): string =>
  `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
const podStatus = (ns = 'shop', pod = 'web-1', uid = 'u-1'): TokenReviewStatus => ({
  authenticated: true,
  audiences: ['bulkhead'],
  user: {
    username: `system:serviceaccount:${ns}:default`,
    groups: ['system:serviceaccounts'],
    extra: { 'authentication.kubernetes.io/pod-name': [pod], 'authentication.kubernetes.io/pod-uid': [uid] },
  },
});

describe('observe TokenAuthenticator', () => {
  let now: number;
  let reviews: string[];
  let answer: (token: string) => TokenReviewStatus | Promise<TokenReviewStatus>;
  const make = (): TokenAuthenticator =>
    new TokenAuthenticator({
      audience: 'bulkhead',
      ttlMs: 60_000,
      negativeTtlMs: 5_000,
      now: () => now,
      review: async (token, audiences) => {
        assert.deepEqual(audiences, ['bulkhead']);
        reviews.push(token);
        return answer(token);
      },
    });
  beforeEach(() => {
    now = 1_000_000_000_000;
    reviews = [];
    answer = () => podStatus();
  });

  it('returns the bound pod from the review extra fields and caches the answer', async () => {
    const a = make();
    const t = jwt({ aud: ['bulkhead'], exp: now / 1000 + 3600 });
    const first = await a.authenticate(`Bearer ${t}`);
    assert.deepEqual(first, {
      ok: true,
      cached: false,
      identity: {
        username: 'system:serviceaccount:shop:default',
        groups: ['system:serviceaccounts'],
        pod: { namespace: 'shop', name: 'web-1', uid: 'u-1' },
      },
    });
    const second = await a.authenticate(`Bearer ${t}`);
    assert.equal(second.ok && second.cached, true);
    assert.equal(reviews.length, 1);
    now += 61_000;
    await a.authenticate(`Bearer ${t}`);
    assert.equal(reviews.length, 2, 'reviewed again after the TTL');
  });

  it('never caches past the token expiry, and refuses an expired token without a review', async () => {
    const a = make();
    const t = jwt({ aud: ['bulkhead'], exp: now / 1000 + 10 });
    assert.equal((await a.authenticate(`Bearer ${t}`)).ok, true);
    now += 11_000;
    assert.deepEqual(await a.authenticate(`Bearer ${t}`), { ok: false, reason: 'expired' });
    assert.equal(reviews.length, 1);
  });

  it('classifies refusals: missing, malformed, wrong audience, rejected; caches them briefly', async () => {
    const a = make();
    answer = () => ({ authenticated: false, error: 'invalid bearer token' });
    assert.deepEqual(await a.authenticate(undefined), { ok: false, reason: 'missing' });
    assert.deepEqual(await a.authenticate('Basic Zm9vOmJhcg=='), { ok: false, reason: 'malformed' });
    const other = jwt({ aud: ['someone-else'], exp: now / 1000 + 3600 });
    assert.deepEqual(await a.authenticate(`Bearer ${other}`), { ok: false, reason: 'wrong_audience' });
    assert.equal(reviews.length, 0, 'a JWT for other audiences costs no review');
    assert.deepEqual(await a.authenticate('Bearer opaque-token'), { ok: false, reason: 'rejected' });
    await a.authenticate('Bearer opaque-token');
    assert.equal(reviews.filter((r) => r === 'opaque-token').length, 1, 'negative answer cached');
    now += 6_000;
    await a.authenticate('Bearer opaque-token');
    assert.equal(reviews.filter((r) => r === 'opaque-token').length, 2);
  });

  it('refuses an authenticated review whose audiences lack ours', async () => {
    const a = make();
    answer = () => ({ ...podStatus(), audiences: ['other'] });
    assert.deepEqual(await a.authenticate('Bearer x'), { ok: false, reason: 'rejected' });
  });

  it('shares one review between concurrent requests, and does not cache review errors', async () => {
    const a = make();
    let release: () => void = () => {};
    answer = () => new Promise((ok) => (release = () => ok(podStatus())));
    const p = Promise.all([
      a.authenticate('Bearer same'),
      a.authenticate('Bearer same'),
      a.authenticate('Bearer same'),
    ]);
    await new Promise((ok) => setImmediate(ok));
    release();
    const results = await p;
    assert.ok(results.every((r) => r.ok));
    assert.equal(reviews.length, 1);
    answer = () => Promise.reject(new Error('apiserver down'));
    assert.deepEqual(await a.authenticate('Bearer flaky'), { ok: false, reason: 'review_error' });
    answer = () => podStatus();
    assert.equal((await a.authenticate('Bearer flaky')).ok, true, 'retried, not cached');
  });

  it('gives no pod identity to a token that is not pod-bound', async () => {
    const a = make();
    answer = () => ({
      authenticated: true,
      audiences: ['bulkhead'],
      user: { username: 'system:serviceaccount:shop:reader' },
    });
    const r = await a.authenticate('Bearer plain');
    assert.ok(r.ok);
    assert.equal(r.identity.pod, undefined);
  });

  it('stays within maxEntries', async () => {
    const a = new TokenAuthenticator({ audience: 'bulkhead', maxEntries: 10, review: async () => podStatus() });
    for (let i = 0; i < 50; i++) await a.authenticate(`Bearer t${i}`);
    assert.ok(a.cacheSize <= 10);
  });

  describe('the cost of bad tokens is bounded (ADR 1411)', () => {
    const forged = (i: number): string => jwt({ aud: ['bulkhead'], exp: now / 1000 + 3600, jti: `forged-${i}` });
    const limited = (): TokenAuthenticator =>
      new TokenAuthenticator({
        audience: 'bulkhead',
        now: () => now,
        reviewsPerSource: { ratePerSec: 2, burst: 10 },
        reviewsTotal: { ratePerSec: 20, burst: 50 },
        maxNegativeEntries: 100,
        review: async (token) => {
          reviews.push(token);
          return token.startsWith('real') ? podStatus() : { authenticated: false, error: 'invalid bearer token' };
        },
      });

    it('a flood of distinct forged tokens from one address costs at most its burst + rate × time in reviews', async () => {
      const a = limited();
      const results: string[] = [];
      for (let i = 0; i < 2000; i++) {
        if (i % 100 === 0) now += 1000; // 20 s of flood
        const r = await a.authenticate(`Bearer ${forged(i)}`, '10.0.0.66');
        results.push(r.ok ? 'ok' : r.reason);
      }
      assert.ok(reviews.length <= 10 + 2 * 20, `${reviews.length} reviews`);
      assert.ok(reviews.length >= 10, 'the burst is reviewed');
      assert.equal(results.filter((r) => r === 'rejected').length, reviews.length);
      assert.equal(results.filter((r) => r === 'throttled').length, 2000 - reviews.length);
      const over = await a.authenticate(`Bearer ${forged(99_999)}`, '10.0.0.66');
      assert.equal(over.ok, false);
      assert.ok(!over.ok && over.reason === 'throttled' && (over.retryAfterSec ?? 0) >= 1);
    });

    it('a real sidecar elsewhere is reviewed and accepted during the flood, and its cached answer survives it', async () => {
      const a = limited();
      assert.equal((await a.authenticate('Bearer real-before', '10.0.0.5')).ok, true);
      for (let i = 0; i < 500; i++) await a.authenticate(`Bearer ${forged(i)}`, '10.0.0.66');
      const during = await a.authenticate('Bearer real-during', '10.0.0.7');
      assert.equal(during.ok, true, 'another address has its own budget');
      const cached = await a.authenticate('Bearer real-before', '10.0.0.5');
      assert.ok(cached.ok && cached.cached, 'rejections never evict an accepted token');
      assert.ok(a.negativeCacheSize <= 100);
    });

    it('many addresses together stay within the total budget', async () => {
      const a = limited();
      for (let i = 0; i < 1000; i++) await a.authenticate(`Bearer ${forged(i)}`, `10.1.${i >> 8}.${i & 255}`);
      assert.equal(reviews.length, 50, 'the total burst, no more');
    });

    it('reviews in flight are capped', async () => {
      let release: () => void = () => {};
      const gate = new Promise<void>((ok) => (release = ok));
      const a = new TokenAuthenticator({
        audience: 'bulkhead',
        maxInflightReviews: 3,
        review: async () => {
          await gate;
          return podStatus();
        },
      });
      const p = Array.from({ length: 5 }, (_, i) => a.authenticate(`Bearer t${i}`, `10.2.0.${i}`));
      const early = await Promise.race([Promise.all(p.slice(3)), new Promise((ok) => setTimeout(ok, 50, 'pending'))]);
      assert.deepEqual(
        (early as { reason?: string }[]).map((r) => r.reason),
        ['throttled', 'throttled'],
      );
      release();
      assert.ok((await Promise.all(p.slice(0, 3))).every((r) => r.ok));
    });

    it('once the flood is over, the rejected tokens leave the cache', async () => {
      const a = limited();
      for (let i = 0; i < 50; i++) await a.authenticate(`Bearer ${forged(i)}`, `10.3.0.${i}`);
      assert.ok(a.negativeCacheSize > 0);
      now += 31_000;
      await a.authenticate('Bearer real-after', '10.0.0.5');
      assert.equal(a.negativeCacheSize, 0);
      assert.equal(a.cacheSize, 1);
    });
  });
});
