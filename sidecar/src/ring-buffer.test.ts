import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import { RingBuffer } from './ring-buffer.js';

const item = (seq: number): { seq: number } => ({ seq });

describe('sidecar RingBuffer', () => {
  it('keeps items in order until acknowledged', () => {
    const b = new RingBuffer<{ seq: number }>(5);
    for (let i = 1; i <= 3; i++) b.push(item(i));
    assert.deepEqual(
      b.peek(2).map((x) => x.seq),
      [1, 2],
    );
    assert.equal(b.length, 3, 'peek does not remove');
    b.discardThrough(2);
    assert.deepEqual(
      b.peek(10).map((x) => x.seq),
      [3],
    );
  });

  it('drops the oldest when full and counts the drops', () => {
    const b = new RingBuffer<{ seq: number }>(3);
    for (let i = 1; i <= 7; i++) b.push(item(i));
    assert.equal(b.dropped, 4);
    assert.deepEqual(
      b.peek(10).map((x) => x.seq),
      [5, 6, 7],
    );
  });

  it('overflow during an acknowledged send: the pushed-out items arrived, so they are not counted as dropped', () => {
    const b = new RingBuffer<{ seq: number }>(3);
    for (let i = 1; i <= 3; i++) b.push(item(i));
    const inFlight = b.peek(3);
    b.push(item(4)); // overflow while the batch is in flight pushes out seq 1 and 2
    b.push(item(5));
    b.discardThrough(inFlight[inFlight.length - 1]!.seq);
    assert.deepEqual(
      b.peek(10).map((x) => x.seq),
      [4, 5],
    );
    assert.equal(b.dropped, 0);
  });

  it('overflow during a failed send: the pushed-out items are lost and counted', () => {
    const b = new RingBuffer<{ seq: number }>(3);
    for (let i = 1; i <= 3; i++) b.push(item(i));
    b.peek(2);
    b.push(item(4)); // pushes out seq 1 (in flight)
    b.push(item(5)); // pushes out seq 2 (in flight)
    assert.equal(b.dropped, 0, 'not known yet');
    b.release();
    assert.equal(b.dropped, 2);
    b.push(item(6)); // seq 3 is not in flight any more: dropped at once
    assert.equal(b.dropped, 3);
    assert.deepEqual(
      b.peek(10).map((x) => x.seq),
      [4, 5, 6],
    );
  });

  it('never holds more than its capacity and loses nothing it does not count (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(
          fc.oneof(
            fc.constant('push' as const),
            fc.constant('ack' as const),
            fc.constant('fail' as const),
            fc.integer({ min: 0, max: 5 }),
          ),
          { maxLength: 200 },
        ),
        (cap, ops) => {
          const b = new RingBuffer<{ seq: number }>(cap);
          let seq = 0;
          const delivered = new Set<number>();
          let flight: { seq: number }[] = [];
          for (const op of ops) {
            if (op === 'push') b.push(item(++seq));
            else if (op === 'ack') {
              const last = flight[flight.length - 1];
              if (last) b.discardThrough(last.seq);
              for (const x of flight) delivered.add(x.seq);
              flight = [];
            } else if (op === 'fail') {
              b.release();
              flight = [];
            } else flight = b.peek(op);
            assert.ok(b.length <= cap);
          }
          b.release();
          // Every sample is delivered, dropped (and counted) or still buffered: exactly one of them.
          assert.equal(delivered.size + b.dropped + b.length, seq);
          const left = b.peek(cap).map((x) => x.seq);
          assert.deepEqual(
            left,
            [...left].sort((x, y) => x - y),
          );
        },
      ),
    );
  });
});
