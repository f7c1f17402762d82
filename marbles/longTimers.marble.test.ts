/**
 * Timing rules with delays the host's timers cannot hold. `setTimeout` and `setInterval` (Node and browsers)
 * turn any delay above 2^31-1 ms into about 1 ms, so every timer the library sets must chain such a delay.
 * These marbles run on `clamping(testScheduler)`: a TestScheduler that clamps the way those timers do, so a
 * timer set with a long delay fires at frame 1 unless the library chains it. `Infinity` means no timer at all.
 */
import { map, NEVER, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import { bufferWindow } from '../src/operators/bufferWindow.js';
import { fanOut } from '../src/operators/fanOut.js';
import { outcome, simulatedBackend, trackTimers } from '../src/testing/index.js';
import type { DedupedBatch } from '../src/types.js';
import { hostClock } from '../test/support.js';
import { testScheduler } from './helpers.js';

/** `inner`, with every delay (rescheduling included) clamped the way `setTimeout` clamps it. */
const clamping = (inner: SchedulerLike): SchedulerLike => hostClock(inner).scheduler;

/** A marble frame count as time progression: `${ms}ms`. */
const after = (ms: number) => `${ms}ms`;

const upper = (s: string) => s.toUpperCase();
const one = (item: string): DedupedBatch<string> => ({ items: [item], unique: [item], leaderOf: [0] });

describe('timers longer than 2^31-1 ms', () => {
  it('the clamping scheduler fires a long timer at frame 1 (what the library must not rely on)', () => {
    const scheduler = testScheduler();
    const fired: number[] = [];
    scheduler.run(() => {
      clamping(scheduler).schedule(() => fired.push(scheduler.now()), 3e9);
    });
    expect(fired).toEqual([1]);
  });

  it.each([2 ** 31, 3e9, 2 ** 32])('bufferWindow closes a window of %d ms exactly then, not after 1 ms', (windowMs) => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const source = hot('a');
      const scheduler = clamping(test);
      expectObservable(source.pipe(bufferWindow({ windowMs, scheduler }))).toBe(`${after(windowMs)} x`, { x: ['a'] });
    });
  });

  it('bufferWindow honours a maxWaitMs of 2^32 for a window held open by minSize', () => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const source = hot('a');
      const scheduler = clamping(test);
      const piped = source.pipe(bufferWindow({ windowMs: 10, minSize: 2, maxWaitMs: 2 ** 32, scheduler }));
      expectObservable(piped).toBe(`${after(2 ** 32)} x`, { x: ['a'] });
    });
  });

  it('bufferWindow honours Number.MAX_SAFE_INTEGER on a virtual clock', () => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const source = hot('a');
      const piped = source.pipe(bufferWindow({ windowMs: Number.MAX_SAFE_INTEGER, scheduler: test }));
      expectObservable(piped).toBe(`${after(Number.MAX_SAFE_INTEGER)} x`, { x: ['a'] });
    });
  });

  it('windowMs: Infinity batches by size alone: maxSize and completion close the window, never time', () => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const source = hot(`ab-c ${after(5e9)} d-e ${after(1e12)} |`);
      const expected = `---x ${after(5e9)} --- ${after(1e12)} (y|)`;
      const piped = source.pipe(bufferWindow({ windowMs: Infinity, maxSize: 3, scheduler: clamping(test) }));
      expectObservable(piped).toBe(expected, { x: ['a', 'b', 'c'], y: ['d', 'e'] });
    });
  });

  it('maxWaitMs: Infinity lets minSize hold a closed window until it fills, however long', () => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const source = hot(`a ${after(5e9)} b ${after(5e9)} c|`);
      const expected = `- ${after(5e9)} - ${after(5e9)} x|`;
      const piped = source.pipe(bufferWindow({ windowMs: 10, minSize: 3, maxWaitMs: Infinity, scheduler: clamping(test) }));
      expectObservable(piped).toBe(expected, { x: ['a', 'b', 'c'] });
    });
  });

  it('a zero window still collects the current frame only', () => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const source = hot(' a-b---|');
      const expected = '  x-y---|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 0, scheduler: clamping(test) }))).toBe(expected, {
        x: ['a'],
        y: ['b'],
      });
    });
  });

  it('fanOut lets a backend take 2^31 ms under processingTimeoutMs: 3e9, and times out at 3e9 exactly', () => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const fast = simulatedBackend({ scheduler: test, durationMs: () => 2 ** 31, compute: upper });
      const slow = simulatedBackend({ scheduler: test, durationMs: () => 4e9, compute: upper });
      const scheduler = clamping(test);
      const options = { processingTimeoutMs: 3e9, scheduler };
      expectObservable(hot('A', { A: one('a') }).pipe(fanOut({ ...options, execute: fast.execute }), map(outcome))).toBe(
        `${after(2 ** 31)} a`,
        { a: { request: 'a', value: 'A' } },
      );
      expectObservable(hot('B', { B: one('b') }).pipe(fanOut({ ...options, execute: slow.execute }), map(outcome))).toBe(
        `${after(3e9)} b`,
        { b: { request: 'b', error: 'BatchTimeoutError' } },
      );
    });
  });

  it('fanOut with processingTimeoutMs: Infinity sets no timer and waits for the backend as long as it takes', () => {
    const test = testScheduler();
    const tracked = trackTimers(clamping(test));
    test.run(({ hot, expectObservable }) => {
      const source = hot('A', { A: one('a') });
      const piped = source.pipe(fanOut({ execute: () => NEVER, processingTimeoutMs: Infinity, scheduler: tracked.scheduler }));
      expectObservable(piped, `^ ${after(1e15)} !`).toBe('');
      test.schedule(() => expect(tracked.pending()).toBe(0), 1e14);
    });
  });

  it('batchDedup honours requestTimeoutMs: 2^32 while every slot is busy for 5e9 ms', () => {
    const test = testScheduler();
    test.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler: test, durationMs: () => 5e9, compute: upper });
      const source = hot('ab');
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          windowMs: 0,
          concurrency: 1,
          requestTimeoutMs: 2 ** 32,
          processingTimeoutMs: 1e10,
          scheduler: clamping(test),
        }),
        map(outcome),
      );
      // b waits from frame 1 behind a's batch (0 to 5e9); its deadline is 1 + 2^32, so it is never sent.
      expectObservable(piped).toBe(`${after(2 ** 32 + 1)} b ${after(5e9 - 2 ** 32 - 2)} a`, {
        a: { request: 'a', value: 'A' },
        b: { request: 'b', error: 'BatchTimeoutError' },
      });
    });
  });

  it('unsubscribing in the middle of a chained timer cancels the link that is pending', () => {
    const test = testScheduler();
    const tracked = trackTimers(clamping(test));
    test.run(({ hot, expectObservable }) => {
      const source = hot('a');
      const piped = source.pipe(bufferWindow({ windowMs: 1e10, scheduler: tracked.scheduler }));
      expectObservable(piped, `^ ${after(5e9)} !`).toBe('');
      test.schedule(() => expect(tracked.pending()).toBe(1), 4e9);
      test.schedule(() => expect(tracked.pending()).toBe(0), 6e9);
    });
  });
});
