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
