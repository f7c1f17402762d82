/**
 * The engine's waiting queue (src/internal/waitingQueue.ts), cases that mutation testing found unguarded by the
 * examples (issue 17, stop 20, docs/testing.md; test/mutation-queue.test.ts's model test reaches some of them only
 * in a share of its runs): insert's place and rank, raise never lowering, what take and insert return.
 */
import { describe, expect, it } from 'vitest';
import { PriorityHeap, WaitingQueue } from '../src/internal/waitingQueue.js';

const fifo = <T>(arrivalOf?: (value: T) => number) => new WaitingQueue<T>(undefined, 0, arrivalOf);
const prioritized = <T>(agingPerMs = 0) => new WaitingQueue<T>(new PriorityHeap<T>(), agingPerMs);

describe('WaitingQueue.insert', () => {
  it('a plain value (no priorities, not trackable) queued again earlier is stored as a value: no entry returned', () => {
    const queue = fifo<string>();
    queue.push('b', 10, 0, false);
    expect(queue.insert('a', 5, 0, false)).toBeUndefined();
    expect(queue.take(2)).toEqual(['a', 'b']);
  });

  it('a trackable value queued again earlier gets an entry that withdraws it', () => {
    const queue = fifo<string>();
    queue.push('b', 10, 0, false);
    const entry = queue.insert('a', 5, 0, true)!;
    expect(entry.value).toBe('a');
    expect(queue.remove(entry)).toBe(true);
    expect(queue.take(2)).toEqual(['b']);
  });

  it.each([
    ['into an empty queue', [] as [string, number][], ['x']],
    ['no earlier than the latest', [['a', 1], ['b', 7]] as [string, number][], ['a', 'b', 'x']],
  ])('%s: the value goes at the end of the arrival order, as push puts it', (_, before, order) => {
    for (const arrivalOf of [undefined, (v: string) => (v === 'x' ? 7 : v === 'a' ? 1 : 7)]) {
      const queue = fifo<string>(arrivalOf);
      for (const [v, t] of before) queue.push(v, t, 0, false);
      expect(queue.insert('x', 7, 0, false)).toBeUndefined();
      expect(queue.size).toBe(before.length + 1);
      expect(queue.oldestArrivedAt()).toBe(before.length === 0 ? 7 : 1);
      expect(queue.take(9)).toEqual(order);
    }
  });

  it('with aging, an earlier arrival queued again ranks by its own arrival time since the first arrival', () => {
    const queue = prioritized<string>(1);
    queue.push('a', 100, 0, false); // rank 0 (the first arrival sets the epoch)
    queue.push('c', 110, 0, false); // rank -10
    queue.insert('b', 105, 0, false); // rank -5: between a and c
    expect(queue.take(3)).toEqual(['a', 'b', 'c']);
  });
});

describe('WaitingQueue.raise', () => {
  it('never lowers an entry: a lower rank leaves it where it is, for the values queued after it too', () => {
    const queue = prioritized<string>();
    const a = queue.push('a', 0, 5, false)!;
    queue.raise(a, 1, 0);
    queue.push('d', 1, 2, false); // below a (5), whatever raise was asked
    expect(queue.take(2)).toEqual(['a', 'd']);
  });

  it('an equal rank changes nothing: ties still leave in the order queued', () => {
    const queue = prioritized<string>();
    queue.push('a', 0, 3, false);
    const b = queue.push('b', 1, 3, false)!;
    queue.raise(b, 3, 1);
    expect(queue.take(2)).toEqual(['a', 'b']);
  });
});

describe('WaitingQueue.take', () => {
  it('by priority, an empty queue answers an empty batch', () => {
    const queue = prioritized<string>();
    expect(queue.take(4)).toEqual([]);
    queue.push('a', 0, 1, false);
    expect(queue.take(0)).toEqual([]);
    expect(queue.take(4)).toEqual(['a']);
    expect(queue.take(4)).toEqual([]);
  });

  it('in arrival order with entries, an empty take answers an empty batch', () => {
    const queue = fifo<string>();
    const e = queue.push('a', 0, 0, true)!;
    expect(queue.take(0)).toEqual([]);
    queue.remove(e);
    expect(queue.take(3)).toEqual([]);
  });
});

