import { strict as assert } from 'node:assert';
import { RateLimiter } from './rate-limiter.js';

describe('observe RateLimiter', () => {
  it('allows a burst, then the sustained rate, per key', () => {
    let now = 0;
    const r = new RateLimiter(2, 3, 100, () => now);
    assert.deepEqual(
      [1, 2, 3, 4].map(() => r.take('a')),
      [true, true, true, false],
    );
    assert.equal(r.take('b'), true, 'another pod has its own bucket');
    assert.equal(r.retryAfterSec('a'), 1);
    now += 500; // one token at 2/s
    assert.deepEqual([r.take('a'), r.take('a')], [true, false]);
  });

  it('keeps at most maxKeys buckets', () => {
    const r = new RateLimiter(1, 1, 3, () => 0);
    for (const k of ['a', 'b', 'c', 'd']) r.take(k);
    assert.equal(r.take('a'), true, 'a was evicted, so it starts with a full bucket');
  });
});
