import { strict as assert } from 'node:assert';
import { IdentityRejections } from './identity-rejections.js';

describe('observe IdentityRejections', () => {
  it('keeps the latest times per pod and wakes the analytics for the sender', () => {
    const woken: string[] = [];
    const r = new IdentityRejections({ perPod: 3, onChange: (uid) => woken.push(uid) });
    for (const t of [1, 2, 3, 4]) r.record('a', t);
    assert.deepEqual(r.of('a'), [2, 3, 4], 'the oldest time dropped past perPod');
    assert.deepEqual(r.of('b'), []);
    assert.deepEqual(woken, ['a', 'a', 'a', 'a']);
  });

  it('keeps at most maxPods pods, dropping the least recently rejected', () => {
    const r = new IdentityRejections({ maxPods: 2 });
    r.record('a', 1);
    r.record('b', 2);
    r.record('a', 3); // a is now the most recent
    r.record('c', 4);
    assert.equal(r.size, 2);
    assert.deepEqual(r.of('b'), [], 'b dropped');
    assert.deepEqual(r.of('a'), [1, 3]);
    r.remove('a');
    assert.deepEqual(r.of('a'), []);
  });
});
