/**
 * Requests waiting to be batched in the engine (`batchDedup`, `createBatcher`), which may withdraw them (deadline,
 * signal, a caller taking one back) and order them by priority; `bufferWindow` and `adaptiveBuffer`, which do
 * neither, have `FifoQueue`, this queue's plain path as a class of its own. Two orders are kept: arrival order
 * (for `maxWaitMs`, which is measured from the oldest waiting request, and for FIFO batching) and, when priorities
 * are on, urgency order in a binary heap.
 *
 * Aging: a request's effective priority is `priority + agingPerMs * waitedMs`. Because every waiting request
 * ages at the same rate, the order of two requests never changes while they wait, so the heap key
 * `priority - agingPerMs * arrivedAt` is fixed at insertion and the heap is never rebuilt.
 *
 * Without priorities, a value that cannot be withdrawn (no deadline, no signal) is stored as it is, with no
 * wrapper object: the common path allocates nothing per value beyond two array slots.
 *
 * Memory is bounded by what waits: a value that leaves out of arrival order (taken by priority, withdrawn) leaves
 * its slot behind in the arrival order, and once such gone slots outnumber the waiting ones (and a small
 * constant) the arrival order is compacted. Each compaction costs no more than the gone slots it frees, so it
 * adds O(1) amortised per value, and one value that never leaves cannot hold every value served after it.
 */

import * as check from '../base/validate.js';
import { userFunctionReturned, userFunctionThrew } from '../base/describeValue.js';

const WAITING = 0;
const TAKEN = 1;
const REMOVED = 2;

/** Gone slots tolerated in the arrival order before it is compacted, however few values wait. */
const COMPACT_SLACK = 32;

/** A value that can be withdrawn while it waits, or that is ordered by priority. */
export class QueueEntry<T> {
  state: typeof WAITING | typeof TAKEN | typeof REMOVED = WAITING;
  // Stryker disable next-line UnaryOperator: heapPush sets it before the heap reads it, and an entry of a queue without priorities is never in a heap.
  heapIndex = -1;
  /** Cancels what watches the value (its deadline timer, its abort listener): called by the queue as the value leaves. */
  unwatch: (() => void) | undefined;

  constructor(
    readonly value: T,
    readonly arrivedAt: number,
    readonly seq: number,
    /** Heap key, higher is more urgent: fixed while the value waits, unless an equal request raises it (`raise`). */
    public rank: number,
  ) {}
}

export class WaitingQueue<T> {
  /** Arrival order: plain values, or entries for values that can be withdrawn. */
  private slots: (T | QueueEntry<T>)[] = [];
  private times: number[] = [];
  private head = 0;
  private readonly heap: PriorityHeap<T> | undefined;
  private seq = 0;
  private waiting = 0;
  /** Entries among `slots`; while there are none, a take is a plain slice. */
  private entries = 0;
  /** Entries at or after `head` that have left (taken by priority, or withdrawn): dead slots still held. */
  private gone = 0;
  /** Slots visited by compactions so far (see `compactionWork`). */
  private compacted = 0;
  private epoch: number | undefined;

  /**
   * @param heap order by priority (with aging) in this heap instead of arrival (`priorities()` makes it, so the
   *   heap's code is bundled only where priorities are imported)
   * @param agingPerMs priority units a waiting request gains per millisecond
   */
  constructor(
    heap: PriorityHeap<T> | undefined,
    private readonly agingPerMs: number,
    /** Where a plain value keeps its arrival time; without it the queue keeps the times alongside. */
    private readonly arrivalOf?: (value: T) => number,
  ) {
    this.heap = heap;
  }

  get size(): number {
    return this.waiting;
  }

  /**
   * Slots held in arrival order, the queue's memory (the arrival times, when kept here, are as many; the heap
   * holds the waiting entries only). Stays within about twice `size` plus a small constant. For tests.
   */
  get footprint(): number {
    return this.slots.length;
  }

  /**
   * Slots visited by every compaction so far. A compaction runs only when the dead slots outnumber the live
   * ones, so this stays below twice the number of values that have left: O(1) amortised. For tests.
   */
  get compactionWork(): number {
    return this.compacted;
  }

