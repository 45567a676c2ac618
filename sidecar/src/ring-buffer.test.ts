import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { RingBuffer } from './ring-buffer.js';

const item = (seq: number): { seq: number } => ({ seq });

describe('sidecar RingBuffer', () => {
  it('keeps items in order until acknowledged', () => {
    const b = new RingBuffer<{ seq: number }>(5);
    for (let i = 1; i <= 3; i++) b.push(item(i));
    assert.deepEqual(b.peek(2).map((x) => x.seq), [1, 2]);
    assert.equal(b.length, 3, 'peek does not remove');
    b.discardThrough(2);
    assert.deepEqual(b.peek(10).map((x) => x.seq), [3]);
  });

  it('drops the oldest when full and counts the drops', () => {
    const b = new RingBuffer<{ seq: number }>(3);
    for (let i = 1; i <= 7; i++) b.push(item(i));
    assert.equal(b.dropped, 4);
    assert.deepEqual(b.peek(10).map((x) => x.seq), [5, 6, 7]);
  });

  it('acknowledging a batch that overflow already dropped removes only what is left of it', () => {
    const b = new RingBuffer<{ seq: number }>(3);
    for (let i = 1; i <= 3; i++) b.push(item(i));
    const inFlight = b.peek(3);
    b.push(item(4)); // overflow while the batch is in flight drops seq 1
    b.push(item(5));
    b.discardThrough(inFlight[inFlight.length - 1]!.seq);
    assert.deepEqual(b.peek(10).map((x) => x.seq), [4, 5]);
  });

  it('never holds more than its capacity and loses nothing it does not count (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(fc.oneof(fc.constant('push' as const), fc.integer({ min: 0, max: 5 })), { maxLength: 200 }), (cap, ops) => {
        const b = new RingBuffer<{ seq: number }>(cap);
        let seq = 0;
        let acked = 0;
        for (const op of ops) {
          if (op === 'push') b.push(item(++seq));
          else {
            const batch = b.peek(op);
            if (batch.length > 0) {
              b.discardThrough(batch[batch.length - 1]!.seq);
              acked += batch.length;
            }
          }
          assert.ok(b.length <= cap);
        }
        assert.equal(acked + b.dropped + b.length, seq);
        const left = b.peek(cap).map((x) => x.seq);
        assert.deepEqual(left, [...left].sort((x, y) => x - y));
      }),
    );
  });
});
