/**
 * The engine's waiting queue (src/internal/waitingQueue.ts) against a model, found unguarded by mutation testing
 * (issue 17, docs/testing.md): values leave in arrival order, or by priority with aging (ties by arrival), an
 * earlier arrival queued again (`insert`) takes the place its time gives it, `raise` only moves an entry up,
 * `remove` takes out only what waits, every entry is unwatched exactly once as it leaves, the oldest waiting
 * arrival stays right, and memory and compaction work stay bounded by what waits and what left.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as waitingQueue from '../src/internal/waitingQueue.js';
import { QueueEntry, WaitingQueue } from '../src/internal/waitingQueue.js';

/**
 * A queue by priority or in arrival order. The constructor's first argument is the priority heap where the file
 * exports `PriorityHeap` (the opt-in priorities of issue 18), the flag before that: this file runs on both.
 */
function makeQueue<T>(prioritized: boolean, agingPerMs: number, arrivalOf?: (value: T) => number): WaitingQueue<T> {
  const Heap = (waitingQueue as Record<string, unknown>)['PriorityHeap'] as (new () => unknown) | undefined;
  const order = Heap === undefined ? prioritized : prioritized ? new Heap() : undefined;
  return new WaitingQueue<T>(order as never, agingPerMs, arrivalOf);
}

type Op =
  | { kind: 'push'; gap: number; priority: number; trackable: boolean; count: number }
  | { kind: 'insert'; back: number; priority: number; trackable: boolean }
  | { kind: 'take'; n: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'raise'; pick: number; priority: number }
  | { kind: 'drain' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      gap: fc.integer({ min: 0, max: 3 }),
      priority: fc.integer({ min: -3, max: 3 }),
      trackable: fc.boolean(),
      count: fc.integer({ min: 1, max: 30 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      back: fc.integer({ min: 0, max: 8 }),
      priority: fc.integer({ min: -3, max: 3 }),
      trackable: fc.boolean(),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('raise' as const), pick: fc.nat(), priority: fc.integer({ min: -3, max: 6 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const) }) },
);

interface Item {
  value: number;
  arrivedAt: number;
  rank: number;
  seq: number;
  entry: QueueEntry<number> | undefined;
  waiting: boolean;
}

function run(ops: readonly Op[], prioritized: boolean, agingPerMs: number, keepsTimes: boolean): void {
  const arrival = new Map<number, number>();
  const queue = makeQueue<number>(prioritized, agingPerMs, keepsTimes ? undefined : (v) => arrival.get(v)!);
  const all: Item[] = [];
  /** Waiting items in arrival order (ties: order of queueing). */
  let waiting: Item[] = [];
  const unwatched = new Map<number, number>();
  let now = 0;
  let next = 0;
  let seq = 0;
  let left = 0;
  const add = (arrivedAt: number, priority: number, trackable: boolean, earlier: boolean) => {
    const value = next++;
    arrival.set(value, arrivedAt);
    const entry = earlier
      ? queue.insert(value, arrivedAt, priority, trackable)
      : queue.push(value, arrivedAt, priority, trackable);
    if (prioritized || trackable) {
      expect(entry).toBeInstanceOf(QueueEntry);
      expect(entry!.value).toBe(value);
      entry!.unwatch = () => unwatched.set(value, (unwatched.get(value) ?? 0) + 1);
    } else {
      expect(entry).toBeUndefined();
    }
    const item: Item = { value, arrivedAt, rank: priority - agingPerMs * arrivedAt, seq: entry ? seq++ : -1, entry, waiting: true };
    all.push(item);
    let at = waiting.length;
    while (at > 0 && waiting[at - 1]!.arrivedAt > arrivedAt) at--;
    waiting.splice(at, 0, item);
  };
  const leave = (item: Item) => {
    item.waiting = false;
    left++;
    waiting = waiting.filter((w) => w !== item);
  };
  const tracked = () => all.filter((item) => item.entry !== undefined);
  for (const op of ops) {
    switch (op.kind) {
      case 'push':
        now += op.gap;
        for (let i = 0; i < op.count; i++) add(now, op.priority, op.trackable, false);
        break;
      case 'insert':
        add(Math.max(0, now - op.back), op.priority, op.trackable, true);
        break;
      case 'take': {
        const order = prioritized
          ? [...waiting].sort((a, b) => b.rank - a.rank || a.seq - b.seq)
          : waiting;
        const expected = order.slice(0, op.n);
        expect(queue.take(op.n)).toEqual(expected.map((item) => item.value));
        for (const item of expected) leave(item);
        break;
      }
      case 'remove': {
        const candidates = tracked();
        if (candidates.length === 0) break;
        const item = candidates[op.pick % candidates.length]!;
        const wasWaiting = item.waiting;
        expect(queue.remove(item.entry!)).toBe(wasWaiting);
        if (wasWaiting) leave(item);
        break;
      }
      case 'raise': {
        const candidates = tracked();
        if (candidates.length === 0) break;
        const item = candidates[op.pick % candidates.length]!;
        queue.raise(item.entry!, op.priority, now);
        const rank = op.priority - agingPerMs * now;
        if (prioritized && item.waiting && rank > item.rank) item.rank = rank;
        break;
      }
      case 'drain':
        expect(queue.drainAll()).toEqual(waiting.map((item) => item.value));
        for (const item of [...waiting]) leave(item);
        break;
    }
    expect(queue.size).toBe(waiting.length);
    expect(queue.oldestArrivedAt()).toBe(waiting[0]?.arrivedAt);
    expect(queue.footprint).toBeLessThanOrEqual(2 * queue.size + 34);
    expect(queue.compactionWork).toBeLessThanOrEqual(2 * left + 34);
    for (const item of tracked()) expect(unwatched.get(item.value) ?? 0).toBe(item.waiting ? 0 : 1);
  }
  expect(queue.drainAll()).toEqual(waiting.map((item) => item.value));
  expect([queue.size, queue.footprint, queue.oldestArrivedAt()]).toEqual([0, 0, undefined]);
  for (const item of tracked()) expect(unwatched.get(item.value)).toBe(1);
}