  /**
   * Adds a value. Returns its entry when it can be withdrawn later (`trackable`, or always with priorities).
   */
  push(value: T, arrivedAt: number, priority: number, trackable: boolean): QueueEntry<T> | undefined {
    this.waiting++;
    // Stryker disable next-line ConditionalExpression: made true, a queue that reads arrival times from its values also keeps them here, where nothing reads them (arrivalAt asks arrivalOf first): memory only, which the footprint does not count; made false it is killed.
    if (!this.arrivalOf) this.times.push(arrivedAt);
    if (!this.heap && !trackable) {
      this.slots.push(value);
      return undefined;
    }
    // Ranks are taken relative to the first arrival so that large clock values (Date.now()) keep precision.
    this.epoch ??= arrivedAt;
    this.entries++;
    const entry = new QueueEntry(value, arrivedAt, this.seq++, priority - this.agingPerMs * (arrivedAt - this.epoch));
    this.slots.push(entry);
    this.heap?.push(entry);
    return entry;
  }

  /**
   * Adds a value that arrived earlier than the latest one (a follower promoted in place of a withdrawn request), at
   * the place its arrival time gives it in arrival order, so `maxWaitMs` and FIFO order count from that time: a
   * binary search and a splice, at the end for an arrival no earlier than the latest (rare: only a withdrawal with
   * equal requests waiting on it comes here).
   */
  insert(value: T, arrivedAt: number, priority: number, trackable: boolean): QueueEntry<T> | undefined {
    const slots = this.slots;
    let lo = this.head;
    let hi = slots.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.arrivalAt(mid) <= arrivedAt) lo = mid + 1;
      else hi = mid;
    }
    this.waiting++;
    // Stryker disable next-line ConditionalExpression: made true, a queue that reads arrival times from its values also keeps them here, where nothing reads them (as in push()); made false it is killed.
    if (!this.arrivalOf) this.times.splice(lo, 0, arrivedAt);
    if (!this.heap && !trackable) {
      slots.splice(lo, 0, value);
      return undefined;
    }
    this.epoch ??= arrivedAt;
    this.entries++;
    const entry = new QueueEntry(value, arrivedAt, this.seq++, priority - this.agingPerMs * (arrivedAt - this.epoch));
    slots.splice(lo, 0, entry);
    this.heap?.push(entry);
    return entry;
  }

  /**
   * Moves a waiting entry up to the rank a request of `priority` arriving at `arrivedAt` would have (an equal,
   * more urgent request joined it); never down.
   */
  raise(entry: QueueEntry<T>, priority: number, arrivedAt: number): void {
    if (!this.heap || entry.state !== WAITING) return;
    // Never down; an unchanged rank sifts up no further than where it is.
    entry.rank = Math.max(entry.rank, priority - this.agingPerMs * (arrivedAt - (this.epoch ?? arrivedAt)));
    this.heap.siftUp(entry.heapIndex);
  }

  /** Arrival time of the value in slot `i` of the arrival order (waiting or gone). */
  private arrivalAt(i: number): number {
    const slot = this.slots[i]!;
    if (slot instanceof QueueEntry) return slot.arrivedAt;
    return this.arrivalOf ? this.arrivalOf(slot) : this.times[i]!;
  }

  /** Takes a waiting entry out and stops watching it. Returns false when it had been taken into a batch or removed. */
  remove(entry: QueueEntry<T>): boolean {
    if (entry.state !== WAITING) return false;
    entry.state = REMOVED;
    entry.unwatch?.();
    this.waiting--;
    this.gone++;
    this.heap?.remove(entry);
    this.reclaim();
    return true;
  }

  /** Arrival time of the oldest waiting value, or undefined when empty. */
  oldestArrivedAt(): number | undefined {
    return this.waiting === 0 ? undefined : this.arrivalAt(this.head);
  }

  /**
   * Removes and returns up to `n` values, most urgent first (arrival order when not prioritized). Every entry
   * taken stops being watched.
   */
  take(n: number): T[] {
    const limit = Math.min(n, this.waiting);
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: made false (or `this.heap`), every take goes the entry-by-entry way below, which takes the same values in the same order; the fast path is kept for speed (stop 21: push and take of 1,024 plain values cost 3x as much without it). Made true it is killed.
    if (!this.heap && this.entries === 0) return this.takePlain(limit);
    const out: T[] = [];
    const heap = this.heap;
    if (heap) {
      for (let k = 0; k < limit; k++) {
        const entry = heap.pop();
        entry.state = TAKEN;
        entry.unwatch?.();
        out[k] = entry.value;
      }
      this.gone += limit;
    } else {
      const slots = this.slots;
      let i = this.head;
      for (let k = 0; k < limit; i++) {
        const slot = slots[i]!;
        if (!(slot instanceof QueueEntry)) {
          out[k++] = slot;
        } else if (slot.state === WAITING) {
          slot.state = TAKEN;
          slot.unwatch?.();
          out[k++] = slot.value;
        } else {
          this.gone--; // withdrawn earlier; now behind the head
        }
      }
      this.head = i;
    }
    this.waiting -= limit;
    this.reclaim();
    return out;
  }

  /** `take` when every slot holds a plain value: a slice, or the array itself when all of it leaves. */
  private takePlain(limit: number): T[] {
    const head = this.head;
    const slots = this.slots as T[];
    this.waiting -= limit;
    // All of it leaves (so the head is at 0: `waiting` counts the slots from the head on): the array itself.
    // Stryker disable next-line ConditionalExpression,BlockStatement: made false (or emptied), the slice below copies the same values; made true it is killed.
    if (limit === slots.length) {
      this.slots = [];
      this.times = [];
      return slots;
    }
    const out = slots.slice(head, head + limit);
    this.head = head + limit;
    this.reclaim();
    return out;
  }

  /** Every waiting value in arrival order, emptying the queue (for teardown); no entry is watched any more. */
  drainAll(): T[] {
    const out: T[] = [];
    for (let i = this.head; i < this.slots.length; i++) {
      const slot = this.slots[i]!;
      if (!(slot instanceof QueueEntry)) out.push(slot);
      else if (slot.state === WAITING) {
        slot.state = REMOVED;
        slot.unwatch?.();
        out.push(slot.value);
      }
    }
    this.slots = [];
    this.times = [];
    this.head = 0;
    this.waiting = 0;
    this.entries = 0;
    this.gone = 0;
    if (this.heap) this.heap.items.length = 0;
    return out;
  }

  /**
   * Moves the head past slots that left at the front, and compacts the arrival order once its dead slots (before
   * the head, or gone after it) outnumber the waiting values and the slack.
   */
  private reclaim(): void {
    const slots = this.slots;
    // Past the end, the slot read is undefined, no entry: the loop needs no bound of its own.
    for (let slot = slots[this.head]; slot instanceof QueueEntry && slot.state !== WAITING; slot = slots[this.head]) {
      this.head++;
      this.gone--;
    }
    if (this.head === slots.length) {
      slots.length = 0;
      this.times.length = 0;
      this.head = 0;
      this.entries = 0;
      this.gone = 0;
      return;
    }
    const dead = this.head + this.gone;
    if (dead > COMPACT_SLACK && dead > this.waiting) this.compact();
  }

  /**
   * Keeps only the waiting slots, in arrival order (with their times, when kept here). One pass whether the dead
   * slots are all at the front (the plain FIFO case, where a splice would do) or among the waiting ones: this path
   * runs only when a take leaves values behind, and one loop is less code in every bundle of the engine.
   */
  private compact(): void {
    const slots = this.slots;
    const times = this.arrivalOf ? undefined : this.times;
    this.compacted += slots.length;
    let kept = 0;
    let entries = 0;
    for (let i = this.head; i < slots.length; i++) {
      const slot = slots[i]!;
      if (slot instanceof QueueEntry) {
        if (slot.state !== WAITING) continue;
        entries++;
      }
      slots[kept] = slot;
      if (times) times[kept] = times[i]!;
      kept++;
    }
    slots.length = kept;
    if (times) times.length = kept;
    this.head = 0;
    this.gone = 0;
    this.entries = entries;
  }
}

