/**
 * The engine's waiting queue (src/internal/waitingQueue.ts), cases that mutation testing found unguarded by the
 * examples (issue 17, stop 21, docs/testing.md): the oldest arrival of an empty queue, a queue emptied by
 * drainAll, and the memory that withdrawals and takes by priority leave behind.
 */
import { describe, expect, it } from 'vitest';
import { PriorityHeap, WaitingQueue } from '../src/internal/waitingQueue.js';

interface Stamped {
  readonly name: string;
  readonly at: number;
}
const stamped = (name: string, at: number): Stamped => ({ name, at });

describe('WaitingQueue.oldestArrivedAt', () => {
  it('is undefined for an empty queue that reads the times from its values, without asking for the time of none', () => {
    const queue = new WaitingQueue<Stamped>(undefined, 0, (value) => value.at);
    expect(queue.oldestArrivedAt()).toBeUndefined();
    queue.push(stamped('a', 5), 5, 0, false);
    expect(queue.oldestArrivedAt()).toBe(5);
    expect(queue.take(1).map((v) => v.name)).toEqual(['a']);
    expect(queue.oldestArrivedAt()).toBeUndefined();
  });
});

describe('WaitingQueue.drainAll', () => {
  it('leaves a queue keeping the times itself as a new one: the next value is the oldest, at its own time', () => {
    const queue = new WaitingQueue<string>(undefined, 0);
    queue.push('a', 1, 0, false);
    queue.push('b', 2, 0, true);
    expect(queue.drainAll()).toEqual(['a', 'b']);
    queue.push('c', 7, 0, false);
    expect(queue.size).toBe(1);
    expect(queue.oldestArrivedAt()).toBe(7);
    expect(queue.take(4)).toEqual(['c']);
  });

  it('leaves a queue by priority as a new one: the drained values are out of its order too', () => {
    const queue = new WaitingQueue<string>(new PriorityHeap<string>(), 0);
    queue.push('a', 1, 5, false);
    queue.push('b', 2, 9, false);
    expect(queue.drainAll()).toEqual(['a', 'b']);
    queue.push('c', 7, 0, false);
    expect(queue.take(4)).toEqual(['c']);
    expect(queue.size).toBe(0);
  });
});

/**
 * Memory (see test/mutation-waitingQueue-s20.test.ts): values that leave out of arrival order leave dead slots,
 * and the arrival order is compacted once those outnumber the waiting values and COMPACT_SLACK (32).
 */
describe('WaitingQueue: values leaving out of arrival order are compacted away', () => {
  it('withdrawn behind a value that keeps waiting: compacted at the 33rd of 60 withdrawn', () => {
    const queue = new WaitingQueue<number>(undefined, 0);
    const entries = Array.from({ length: 60 }, (_, i) => queue.push(i, i, 0, true)!);
    // 0 keeps waiting at the head; 1-33 leave: 33 dead, 27 waiting
    for (let i = 1; i <= 33; i++) expect(queue.remove(entries[i]!)).toBe(true);
    expect(queue.compactionWork).toBe(60);
    expect(queue.footprint).toBe(27);
    expect(queue.oldestArrivedAt()).toBe(0);
    expect(queue.take(60)).toEqual([0, ...Array.from({ length: 26 }, (_, i) => 34 + i)]);
  });

  it('taken by priority past a value that keeps waiting: compacted once they outnumber it and the slack', () => {
    const queue = new WaitingQueue<number>(new PriorityHeap<number>(), 0);
    queue.push(0, 0, 0, false); // the least urgent: stays
    for (let i = 1; i <= 40; i++) queue.push(i, i, 1, false);
    expect(queue.take(40)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(queue.compactionWork).toBe(41);
    expect(queue.footprint).toBe(1);
    expect(queue.oldestArrivedAt()).toBe(0);
    expect(queue.take(1)).toEqual([0]);
  });
});
