import { strict as assert } from 'node:assert';
import { silentLogger } from '../core/logger.js';
import { LeaderResume } from './leader-resume.js';

describe('LeaderResume', () => {
  it('resumes once per leadership term, and never on a follower', async () => {
    let calls = 0;
    const r = new LeaderResume({ logger: silentLogger(), resume: async () => ++calls });
    assert.equal(await r.step(false), false);
    assert.equal(calls, 0);
    assert.equal(await r.step(true), true);
    assert.equal(await r.step(true), true);
    assert.equal(calls, 1);
    // Lost the lead and won it back: a new term, resumed again.
    assert.equal(await r.step(false), false);
    assert.equal(await r.step(true), true);
    assert.equal(calls, 2);
  });

  it('tries again on the next cycle when the resume failed', async () => {
    let fail = true;
    let calls = 0;
    const r = new LeaderResume({
      logger: silentLogger(),
      resume: async () => {
        calls++;
        if (fail) throw new Error('apiserver down');
        return 0;
      },
    });
    await assert.rejects(r.step(true), /apiserver down/);
    fail = false;
    assert.equal(await r.step(true), true);
    assert.equal(await r.step(true), true);
    assert.equal(calls, 2);
  });
});
