/**
 * The sidecar's buffer while the engine is unreachable: a fixed-capacity ring that drops the
 * OLDEST item when full (fresh health data is worth more than stale) and counts the drops so
 * the engine learns how much it missed. The sidecar cannot import the engine's
 * core/bounded-queue (it ships as a standalone bundle), hence this small twin.
 *
 * Items stay in the buffer while a batch is in flight (`peek`), and are removed only once the
 * engine acknowledged them (`discardThrough`): a failed send loses nothing, and overflow during
 * a slow send still drops the oldest, never the newest. An item overflow pushes out while it is
 * in flight is counted as dropped only if that send fails (`release`): if the engine
 * acknowledges the batch, the item arrived, and the drop count must say exactly what the
 * engine will never see.
 */
export class RingBuffer<T extends { seq: number }> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private droppedTotal = 0;
  private flight: { first: number; last: number } | undefined;
  private droppedInFlight = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Items dropped since start because the buffer was full. */
  get dropped(): number {
    return this.droppedTotal;
  }

  push(item: T): void {
    if (this.count === this.capacity) {
      const oldest = this.items[this.head] as T;
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      if (this.flight && oldest.seq >= this.flight.first && oldest.seq <= this.flight.last) this.droppedInFlight++;
      else this.droppedTotal++;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
  }

  /** Up to `n` items from the front, oldest first, without removing them; they are now in flight. */
  peek(n: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < Math.min(n, this.count); i++) out.push(this.items[(this.head + i) % this.capacity] as T);
    this.release();
    if (out.length > 0) this.flight = { first: out[0]!.seq, last: out[out.length - 1]!.seq };
    return out;
  }

  /** The in-flight send failed: what overflow pushed out of it meanwhile is lost after all. */
  release(): void {
    this.droppedTotal += this.droppedInFlight;
    this.droppedInFlight = 0;
    this.flight = undefined;
  }

  /** Removes every item with `seq <= seq` from the front (the acknowledged ones), ending the flight. */
  discardThrough(seq: number): void {
    this.droppedInFlight = 0;
    this.flight = undefined;
    while (this.count > 0 && (this.items[this.head] as T).seq <= seq) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }
}
