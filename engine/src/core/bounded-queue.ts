/**
 * A FIFO with a hard capacity. When full, a push drops the OLDEST item (fresh data is worth
 * more than stale data for health reports and forwards) and counts the drop, so the loss is
 * visible in metrics and can be reported downstream. O(1) push and shift (ring buffer).
 */
export class BoundedQueue<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;
  private droppedTotal = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.count;
  }

  /** Items dropped since creation because the queue was full. */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Adds an item; returns the item it dropped to make room, if any. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.count === this.capacity) {
      dropped = this.shift();
      this.droppedTotal++;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
    return dropped;
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  /** Removes and returns up to `n` items from the front, oldest first. */
  take(n: number): T[] {
    const out: T[] = [];
    while (out.length < n && this.count > 0) out.push(this.shift() as T);
    return out;
  }

  /** Puts items back at the FRONT (a failed send), keeping order; overflow drops the oldest. */
  unshiftAll(batch: T[]): void {
    const keep = batch.slice(Math.max(0, batch.length - this.capacity));
    this.droppedTotal += batch.length - keep.length;
    const rest = this.take(this.count);
    for (const item of [...keep, ...rest]) this.push(item);
  }

  peekAll(): T[] {
    return Array.from({ length: this.count }, (_, i) => this.items[(this.head + i) % this.capacity] as T);
  }
}
