/**
 * A scheduler whose clock breaks mid-flight: `now()` gives NaN or an infinity from some frame on (a scheduler
 * whose clock was finite when the operator was created; one broken from the start is refused then, see
 * test/attack-clock-broken.test.ts). Every rule compares readings, and NaN compares false with everything, so a
 * window opened at NaN never closed: nothing was batched until the source ended, and `requestTimeoutMs` never
 * fired. Now a broken reading counts as the last good one (`steadyClock`): time stands still for the comparisons,
 * and the timers, which the scheduler runs by its own count, end each window and deadline on time.
 */
import { Subject, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, bufferWindow, type BatchResult } from '../src/index.js';
import { testScheduler } from './helpers.js';

/** The test scheduler, with a clock that reads `broken` from frame `breakAt` on. */
function breakingClock(inner: SchedulerLike, breakAt: number, broken: number): SchedulerLike {
  return {
    now: () => (inner.now() >= breakAt ? broken : inner.now()),
    schedule: inner.schedule.bind(inner) as SchedulerLike['schedule'],
  };
}

describe.each([NaN, Infinity, -Infinity])('a clock that reads %s from frame 3 on', (broken) => {
  it('bufferWindow: every window still closes windowMs after it opened', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const scheduler = breakingClock(ts, 3, broken);
      const source = cold('     a 9ms b 9ms c 9ms |');
      const expected = '       5ms x 9ms y 9ms z 4ms |';
      expectObservable(source.pipe(bufferWindow<string>({ windowMs: 5, scheduler }))).toBe(expected, {
        x: ['a'],
        y: ['b'],
        z: ['c'],
      });
    });
  });

  it('bufferWindow: a buffer waiting for minSize still leaves maxWaitMs after its first value', () => {
    const ts = testScheduler();
    ts.run(({ cold, expectObservable }) => {
      const scheduler = breakingClock(ts, 3, broken);
      const source = cold('     a 19ms b 29ms |');
      const expected = '       8ms x 19ms y 21ms |';
      expectObservable(source.pipe(bufferWindow<string>({ windowMs: 5, minSize: 2, maxWaitMs: 8, scheduler }))).toBe(expected, {
        x: ['a'],
        y: ['b'],
      });
    });
  });

  it('batchDedup: batches leave on time and requestTimeoutMs still refuses a request the backend keeps waiting', () => {
    const ts = testScheduler();
    const outcomes: [number, string, string][] = [];
    ts.run(({ cold, flush }) => {
      const scheduler = breakingClock(ts, 3, broken);
      const source = new Subject<string>();
      source
        .pipe(
          batchDedup<string, string>({
            scheduler,
            windowMs: 5,
            requestTimeoutMs: 12,
            concurrency: 1,
            // 'slow' holds the only slot for 30 ms, so 'late' waits in the queue past its deadline.
            execute: (items) => cold(items.includes('slow') ? '30ms (r|)' : '1ms (r|)', { r: items.map((q) => q.toUpperCase()) }),
          }),
        )
        .subscribe((r: BatchResult<string, string>) => outcomes.push([ts.now(), r.request, r.status]));
      ts.schedule(() => source.next('a'), 0);
      ts.schedule(() => source.next('slow'), 10);
      ts.schedule(() => source.next('late'), 20);
      ts.schedule(() => source.complete(), 100);
      flush();
    });
    expect(outcomes).toEqual([
      [6, 'a', 'fulfilled'],
      [32, 'late', 'rejected'],
      [45, 'slow', 'fulfilled'],
    ]);
  });
});
