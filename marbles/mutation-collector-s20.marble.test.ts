/**
 * Timing rules of the engine's collector (src/internal/collector.ts: `BatchCollector.readmit`, `watchWaiting`)
 * that mutation testing found unguarded (issue 17, stop 20, docs/testing.md), on TestScheduler's virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError } from '../src/errors.js';
import { BatchCollector, watchWaiting } from '../src/internal/collector.js';
import type { WindowSettings } from '../src/internal/windowSettings.js';
import { testScheduler } from './helpers.js';

const settings: WindowSettings = { windowMs: 10, maxSize: 10, minSize: 1, maxWaitMs: 100 };

describe('BatchCollector.readmit', () => {
  it('opens a window at the readmission when none is open: the value leaves windowMs later, not at its maxWaitMs', () => {
    const scheduler = testScheduler();
    const batches: [number, string[]][] = [];
    scheduler.run(({ flush }) => {
      const collector = new BatchCollector<string>({
        scheduler,
        settings: () => settings,
        emit: (batch) => batches.push([scheduler.now(), batch]),
      });
      // `a` arrived at 0 (it followed a request withdrawn since); queued again at 5 into an empty collector.
      scheduler.schedule(() => collector.readmit('a', 0), 5);
      flush();
    });
    // The window opened at 5 closes at 15; maxWaitMs, counted from a's own arrival, would be at 100.
    expect(batches).toEqual([[15, ['a']]]);
  });

  it('keeps the open window when one is open: the readmitted value leaves with the values already waiting', () => {
    const scheduler = testScheduler();
    const batches: [number, string[]][] = [];
    scheduler.run(({ flush }) => {
      const collector = new BatchCollector<string>({
        scheduler,
        settings: () => settings,
        emit: (batch) => batches.push([scheduler.now(), batch]),
      });
      scheduler.schedule(() => collector.push('b'), 2);
      scheduler.schedule(() => collector.readmit('a', 1), 6);
      flush();
    });
    // b's window (2-12); a takes the place its arrival (1) gives it, before b.
    expect(batches).toEqual([[12, ['a', 'b']]]);
  });
});

describe('watchWaiting', () => {
  it('without timeoutMs, counts the timeout from now to the deadline, in the error it leaves with', () => {
    const scheduler = testScheduler();
    const left: [number, unknown][] = [];
    scheduler.run(({ flush }) => {
      scheduler.schedule(() => {
        watchWaiting(scheduler, { deadline: 30 }, 10, (error) => left.push([scheduler.now(), error]));
      }, 10);
      flush();
    });
    expect(left).toHaveLength(1);
    const [at, error] = left[0]!;
    expect(at).toBe(30);
    expect(error).toBeInstanceOf(BatchTimeoutError);
    expect((error as BatchTimeoutError).timeoutMs).toBe(20);
    expect((error as BatchTimeoutError).message).toBe('request waited 20 ms in the queue (requestTimeoutMs)');
  });

  it('with timeoutMs, names that length, and still leaves at the deadline', () => {
    const scheduler = testScheduler();
    const left: [number, unknown][] = [];
    scheduler.run(({ flush }) => {
      scheduler.schedule(() => {
        watchWaiting(scheduler, { deadline: 30, timeoutMs: 25 }, 10, (error) => left.push([scheduler.now(), error]));
      }, 10);
      flush();
    });
    expect(left.map(([at, error]) => [at, (error as BatchTimeoutError).timeoutMs])).toEqual([[30, 25]]);
  });
});
