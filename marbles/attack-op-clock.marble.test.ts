/**
 * A wall clock that steps back while a window is open (H-ATK2). The collector keeps a timer armed for an earlier
 * window when it is due no later than the next one needs ("a timer due no later than needed stays"); when that
 * timer fires after a step back, `now()` reads far before the open window's end, and the timer it armed next
 * waited for the whole step (a step back of a day held the batch a day). Each timer is now at most the open
 * window long (`maxWaitMs` while the buffer waits for `minSize`), which is never early: the window began at or
 * before the moment the timer is armed.
 */
import { map, Subject, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adaptiveBuffer, batchDedup, bufferWindow } from '../src/index.js';
import { trackTimers } from '../src/testing/index.js';
import { hostClock } from '../test/support.js';
import { testScheduler } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

/**
 * Sends `arrivals` (frame -> value) through `operator` on a clock that steps by `steps` (frame -> ms) and
 * completes at `endAt`: the frames at which each batch left, with its values.
 */
function framesOf<V>(
  operator: (scheduler: SchedulerLike) => (source: Subject<string>) => import('rxjs').Observable<V>,
  arrivals: Record<number, string[]>,
  steps: Record<number, number>,
  endAt: number,
): { batches: [number, V][]; pendingAtEnd: number } {
  const ts = testScheduler();
  const batches: [number, V][] = [];
  let pendingAtEnd = -1;
  ts.run(() => {
    const clock = hostClock(ts, 1_700_000_000_000);
    const tracked = trackTimers(clock.scheduler);
    const source = new Subject<string>();
    operator(tracked.scheduler)(source).subscribe({
      next: (batch) => batches.push([ts.now(), batch]),
      complete: () => (pendingAtEnd = tracked.pending()),
    });
    const frames = new Set([...Object.keys(arrivals), ...Object.keys(steps)].map(Number));
    for (const frame of frames) {
      ts.schedule(() => {
        if (steps[frame] !== undefined) clock.step(steps[frame]!);
        for (const value of arrivals[frame] ?? []) source.next(value);
      }, frame);
    }
    ts.schedule(() => source.complete(), endAt);
  });
  return { batches, pendingAtEnd };
}

describe('a clock stepping back while a window is open (composed operators)', () => {
  it('bufferWindow: a step back of a day does not hold the open window for a day', () => {
    // a, b fill the first buffer at 0 (its 30 ms timer stays armed); c opens the next window at 6 (it would
    // close at 36); the clock steps back a day at 20; the old timer fires at 30 and finds c's window still open.
    const { batches } = framesOf(
      (scheduler) => (source) => source.pipe(bufferWindow<string>({ windowMs: 30, maxSize: 2, maxWaitMs: 100, scheduler })),
      { 0: ['a', 'b'], 6: ['c'] },
      { 20: -DAY },
      10 * DAY,
    );
    expect(batches[0]).toEqual([0, ['a', 'b']]);
    // Not at completion (10 days): at most one window (30 ms) after the timer that found the clock stepped back.
    expect(batches[1]).toEqual([60, ['c']]);
  });

  it('bufferWindow: a step back of a day does not hold a buffer waiting for minSize for a day', () => {
    // minSize 3: b's buffer waits for company until maxWaitMs (40) after its arrival at 6.
    const { batches } = framesOf(
      (scheduler) => (source) => source.pipe(bufferWindow<string>({ windowMs: 30, maxSize: 2, minSize: 2, maxWaitMs: 40, scheduler })),
      { 0: ['a', 'a'], 6: ['b'] },
      { 20: -DAY },
      10 * DAY,
    );
    expect(batches[0]).toEqual([0, ['a', 'a']]);
    expect(batches[1]![0]).toBeLessThanOrEqual(40 + 40);
    expect(batches[1]![1]).toEqual(['b']);
  });

  it('adaptiveBuffer: steps back and forth leave no batch waiting for the length of a step', () => {
    // Arrivals 1 ms apart, the clock stepping back and forth by a day: every value leaves within maxWaitMs
    // (200 by default) of a timer, never at completion.
    const arrivals: Record<number, string[]> = {};
    for (let i = 0; i < 40; i++) arrivals[i] = [`v${i}`];
    const { batches } = framesOf(
      (scheduler) => (source) => source.pipe(adaptiveBuffer<string>({ windowMs: 30, scheduler })),
      arrivals,
      { 3: -DAY, 10: DAY, 17: -DAY, 24: DAY, 31: -DAY, 38: DAY },
      10 * DAY,
    );
    expect(batches.flatMap(([, batch]) => batch)).toEqual(Object.values(arrivals).flat());
    for (const [frame] of batches) expect(frame).toBeLessThanOrEqual(39 + 200);
  });

  it('batchDedup (the same collector): a step back of a day does not hold the open window for a day', () => {
    const { batches } = framesOf(
      (scheduler) => (source) =>
        source.pipe(
          batchDedup<string, string>({ execute: (items) => items, windowMs: 30, maxSize: 2, maxWaitMs: 100, concurrency: 4, scheduler }),
          map((result) => result.request),
        ),
      { 0: ['a', 'b'], 6: ['c'] },
      { 20: -DAY },
      10 * DAY,
    );
    expect(batches).toEqual([
      [0, 'a'],
      [0, 'b'],
      [60, 'c'],
    ]);
  });
});