const opsArb = fc.array(opArb, { minLength: 1, maxLength: 60 });

describe('WaitingQueue against a model', () => {
  it('in arrival order, keeping the times itself', () => {
    fc.assert(fc.property(opsArb, (ops) => run(ops, false, 0, true)), { numRuns: 100 });
  });

  it('in arrival order, reading the times from the values', () => {
    fc.assert(fc.property(opsArb, (ops) => run(ops, false, 0, false)), { numRuns: 100 });
  });

  it('by priority without aging (ties by arrival)', () => {
    fc.assert(fc.property(opsArb, (ops) => run(ops, true, 0, true)), { numRuns: 100 });
  });

  it('by priority with aging, reading the times from the values', () => {
    fc.assert(
      fc.property(opsArb, fc.integer({ min: 1, max: 3 }), (ops, aging) => run(ops, true, aging, false)),
      { numRuns: 100 },
    );
  });
});

describe('WaitingQueue, cases the model rarely reaches', () => {
  it('after a compaction that keeps one withdrawable value, a take still answers values, not their entries', () => {
    const queue = makeQueue<string>(false, 0);
    for (let i = 0; i < 40; i++) queue.push(`p${i}`, i, 0, false);
    queue.push('e', 40, 0, true);
    expect(queue.take(40)).toHaveLength(40); // 40 dead slots before the one left: compacted
    expect(queue.footprint).toBe(1);
    queue.push('f', 41, 0, true);
    expect(queue.take(2)).toEqual(['e', 'f']);
  });

  it.each([
    ['keeping the times itself', undefined],
    ['reading the times from the values', (v: string) => Number(v.slice(1))],
  ] as const)('an earlier arrival queued again goes before the later ones (%s)', (_, arrivalOf) => {
    const queue = makeQueue<string>(false, 0, arrivalOf);
    queue.push('t10', 10, 0, false);
    queue.push('t30', 30, 0, true);
    queue.insert('t20', 20, 0, false);
    queue.insert('t5', 5, 0, true);
    expect(queue.oldestArrivedAt()).toBe(5);
    expect(queue.take(4)).toEqual(['t5', 't10', 't20', 't30']);
  });

  it('a withdrawable value queued again after such a compaction is answered as a value too', () => {
    const queue = makeQueue<string>(false, 0);
    for (let i = 0; i < 40; i++) queue.push(`p${i}`, i, 0, false);
    queue.push('e', 40, 0, true);
    expect(queue.take(40)).toHaveLength(40);
    queue.insert('f', 35, 0, true); // earlier than e: placed before it
    expect(queue.take(2)).toEqual(['f', 'e']);
  });

  it('by priority, equal ranks leave in the order the values were queued, a value queued again included', () => {
    const queue = makeQueue<string>(true, 0);
    queue.push('a', 10, 1, false);
    queue.insert('b', 5, 1, false);
    queue.push('c', 11, 1, false);
    queue.push('d', 12, 1, false);
    expect(queue.take(4)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('with aging, a value queued again ranks by its own arrival: priority less the aging since the first arrival', () => {
    const queue = makeQueue<string>(true, 1);
    queue.push('a', 100, 0, false); // rank 0
    queue.push('c', 110, 9, false); // rank 9 - 10 = -1
    queue.insert('b', 104, 0, false); // rank -4
    expect(queue.take(3)).toEqual(['a', 'c', 'b']);
  });

  it('raise() moves an entry up to the rank an equal request arriving now would have', () => {
    const queue = makeQueue<string>(true, 1);
    queue.push('a', 100, 0, false); // rank 0
    const b = queue.push('b', 101, 0, false)!; // rank -1
    queue.raise(b, 3, 102); // 3 - 2 = 1
    expect(queue.take(2)).toEqual(['b', 'a']);
  });

  it('raise() never moves an entry down, nor up for a request whose aged rank is no higher', () => {
    const queue = makeQueue<string>(true, 1);
    queue.push('a', 100, 0, false); // rank 0
    const b = queue.push('b', 101, 0, false)!; // rank -1
    queue.raise(b, 1, 102); // 1 - 2 = -1: no higher
    queue.raise(b, -5, 102);
    expect(queue.take(2)).toEqual(['a', 'b']);
  });
});
