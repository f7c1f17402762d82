/**
 * Values waiting to be batched, in arrival order: push, take from the front, drain, the oldest arrival. The queue
 * of `bufferWindow` and `adaptiveBuffer`, which never withdraw a value nor order by priority. It is the plain path
 * of the engine's `WaitingQueue` (same layout, same compaction) as a class of its own, so that the operators'
 * bundles carry none of withdrawal, compaction around withdrawn values and the priority heap, and the engine's
 * bundle none of this class (docs/decisions.md, "bufferWindow at 3 kB: a FIFO queue of its own").
 *
 * A value is stored as it is, with no wrapper object: a push costs two array slots (the value, its arrival time).
 * Taken values leave their slots behind the head; once those outnumber the waiting ones (and a small constant)
 * they are cut off, so memory is bounded by what waits, and each cut costs no more than the slots it frees (O(1)
 * amortised per value).
 */

/** Dead slots tolerated in the arrival order before it is compacted, however few values wait. */
export const COMPACT_SLACK = 32;

export class FifoQueue<T> {
  private slots: T[] = [];
  /** Arrival times, slot for slot. */
  private times: number[] = [];
  private head = 0;

  get size(): number {
    return this.slots.length - this.head;
  }

  /**
   * Slots held in arrival order, the queue's memory (the arrival times are as many). Stays
   * within about twice `size` plus a small constant. For tests.
   */
  get footprint(): number {
    return this.slots.length;
  }

  /** Adds a value that arrived at `arrivedAt` (no earlier than the values already waiting). */
  push(value: T, arrivedAt: number): void {
    this.times.push(arrivedAt);
    this.slots.push(value);
  }

  /** Arrival time of the oldest waiting value, or undefined when empty. */
  oldestArrivedAt(): number | undefined {
    return this.times[this.head];
  }

  /** Removes and returns up to `n` values, oldest first: a slice, or (`drainAll`) the array itself when all of it leaves. */
  take(n: number): T[] {
    const { head, slots } = this;
    const end = Math.min(head + n, slots.length);
    if (end === slots.length) return this.drainAll();
    const out = slots.slice(head, end);
    this.head = end;
    if (end > COMPACT_SLACK && end > slots.length - end) {
      // The dead front outnumbers what waits: cut it off (a splice of fewer than twice the slots it frees).
      slots.splice(0, end);
      this.times.splice(0, end);
      this.head = 0;
    }
    return out;
  }

  /** Every waiting value in arrival order, emptying the queue (for teardown, or a take of everything). */
  drainAll(): T[] {
    const out = this.slots;
    out.splice(0, this.head); // the taken front, if any: the array itself leaves (no copy when nothing was taken)
    this.slots = [];
    this.times = [];
    this.head = 0;
    return out;
  }
}
