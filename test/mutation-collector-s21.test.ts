/**
 * The collector's evaluation and timer (src/internal/collector.ts :180-300: `evaluate`, `armTimer`) against what
 * its documentation says, where mutation testing found it unguarded (issue 17, stop 21, docs/testing.md).
 */
import { VirtualTimeScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatchCollector } from '../src/internal/collector.js';
import type { WindowSettings } from '../src/internal/windowSettings.js';

const settings: WindowSettings = { windowMs: 10, maxSize: 10, minSize: 1, maxWaitMs: 100 };

/** A scheduler that counts the timers set through it. */
function counting(inner: SchedulerLike): { scheduler: SchedulerLike; scheduled: () => number } {
  let scheduled = 0;
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S): Subscription {
      scheduled += 1;
      return inner.schedule<S>(work, delay, state);
    },
  };
  return { scheduler, scheduled: () => scheduled };
}

describe('close() and onDrained', () => {
  it('a closed collector without onDrained (an optional hook) empties without throwing', () => {
    const scheduler = new VirtualTimeScheduler();
    const batches: string[][] = [];
    const c = new BatchCollector<string>({ scheduler, settings: () => settings, emit: (batch) => batches.push(batch) });
    c.push('a');
    expect(() => c.close()).not.toThrow();
    expect(batches).toEqual([['a']]);
    expect(c.size).toBe(0);
  });

  it('dispose() during the last batch ends the collector there: onDrained is not called after it', () => {
    const scheduler = new VirtualTimeScheduler();
    const batches: string[][] = [];
    let drained = 0;
    const c: BatchCollector<string> = new BatchCollector<string>({
      scheduler,
      settings: () => settings,
      emit: (batch) => {
        batches.push(batch);
        c.dispose(); // the owner tears down while handling the batch
      },
      onDrained: () => (drained += 1),
    });
    c.push('a');
    c.close();
    scheduler.flush();
    expect(batches).toEqual([['a']]);
    expect(drained).toBe(0);
  });
});

describe('armTimer: a timer due no later than needed stays', () => {
  it('re-evaluations that find the same next moment (a waiting value taken back) keep the armed timer', () => {
    const inner = new VirtualTimeScheduler();
    const { scheduler, scheduled } = counting(inner);
    const batches: [number, string[]][] = [];
    const c = new BatchCollector<string>({
      scheduler,
      settings: () => settings,
      emit: (batch) => batches.push([inner.now(), batch]),
    });
    c.push('a'); // the window's timer: due at 10
    const entries = ['b', 'c', 'd'].map((v) => c.push(v, { withdrawable: true })!);
    for (const entry of entries) expect(c.withdraw(entry, new Error('taken back'))).toBe(true);
    c.refresh();
    // One timer for the window, not one more per withdrawal and refresh (each re-evaluates to the same moment).
    expect(scheduled()).toBe(1);
    inner.flush();
    expect(batches).toEqual([[10, ['a']]]);
  });
});
