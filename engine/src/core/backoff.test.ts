import { strict as assert } from 'node:assert';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap (with jitter at its maximum)', () => {
    const max = () => 0.999999;
    const d = [0, 1, 2, 3, 10].map((a) => backoffDelay(a, { baseMs: 100, capMs: 1000, random: max }));
    assert.deepEqual(d, [99, 199, 399, 799, 999]);
  });

  it('is never negative and never above the cap', () => {
    for (let a = 0; a < 50; a++) {
      const v = backoffDelay(a, { baseMs: 50, capMs: 30_000 });
      assert.ok(v >= 0 && v <= 30_000);
    }
  });
});
