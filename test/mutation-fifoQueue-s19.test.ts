/**
 * When `FifoQueue` cuts off the slots its taken values left behind (issue 17, stop 19, H-MUT5). fifoQueue.test.ts
 * checks that memory stays bounded; this file checks the other side of the promise in fifoQueue.ts's header: a cut
 * happens only once the dead front outnumbers the waiting values and `COMPACT_SLACK`, so that each cut moves fewer
 * slots than it frees (O(1) amortised per value). A cut made sooner costs a copy of what waits on every take: with a
 * thousand values waiting and batches of forty, each take would move the whole queue. `footprint` (the slots held)
 * shows whether a cut happened.
 */
import { describe, expect, it } from 'vitest';
import { COMPACT_SLACK, FifoQueue } from '../src/internal/fifoQueue.js';

/** A queue holding `count` values, 0 to count - 1, that arrived at times 0, 1, ... */
function filled(count: number): FifoQueue<number> {
  const queue = new FifoQueue<number>();
  for (let i = 0; i < count; i++) queue.push(i, i);
  return queue;
}

describe('FifoQueue cuts its dead front only when that frees more than it moves', () => {
  it('a small dead front that outnumbers the waiting values (8 dead, 2 waiting) is kept: within COMPACT_SLACK', () => {
    expect(COMPACT_SLACK).toBe(32);
    const queue = filled(10);
    expect(queue.take(8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(queue.footprint).toBe(10);
    expect(queue.size).toBe(2);
    expect(queue.take(5)).toEqual([8, 9]);
  });

  it('a dead front of exactly COMPACT_SLACK slots is kept, one more is cut', () => {
    const queue = filled(40);
    expect(queue.take(COMPACT_SLACK)).toHaveLength(COMPACT_SLACK);
    expect(queue.footprint).toBe(40);
    expect(queue.take(1)).toEqual([COMPACT_SLACK]);
    // 33 dead slots, 7 waiting: cut.
    expect(queue.footprint).toBe(7);
    expect(queue.oldestArrivedAt()).toBe(COMPACT_SLACK + 1);
    expect(queue.take(100)).toEqual([33, 34, 35, 36, 37, 38, 39]);
  });

  it('a dead front past COMPACT_SLACK but fewer than the waiting values (40 dead, 960 waiting) is kept', () => {
    const queue = filled(1000);
    expect(queue.take(40)[39]).toBe(39);
    expect(queue.footprint).toBe(1000);
    expect(queue.oldestArrivedAt()).toBe(40);
  });

  it('a dead front as large as what waits (50 dead, 50 waiting) is kept; once it outnumbers it, it is cut', () => {
    const queue = filled(100);
    queue.take(50);
    expect(queue.footprint).toBe(100);
    expect(queue.take(1)).toEqual([50]);
    expect(queue.footprint).toBe(49);
    expect(queue.oldestArrivedAt()).toBe(51);
  });

  it('batches of forty out of a thousand waiting cut only about every other batch, each cut moving fewer slots than it frees', () => {
    const queue = filled(1000);
    let cuts = 0;
    let next = 0;
    while (queue.size > 0) {
      const before = queue.footprint;
      const size = queue.size;
      const out = queue.take(40);
      expect(out[0]).toBe(next);
      next += out.length;
      if (queue.size > 0 && queue.footprint < before) {
        cuts++;
        // what the cut moved (the waiting values) is fewer than what it freed (the dead front)
        const freed = before - queue.footprint;
        expect(queue.footprint).toBeLessThan(freed);
        expect(queue.footprint).toBe(size - out.length);
      }
    }
    expect(next).toBe(1000);
    expect(cuts).toBeLessThanOrEqual(6);
    expect(cuts).toBeGreaterThanOrEqual(1);
  });
});
