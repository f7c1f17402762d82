/**
 * The window rules of the collector (src/internal/collector.ts) that mutation testing found unguarded (issue 17,
 * docs/testing.md), through the public operators on a virtual clock.
 */
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bufferWindow } from '../src/operators/bufferWindow.js';
import { dedupBy } from '../src/operators/dedupBy.js';
import { fanOut } from '../src/operators/fanOut.js';
import { createBatchFeedback } from '../src/internal/feedback.js';
import { simulatedBackend } from '../src/testing/index.js';
import type { ExecuteContext } from '../src/types.js';
import { testScheduler } from './helpers.js';

/** Runs `source` through bufferWindow, dedupBy and fanOut sharing a channel of one slot; returns [time, items] per call. */
function executions(
  marble: string,
  options: { windowMs: number; maxSize?: number; minSize?: number; maxWaitMs?: number },
  durationMs: (n: number) => number,
) {
  const scheduler = testScheduler();
  const calls: [number, string][] = [];
  scheduler.run(({ hot }) => {
    const backend = simulatedBackend({ scheduler, durationMs, compute: (q: string) => q.toUpperCase() });
    const feedback = createBatchFeedback(1);
    const execute = (items: string[], context: ExecuteContext) => {
      calls.push([scheduler.now(), items.join('')]);
      return backend.execute(items, context);
    };
    hot(marble)
      .pipe(bufferWindow<string>({ ...options, feedback }), dedupBy(), fanOut({ execute, feedback, concurrency: 1 }))
      .subscribe();
  });
  return calls;
}

describe('a full buffer that waited for a free slot', () => {
  it('leaves the values past maxSize behind in a window of their own, opened when the full batch leaves', () => {
    // a runs 10-15. b, c and d arrive at 11: the window opened at 11 is full with b and c, which wait for the
    // slot; at 15 they leave, and d, left behind, starts a window of its own (15-25) rather than keeping 11-21.
    const calls = executions('a 10ms (bcd) 40ms |', { windowMs: 10, maxSize: 2 }, () => 5);
    expect(calls).toEqual([
      [10, 'a'],
      [15, 'bc'],
      [25, 'd'],
    ]);
  });

  it('leaves them due at once when the window they were in had already closed', () => {
    // a (alone: 15 ms) runs 10-25, past the end of b, c and d's window (11-21). At 25 b and c leave (2 ms each
    // call of two), and d, whose window has closed, leaves as soon as the slot frees again, at 27, not 10 ms later.
    const calls = executions('a 10ms (bcd) 60ms |', { windowMs: 10, maxSize: 2 }, (n) => (n === 1 ? 15 : 2));
    expect(calls).toEqual([
      [10, 'a'],
      [25, 'bc'],
      [27, 'd'],
    ]);
  });
});

describe('a window timer that fires late (the event loop was busy)', () => {
  // The clock is moved past the window's end without running the timer due at it, as a busy event loop does.
  function lateTimer() {
    const scheduler = new VirtualTimeScheduler();
    const source = new Subject<string>();
    const batches: [number, string[]][] = [];
    source.pipe(bufferWindow<string>({ windowMs: 10, scheduler })).subscribe((batch) => batches.push([scheduler.now(), batch]));
    source.next('a'); // at 0: the window ends at 10
    scheduler.frame = 25; // the timer due at 10 has not run yet
    return { scheduler, source, batches };
  }

  it('an arrival after the window ended emits the batch at once, without waiting for the timer', () => {
    const { source, batches } = lateTimer();
    source.next('b');
    expect(batches).toEqual([[25, ['a', 'b']]]);
  });

  it('the late timer, when it runs, finds nothing more to send', () => {
    const { scheduler, source, batches } = lateTimer();
    source.next('b');
    scheduler.flush();
    expect(batches).toEqual([[25, ['a', 'b']]]);
  });
});
