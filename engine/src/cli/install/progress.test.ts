import { strict as assert } from 'node:assert';
import { isBulkheadError } from '../../core/errors.js';
import { Progress, pollUntil } from './progress.js';

describe('install progress display', () => {
  it('prints one line per step with its duration and summary, details indented, failures marked and rethrown', async () => {
    const lines: string[] = [];
    let t = 0;
    const p = new Progress(
      (l) => lines.push(l),
      () => t,
    );
    await p.step(
      'first',
      async () => {
        p.detail('1/2 ready');
        t += 1250;
        return 3;
      },
      (n) => `${n} objects`,
    );
    await assert.rejects(
      p.step('second', async () => {
        t += 50;
        throw new Error('refused');
      }),
      /refused/,
    );
    assert.deepEqual(lines, ['    · 1/2 ready', '  ✓ first: 3 objects (1.3s)', '  ✗ second (0.1s): refused']);
  });

  it('pollUntil returns the first value, and times out with a typed error naming what it waited for and the last state', async () => {
    let calls = 0;
    assert.equal(
      await pollUntil(async () => (++calls < 3 ? undefined : 'done'), {
        deadline: Date.now() + 5000,
        intervalMs: 1,
        what: 'x',
      }),
      'done',
    );
    assert.equal(calls, 3);
    await assert.rejects(
      pollUntil(async () => undefined, {
        deadline: Date.now() + 20,
        intervalMs: 5,
        what: 'the engine',
        lastState: () => '1/2 ready',
      }),
      (err: unknown) =>
        isBulkheadError(err) &&
        err.code === 'BH_INSTALL_TIMEOUT' &&
        err.kind === 'Waiting' &&
        /timed out waiting for the engine \(1\/2 ready\)/.test(err.message),
    );
  });

  it('pollUntil lets a failing check through instead of waiting it out', async () => {
    await assert.rejects(
      pollUntil(
        async () => {
          throw new Error('forbidden');
        },
        { deadline: Date.now() + 5000, what: 'x' },
      ),
      /forbidden/,
    );
  });
});