/**
 * Memory: the arrival order is compacted once its dead slots (before the head, or gone after it) outnumber both the
 * waiting values and COMPACT_SLACK (32), and not before; `compactionWork` counts the slots each compaction visited.
 */
describe('WaitingQueue: when the arrival order is compacted', () => {
  const plain = (n: number) => {
    const queue = fifo<number>();
    for (let i = 0; i < n; i++) queue.push(i, i, 0, false);
    return queue;
  };

  it.each([
    [10, 6, 0], // 6 dead, 4 waiting: fewer than the slack
    [40, 32, 0], // 32 dead, 8 waiting: not more than the slack
    [41, 33, 41], // 33 dead, 8 waiting: compacted
    [100, 33, 0], // 33 dead, 67 waiting
    [66, 33, 0], // 33 dead, 33 waiting: not more than those waiting
    [67, 34, 67], // 34 dead, 33 waiting: compacted
  ])('%i values, %i taken: compaction work %i', (n, taken, work) => {
    const queue = plain(n);
    expect(queue.take(taken)).toHaveLength(taken);
    expect(queue.compactionWork).toBe(work);
    expect(queue.footprint).toBe(work === 0 ? n : n - taken);
    // the arrival times kept alongside moved with their values (value i arrived at i), and later ones line up
    expect(queue.oldestArrivedAt()).toBe(taken);
    queue.push(1000, 1000, 0, false);
    expect(queue.take(n - taken)).toEqual(Array.from({ length: n - taken }, (_, i) => taken + i));
    expect(queue.oldestArrivedAt()).toBe(1000);
    queue.insert(999, 999, 0, false);
    expect(queue.take(2)).toEqual([999, 1000]);
  });

  it('withdrawn values the head moves past are dead once only: 20 withdrawn at the front of 60 compact nothing', () => {
    const queue = fifo<number>();
    const entries = Array.from({ length: 60 }, (_, i) => queue.push(i, i, 0, true)!);
    for (let i = 0; i < 20; i++) queue.remove(entries[i]!);
    expect(queue.compactionWork).toBe(0);
    expect(queue.oldestArrivedAt()).toBe(20);
    expect(queue.take(60)).toHaveLength(40);
  });

  it('withdrawn values a take steps over are dead once only: 20 withdrawn behind the head of 60 compact nothing', () => {
    const queue = fifo<number>();
    const entries = Array.from({ length: 60 }, (_, i) => queue.push(i, i, 0, true)!);
    for (let i = 1; i <= 20; i++) queue.remove(entries[i]!);
    // takes 0 and 21-29, stepping over the 20 withdrawn: 30 dead slots before the head, 30 waiting
    expect(queue.take(10)).toEqual([0, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    expect(queue.compactionWork).toBe(0);
    expect(queue.footprint).toBe(60);
    expect(queue.take(60)).toEqual(Array.from({ length: 30 }, (_, i) => 30 + i));
  });

  it('once every value has left, the arrival order holds nothing', () => {
    const queue = fifo<number>();
    for (let i = 0; i < 5; i++) queue.push(i, i, 0, true);
    expect(queue.take(5)).toEqual([0, 1, 2, 3, 4]);
    expect(queue.footprint).toBe(0);
    expect(queue.compactionWork).toBe(0);
    const byPriority = prioritized<number>();
    for (let i = 0; i < 5; i++) byPriority.push(i, i, i, false);
    expect(byPriority.take(5)).toEqual([4, 3, 2, 1, 0]);
    expect(byPriority.footprint).toBe(0);
  });
});

