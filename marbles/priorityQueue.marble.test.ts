/**
 * The prioritised waiting queue reclaims the slots of requests served past one that still waits (issue 11, item
 * 12). These marbles check that `maxWaitMs` is still measured from the oldest request *still waiting* after the
 * queue has compacted around it, when older requests left first by priority.
 */
import { filter, ignoreElements, map, merge, mergeMap, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import type { BatchResult } from '../src/types.js';
import { testScheduler } from './helpers.js';

interface Req {
  readonly name: string;
  readonly priority: number;
}

const req = (name: string, priority: number): Req => ({ name, priority });

/**
 * One execution slot. The first batch (k1, k2) takes 5 frames; every later one answers at once, so when the slot
 * frees at frame 5 everything that waited is batched in that frame, two at a time, most urgent first.
 */
function pipeline(highs: number) {
  const execute = (items: Req[]) => {
    const answers = items.map((r) => r.name.toUpperCase());
    return items.some((r) => r.name === 'k1') ? timer(5).pipe(map(() => answers)) : answers;
  };
  const at = (frame: number, requests: Req[]) => timer(frame).pipe(mergeMap(() => requests));
  const source = merge(
    at(0, [req('k1', 10), req('k2', 10)]),
    at(1, [req('o1', 9), req('o2', 9)]),
    // y is younger than o1 and o2 but less urgent than everything after it.
    at(4, [req('y', 0), ...Array.from({ length: highs }, (_, i) => req(`h${i}`, 5))]),
    timer(40).pipe(ignoreElements()), // the source stays open past y's deadline
  );
  return source.pipe(
    batchDedup<Req, string>({
      execute,
      key: (r) => r.name,
      enablePriorities: true,
      priority: (r) => r.priority,
      priorityAgingPerSecond: 0,
      maxSize: 2,
      windowMs: 100,
      maxWaitMs: 20,
      concurrency: 1,
    }),
  );
}

describe('prioritised queue: maxWaitMs after the oldest requests left by priority', () => {
  it.each([
    ['a few requests pass it (no compaction)', 4],
    ['thousands pass it (the queue compacts around it many times)', 5_000],
  ])('%s: the one left waiting is flushed maxWaitMs after its own arrival', (_, highs) => {
    const scheduler = testScheduler();
    const seen: [frame: number, name: string][] = [];
    scheduler.run(({ expectObservable }) => {
      const results = pipeline(highs);
      const recorded = results.pipe(
        map((r: BatchResult<Req, string>) => {
          seen.push([scheduler.now(), r.request.name]);
          expect(r.value).toBe(r.request.name.toUpperCase());
          return r;
        }),
      );
      // y arrived at 4: due at 4 + 20 = 24, not 20 (k1's arrival) nor 21 (o1's, the oldest taken by priority).
      expectObservable(recorded.pipe(filter((r) => r.request.name === 'y'), map(() => 'y'))).toBe('24ms y 15ms |');
    });
    expect(seen).toHaveLength(2 + 2 + 1 + highs);
    expect(seen.filter(([frame]) => frame === 5)).toHaveLength(2 + 2 + highs);
    // Most urgent first, FIFO within a priority: o1, o2, then the highs in arrival order.
    const order = seen.filter(([, name]) => name !== 'k1' && name !== 'k2').map(([, name]) => name);
    expect(order).toEqual(['o1', 'o2', ...Array.from({ length: highs }, (_, i) => `h${i}`), 'y']);
  });
});
