/**
 * Timing rules of the collector's evaluation (src/internal/collector.ts :180-300: `evaluate`)
 * that mutation testing found unguarded (issue 17, stop 21, docs/testing.md), on TestScheduler's virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { BatchCollector, WindowCollector } from '../src/internal/collector.js';
import { FifoQueue } from '../src/internal/fifoQueue.js';
import type { WindowSettings } from '../src/internal/windowSettings.js';
import { hostClock } from '../test/support.js';
import { testScheduler } from './helpers.js';

describe('evaluate: the clock is read again after a batch is emitted', () => {
  it('a value pushed while a batch was emitted, whose window the emission outlasted, leaves at once', () => {
    // a and b fill the buffer at 0. Emitting them pushes c (its window: 0-10 on the clock), then takes 20 ms of
    // the wall clock (a host's clock moves during synchronous work; the virtual frame does not). c's window has
    // closed by the time the emission returns: c is due then, not 10 ms of timer later.
    const ts = testScheduler();
    const batches: [number, string[]][] = [];
    ts.run(({ flush }) => {
      const clock = hostClock(ts);
      const settings: WindowSettings = { windowMs: 10, maxSize: 2, minSize: 1, maxWaitMs: 100 };
      const collector: BatchCollector<string> = new BatchCollector<string>({
        scheduler: clock.scheduler,
        settings: () => settings,
        emit: (batch) => {
          batches.push([ts.now(), batch]);
          if (batch[0] === 'a') {
            collector.push('c');
            clock.step(20);
          }
        },
      });
      ts.schedule(() => {
        collector.push('a');
        collector.push('b');
      }, 0);
      flush();
    });
    expect(batches).toEqual([
      [0, ['a', 'b']],
      [0, ['c']],
    ]);
  });
});

describe('evaluate: an emptied queue makes the next arrival decide afresh', () => {
  it('a window shorter than the timer left armed by the last batch closes on time', () => {
    // The window for a window opening now (`windowMs`, as adaptiveBuffer's) is 10 ms at 0 and 2 ms from 1 on.
    // a and b fill the buffer at 0, leaving a's timer (due at 10) armed; c opens a window of 2 ms at 1, which
    // must close at 3, not when the old timer runs out.
    const ts = testScheduler();
    const batches: [number, string[]][] = [];
    ts.run(({ flush }) => {
      let windowMs = 10;
      const settings: WindowSettings = { windowMs: 10, maxSize: 2, minSize: 1, maxWaitMs: 100 };
      const collector = new WindowCollector<string>(
        {
          scheduler: ts,
          settings: () => settings,
          windowMs: () => windowMs,
          emit: (batch) => batches.push([ts.now(), batch]),
        },
        new FifoQueue<string>(),
      );
      ts.schedule(() => {
        collector.push('a');
        collector.push('b');
        windowMs = 2;
      }, 0);
      ts.schedule(() => collector.push('c'), 1);
      flush();
    });
    expect(batches).toEqual([
      [0, ['a', 'b']],
      [3, ['c']],
    ]);
  });
});
