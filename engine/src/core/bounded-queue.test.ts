import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { BoundedQueue } from './bounded-queue.js';

describe('BoundedQueue', () => {
  it('keeps FIFO order under capacity', () => {
    const q = new BoundedQueue<number>(3);
    q.push(1);
    q.push(2);
    assert.deepEqual(q.take(5), [1, 2]);
    assert.equal(q.length, 0);
    assert.equal(q.dropped, 0);
  });

  it('drops the oldest when full and counts it', () => {
    const q = new BoundedQueue<number>(2);
    q.push(1);
    q.push(2);
    assert.equal(q.push(3), 1);
    assert.deepEqual(q.peekAll(), [2, 3]);
    assert.equal(q.dropped, 1);
  });

  it('unshiftAll returns a failed batch to the front, dropping overflow from the oldest end', () => {
    const q = new BoundedQueue<number>(3);
    q.push(4);
    q.unshiftAll([1, 2, 3]);
    assert.deepEqual(q.peekAll(), [2, 3, 4]);
    assert.equal(q.dropped, 1);
  });

  it('never exceeds capacity and preserves order of what it keeps (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.integer(), { maxLength: 200 }), (cap, xs) => {
        const q = new BoundedQueue<number>(cap);
        for (const x of xs) q.push(x);
        assert.ok(q.length <= cap);
        assert.deepEqual(q.peekAll(), xs.slice(Math.max(0, xs.length - cap)));
        assert.equal(q.dropped, Math.max(0, xs.length - cap));
      }),
    );
  });

  it('rejects a non-positive capacity', () => {
    assert.throws(() => new BoundedQueue(0), RangeError);
  });
});
