/**
 * The sidecar's buffer while the engine is unreachable: a fixed-capacity ring that drops the
 * OLDEST item when full (fresh health data is worth more than stale) and counts the drops so
 * the engine learns how much it missed. The sidecar cannot import the engine's
 * core/bounded-queue (it ships as a standalone bundle), hence this small twin.
 *
 * Items stay in the buffer while a batch is in flight (`peek`), and are removed only once the
 * engine acknowledged them (`discardThrough`): a failed send loses nothing, and overflow during
 * a slow send still drops the oldest, never the newest.
 */
export class RingBuffer<T extends { seq: number }> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private droppedTotal = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
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
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      this.droppedTotal++;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
  }

  /** Up to `n` items from the front, oldest first, without removing them. */
  peek(n: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < Math.min(n, this.count); i++) out.push(this.items[(this.head + i) % this.capacity] as T);
    return out;
  }

  /** Removes every item with `seq <= seq` from the front (the acknowledged ones). */
  discardThrough(seq: number): void {
    while (this.count > 0 && (this.items[this.head] as T).seq <= seq) {
      this.items[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }
}
