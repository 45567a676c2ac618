import { strict as assert } from 'node:assert';
import { Coalescer } from './coalescer.js';

describe('Coalescer', () => {
  it('turns a burst of triggers during a run into exactly one more run', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const c = new Coalescer(async () => {
      const n = ++runs;
      if (n === 1) await new Promise<void>((ok) => (release = ok));
      return n;
    });
    const first = c.trigger();
    const burst = Array.from({ length: 10 }, () => c.trigger());
    release();
    assert.equal(await first, 1);
    const results = await Promise.all(burst);
    assert.deepEqual(new Set(results), new Set([2]), 'every trigger in the burst sees the run that started after it');
    assert.deepEqual(c.stats(), { triggers: 11, runs: 2 });
  });

  it('runs again after a failed run, and reports the failure to its callers', async () => {
    let n = 0;
    const c = new Coalescer(async () => {
      if (++n === 1) throw new Error('boom');
      return n;
    });
    await assert.rejects(c.trigger(), /boom/);
    assert.equal(await c.trigger(), 2);
  });
});
