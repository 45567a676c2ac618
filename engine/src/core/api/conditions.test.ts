import { strict as assert } from 'node:assert';
import { setCondition } from './conditions.js';

describe('setCondition', () => {
  const t0 = new Date('2026-01-01T00:00:00.123Z');
  const t1 = new Date('2026-01-01T01:00:00Z');
  const stalled = { type: 'Stalled', status: 'False' as const, reason: 'Ok', message: '' };

  it('sets one type and leaves the others as they are', () => {
    const before = setCondition(undefined, stalled, t0);
    const after = setCondition(before, { type: 'Ready', status: 'True', reason: 'Isolated', message: 'm' }, t1);
    assert.deepEqual(
      after.map((c) => c.type),
      ['Stalled', 'Ready'],
    );
    assert.deepEqual(after[0], before[0]);
  });

  it('keeps lastTransitionTime while the status is unchanged, and carries observedGeneration', () => {
    const first = setCondition(undefined, { ...stalled, observedGeneration: 1 }, t0);
    assert.equal(first[0]!.lastTransitionTime, '2026-01-01T00:00:00Z');
    const same = setCondition(first, { ...stalled, reason: 'Still', observedGeneration: 2 }, t1);
    assert.equal(same[0]!.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(same[0]!.observedGeneration, 2);
    const flipped = setCondition(same, { ...stalled, status: 'True' }, t1);
    assert.equal(flipped[0]!.lastTransitionTime, '2026-01-01T01:00:00Z');
  });
});
