/**
 * Requests waiting to be batched. Two orders are kept: arrival order (for `maxWaitMs`, which is measured from
 * the oldest waiting request, and for FIFO batching) and, when priorities are on, urgency order in a binary heap.
 *
 * Aging: a request's effective priority is `priority + agingPerMs * waitedMs`. Because every waiting request
 * ages at the same rate, the order of two requests never changes while they wait, so the heap key
 * `priority - agingPerMs * arrivedAt` is fixed at insertion and the heap is never rebuilt.
 */

const WAITING = 0;
const TAKEN = 1;
const REMOVED = 2;

export interface QueueEntry<T> {
  readonly value: T;
  readonly arrivedAt: number;
  readonly seq: number;
  /** Fixed heap key; higher is more urgent. */
  readonly rank: number;
  state: typeof WAITING | typeof TAKEN | typeof REMOVED;
  heapIndex: number;
}

export class WaitingQueue<T> {
  private readonly arrivals: QueueEntry<T>[] = [];
  private head = 0;
  private readonly heap: QueueEntry<T>[] | undefined;
  private seq = 0;
  private waiting = 0;
  private epoch: number | undefined;

  /**
   * @param prioritized order by priority (with aging) instead of arrival
   * @param agingPerMs priority units a waiting request gains per millisecond
   */
  constructor(
    prioritized: boolean,
    private readonly agingPerMs: number,
  ) {
    this.heap = prioritized ? [] : undefined;
  }

  get size(): number {
    return this.waiting;
  }

  push(value: T, arrivedAt: number, priority: number): QueueEntry<T> {
    // Ranks are taken relative to the first arrival so that large clock values (Date.now()) keep precision.
    this.epoch ??= arrivedAt;
    const entry: QueueEntry<T> = {
      value,
      arrivedAt,
      seq: this.seq++,
      rank: priority - this.agingPerMs * (arrivedAt - this.epoch),
      state: WAITING,
      heapIndex: -1,
    };
    this.arrivals.push(entry);
    this.waiting++;
    if (this.heap) this.heapPush(entry);
    return entry;
  }

  /** Takes a waiting entry out. Returns false when it was already taken into a batch or removed. */
  remove(entry: QueueEntry<T>): boolean {
    if (entry.state !== WAITING) return false;
    entry.state = REMOVED;
    this.waiting--;
    if (this.heap) this.heapRemove(entry);
    this.skipGone();
    return true;
  }

  /** Arrival time of the oldest waiting entry, or undefined when empty. */
  oldestArrivedAt(): number | undefined {
    return this.waiting === 0 ? undefined : this.arrivals[this.head]?.arrivedAt;
  }

  /** Removes and returns up to `n` entries, most urgent first (arrival order when not prioritized). */
  take(n: number): QueueEntry<T>[] {
    const out: QueueEntry<T>[] = [];
    const limit = Math.min(n, this.waiting);
    if (this.heap) {
      while (out.length < limit) out.push(this.heapPop());
    } else {
      for (let i = this.head; out.length < limit; i++) {
        const entry = this.arrivals[i]!;
        if (entry.state === WAITING) out.push(entry);
      }
    }
    for (const entry of out) entry.state = TAKEN;
    this.waiting -= out.length;
    this.skipGone();
    return out;
  }

  /** Every waiting entry in arrival order (for teardown). */
  drainAll(): QueueEntry<T>[] {
    const out = this.arrivals.slice(this.head).filter((e) => e.state === WAITING);
    for (const e of out) e.state = REMOVED;
    this.arrivals.length = 0;
    this.head = 0;
    this.waiting = 0;
    if (this.heap) this.heap.length = 0;
    return out;
  }

  private skipGone(): void {
    const arrivals = this.arrivals;
    while (this.head < arrivals.length && arrivals[this.head]!.state !== WAITING) this.head++;
    if (this.head === arrivals.length) {
      arrivals.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > arrivals.length) {
      arrivals.splice(0, this.head);
      this.head = 0;
    }
  }

  // Max-heap on (rank desc, seq asc).
  private before(a: QueueEntry<T>, b: QueueEntry<T>): boolean {
    return a.rank > b.rank || (a.rank === b.rank && a.seq < b.seq);
  }

  private heapPush(entry: QueueEntry<T>): void {
    const heap = this.heap!;
    entry.heapIndex = heap.length;
    heap.push(entry);
    this.siftUp(entry.heapIndex);
  }

  private heapPop(): QueueEntry<T> {
    const heap = this.heap!;
    const top = heap[0]!;
    this.heapRemove(top);
    return top;
  }

  private heapRemove(entry: QueueEntry<T>): void {
    const heap = this.heap!;
    const i = entry.heapIndex;
    const last = heap.pop()!;
    entry.heapIndex = -1;
    if (last === entry) return;
    heap[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  private siftUp(i: number): void {
    const heap = this.heap!;
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
    const heap = this.heap!;
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
