import { strict as assert } from 'node:assert';
import { parseSince } from './since.js';
import { peekClaims } from './token-claims.js';

describe('observe read-API and token helpers', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');
  it('since: a duration back from now, or an RFC 3339 time; anything else is invalid', () => {
    assert.equal(parseSince('5m', now), now - 300_000);
    assert.equal(parseSince('1h30m', now), now - 5_400_000);
    assert.equal(parseSince('2026-11-26T11:00:00Z', now), now - 3_600_000);
    for (const bad of ['yesterday', '5', '2026-11-26', '5minutes']) assert.equal(parseSince(bad, now), undefined, bad);
  });

  it('peekClaims reads exp and aud (string or list) without verifying, and tolerates garbage', () => {
    const jwt = (c: unknown): string => `x.${Buffer.from(JSON.stringify(c)).toString('base64url')}.y`;
    assert.deepEqual(peekClaims(jwt({ exp: 5, aud: 'bulkhead' })), { exp: 5, aud: ['bulkhead'] });
    assert.deepEqual(peekClaims(jwt({ aud: ['a', 7, 'b'] })), { aud: ['a', 'b'] });
    assert.equal(peekClaims('opaque'), undefined);
    assert.equal(peekClaims('a.!!!.c'), undefined);
  });
});
