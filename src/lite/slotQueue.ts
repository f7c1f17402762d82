/**
 * The lean core's queue of waiting slots (src/lite/core.ts): the FIFO of `FifoQueue` plus `remove`, so that a slot
 * whose every request was withdrawn (its signal, its deadline, its caller) leaves the queue at once, as a
 * withdrawn request leaves the engine's `WaitingQueue` (reliability row 33): it no longer counts toward `maxSize`
 * or `minSize`, nor holds `maxWaitMs` from its arrival, and its memory is freed. A file of its own so that
 * `bufferWindow`, which never withdraws a value, keeps its plain `FifoQueue` and its size (docs/decisions.md,
 * "The switch of /lite to the lean core").
 *
 * A removed slot is marked (`gone`) and skipped; the array is cut once the marked ones outnumber the waiting ones
 * (and a small constant), so memory stays within about twice what waits, at O(1) amortised per value.
 */
import { COMPACT_SLACK, type FifoQueue } from '../internal/fifoQueue.js';

/** What the queue holds: a value with its arrival time, which the queue marks `gone` once it has left. */
export interface Queued {
  readonly at: number;
  gone?: boolean;
}

/** A `FifoQueue` of slots that can also take one out of the middle. */
export interface SlotQueue<S extends Queued> extends Pick<FifoQueue<S>, 'size' | 'footprint' | 'take' | 'drainAll' | 'oldestArrivedAt'> {
  push(value: S): void;
  /** Takes a waiting slot out; one already taken (batched, drained, removed) is left alone. */
  remove(value: S): void;
}

export function slotQueue<S extends Queued>(): SlotQueue<S> {
  let slots: S[] = [];
  let head = 0;
  let live = 0;

  /** The head on a waiting slot (or the end), and the array cut when the dead outnumber what waits. */
  function tidy(): void {
    while (head < slots.length && slots[head]!.gone) head++;
    if (slots.length > 2 * live + COMPACT_SLACK) {
      slots = slots.filter((slot, i) => i >= head && !slot.gone);
      head = 0;
    }
  }

  return {
    get size() {
      return live;
    },
    get footprint() {
      return slots.length;
    },
    push(value) {
      value.gone = false;
      slots.push(value);
      live++;
    },
    remove(value) {
      if (value.gone !== false) return;
      value.gone = true;
      live--;
      tidy();
    },
    take(n) {
      const out: S[] = [];
      while (out.length < n && head < slots.length) {
        const slot = slots[head++]!;
        if (slot.gone) continue;
        slot.gone = true;
        out.push(slot);
      }
      live -= out.length;
      tidy();
      return out;
    },
    drainAll() {
      const out = slots.filter((slot, i) => i >= head && !slot.gone);
      for (const slot of out) slot.gone = true;
      slots = [];
      head = live = 0;
      return out;
    },
    oldestArrivedAt: () => slots[head]?.at,
  };
}
