import { strict as assert } from 'node:assert';
import { MAX_CA_STEP_MS, MIN_CA_STEP_MS, parseCaStep } from './rotation-step.js';

describe('parseCaStep (the rotate-ca-step annotation)', () => {
  it('no annotation: the default step, no problem', () => {
    assert.deepEqual(parseCaStep(undefined), { stepMs: 600_000 });
    assert.deepEqual(parseCaStep(undefined, 5_000), { stepMs: 5_000 });
  });

  it('a duration within the bounds is taken as given', () => {
    assert.deepEqual(parseCaStep('90s'), { stepMs: 90_000 });
    assert.deepEqual(parseCaStep('2m'), { stepMs: 120_000 });
    assert.deepEqual(parseCaStep(' 1h30m '), { stepMs: 5_400_000 });
    assert.deepEqual(parseCaStep('24h'), { stepMs: MAX_CA_STEP_MS });
    assert.equal(MIN_CA_STEP_MS, 90_000);
  });

  it('below the floor: clamped to it, and says it is what propagation needs', () => {
    const r = parseCaStep('10s');
    assert.equal(r.stepMs, MIN_CA_STEP_MS);
    assert.match(r.problem!, /bulkhead\.dev\/rotate-ca-step=10s is below the 90s floor/);
    assert.match(r.problem!, /kubelet's ConfigMap refresh/);
    assert.equal(parseCaStep('89s').stepMs, MIN_CA_STEP_MS);
    assert.equal(parseCaStep('0s').stepMs, MIN_CA_STEP_MS);
  });

  it('above the ceiling: clamped to 24h, and says why', () => {
    const r = parseCaStep('25h');
    assert.equal(r.stepMs, MAX_CA_STEP_MS);
    assert.match(r.problem!, /above the 24h ceiling/);
  });

  it('not a duration: the default, never a guess; says what is expected', () => {
    for (const bad of ['', 'now', '90', '-5m', '1d', '90 s']) {
      const r = parseCaStep(bad);
      assert.equal(r.stepMs, 600_000, bad);
      assert.match(r.problem!, /is not a duration \(e\.g\. 90s, 5m, 1h\); using the default 600s/, bad);
    }
  });
});
