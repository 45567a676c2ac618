import { strict as assert } from 'node:assert';
import { eventually } from '../../../test/harness/eventually.js';
import { DrainScheduler, nextDrainDelay, RETRY_FLOOR_MS } from './drain-scheduler.js';

describe('nextDrainDelay', () => {
  it('is the interval while cycles succeed, backoff above the floor while they fail', () => {
    const backoff = { baseMs: 100, capMs: 1000, random: () => 0.999999 };
    assert.equal(nextDrainDelay(0, 1000, backoff), 1000);
    assert.deepEqual(
      [1, 2, 3, 10].map((f) => nextDrainDelay(f, 1000, backoff)),
      [199, 399, 799, 999].map((d) => d + RETRY_FLOOR_MS),
    );
    assert.equal(nextDrainDelay(5, 1000, { ...backoff, random: () => 0 }), RETRY_FLOOR_MS);
  });
});

describe('DrainScheduler', () => {
  it('runs one cycle at a time: a cycle asked for while one runs joins it', async () => {
    let cycles = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((ok) => (release = ok));
    const s = new DrainScheduler({
      cycle: async () => {
        cycles++;
        await gate;
      },
      intervalMs: 60_000,
      onError: () => {},
    });
    const a = s.runNow();
    const b = s.runNow();
    release();
    await Promise.all([a, b]);
    assert.equal(cycles, 1);
    await s.runNow();
    assert.equal(cycles, 2);
    await s.stop();
  });

  it('cycles on the timer, backs off while cycles fail, reports each failure with its count, and stops', async () => {
    let cycles = 0;
    const at: number[] = [];
    const errors: number[] = [];
    const s = new DrainScheduler({
      cycle: async () => {
        at.push(performance.now());
        if (++cycles <= 2) throw new Error('push rejected');
      },
      intervalMs: 5,
      backoff: { baseMs: 0, capMs: 0 },
      onError: (_err, failures) => errors.push(failures),
    });
    s.start();
    await eventually(() => assert.ok(cycles >= 5, `${cycles} cycles`), { timeoutMs: 10_000, intervalMs: 20 });
    await s.stop();
    assert.deepEqual(errors, [1, 2]);
    // Each failed cycle waits at least the floor before the next; successful ones only the interval.
    assert.ok(at[1]! - at[0]! >= RETRY_FLOOR_MS - 5 && at[2]! - at[1]! >= RETRY_FLOOR_MS - 5, `${at}`);
    const after = cycles;
    await new Promise((ok) => setTimeout(ok, 30)); // proving something does NOT happen needs a wait
    assert.equal(cycles, after, 'a cycle ran after stop()');
  });

  it('soon() brings the next cycle forward', async () => {
    let cycles = 0;
    const s = new DrainScheduler({ cycle: async () => void cycles++, intervalMs: 60_000, onError: () => {} });
    s.start();
    await eventually(() => assert.equal(cycles, 1), { intervalMs: 5 });
    s.soon(1);
    await eventually(() => assert.equal(cycles, 2), { intervalMs: 5 });
    await s.stop();
  });
});