/**
 * The urgency order of the waiting entries, a binary max-heap on (rank desc, seq asc): the queue's order when
 * priorities are on. A class of its own, made by `priorities()`, so that a pipeline without priorities does not
 * bundle it (the queue calls it only when it has one).
 */
export class PriorityHeap<T> {
  readonly items: QueueEntry<T>[] = [];

  // Max-heap on (rank desc, seq asc).
  private before(a: QueueEntry<T>, b: QueueEntry<T>): boolean {
    return (
      a.rank > b.rank ||
      (a.rank === b.rank &&
        // Stryker disable next-line EqualityOperator: `<=` differs only for an entry compared with itself, which no sift does (every entry has a seq of its own); `>=` is killed.
        a.seq < b.seq)
    );
  }

  push(entry: QueueEntry<T>): void {
    const heap = this.items;
    entry.heapIndex = heap.length;
    heap.push(entry);
    this.siftUp(entry.heapIndex);
  }

  pop(): QueueEntry<T> {
    const top = this.items[0]!;
    this.remove(top);
    return top;
  }

  remove(entry: QueueEntry<T>): void {
    const heap = this.items;
    const i = entry.heapIndex;
    // The entry's heapIndex is left as it was: it is read only while the entry waits (raise and remove check that).
    const last = heap.pop()!;
    if (last === entry) return;
    heap[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  siftUp(i: number): void {
    const heap = this.items;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent]!;
      if (!this.before(entry, p)) break;
      heap[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }

  private siftDown(i: number): void {
    const heap = this.items;
    const n = heap.length;
    const entry = heap[i]!;
    for (;;) {
      let best = i;
      let bestEntry = entry;
      const l = 2 * i + 1;
      const r = l + 1;
      if (l < n && this.before(heap[l]!, bestEntry)) {
        best = l;
        bestEntry = heap[l]!;
      }
      if (r < n && this.before(heap[r]!, bestEntry)) {
        best = r;
        bestEntry = heap[r]!;
      }
      if (best === i) break;
      heap[i] = bestEntry;
      bestEntry.heapIndex = i;
      i = best;
    }
    heap[i] = entry;
    entry.heapIndex = i;
  }
}

/** Options of `priorities()`: those of the flat form, `priority` and `priorityAgingPerSecond`, by shorter names. */
export interface PrioritiesOptions<T> {
  /**
   * A request's priority, higher first. Default 0 for every request. A call that throws or returns anything but
   * a number (NaN included) rejects that request alone with a `TypeError`. Live: `configure({ priority })`.
   */
  priority?: (request: T) => number;
  /** Priority a waiting request gains per second of waiting, so nothing starves. Default 1. Fixed at creation. */
  agingPerSecond?: number;
}

/**
 * Priorities as an opt-in feature: the value of the `priorities` option. It carries the heap's code, so an app
 * that does not import it does not bundle it. The main entry point turns `enablePriorities: true` into one;
 * `rxjs-batch-dedup/lite` takes only this form.
 */
export interface PrioritiesFeature<T> {
  /** @internal Names the factory that made it. */
  readonly feature: 'priorities';
  /** @internal The flat options it stands for (`priority`, `priorityAgingPerSecond`): their starting values. */
  readonly options: { priority?: (request: T) => number; priorityAgingPerSecond?: number };
  /** @internal The heap of one pipeline's queue. */
  heap<E>(): PriorityHeap<E>;
  /** @internal `priority(request)`, checked: a number (NaN refused), else a `TypeError` naming it. */
  call<U>(where: string, priority: (request: U) => number, request: U): number;
}

/**
 * Waiting requests leave by priority (higher first, FIFO within a priority, with aging), for the `priorities`
 * option of `batchDedup` and `createBatcher`; `process(request, { priority })` then sets a call's own.
 *
 * ```ts
 * createBatcher({ execute, priorities: priorities({ priority: (r) => r.urgency, agingPerSecond: 1 }) });
 * ```
 *
 * @throws TypeError or RangeError naming `priorities` and the option, when an option is invalid or unknown
 */
export function priorities<T>(options: PrioritiesOptions<T> = {}): PrioritiesFeature<T> {
  const where = 'priorities';
  const o = check.optionsObject(where, options);
  for (const name in o) {
    if (name !== 'priority' && name !== 'agingPerSecond') {
      check.fail(where, `unknown option ${name}; its options are priority, agingPerSecond`, TypeError);
    }
  }
  const flat: PrioritiesFeature<T>['options'] = {};
  if (o.priority !== undefined) flat.priority = check.optionalFunction<(request: T) => number>(where, 'priority', o.priority);
  if (o.agingPerSecond !== undefined) flat.priorityAgingPerSecond = check.nonNegative(where, 'agingPerSecond', o.agingPerSecond);
  return { feature: where, options: flat, heap: () => new PriorityHeap(), call: callPriority };
}

function callPriority<T>(where: string, priorityOf: (request: T) => number, request: T): number {
  let priority: unknown;
  try {
    priority = priorityOf(request);
  } catch (error) {
    throw userFunctionThrew(where, 'priority', error);
  }
  if (typeof priority !== 'number' || Number.isNaN(priority)) {
    throw new TypeError(userFunctionReturned(where, 'priority', priority, 'it must return a number (higher is more urgent)'));
  }
  return priority;
}
