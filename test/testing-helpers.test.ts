import { describe, expect, it } from 'vitest';
import { trackTimers, virtualClock } from '../src/testing/index.js';

describe('trackTimers', () => {
  it('counts a timer until it has run or been cancelled, a rescheduled one included', () => {
    const clock = virtualClock();
    const { scheduler, pending } = trackTimers(clock.scheduler);
    const runs: number[] = [];
    scheduler.schedule<number>(function (n = 0) {
      runs.push(n);
      if (n < 2) this.schedule(n + 1, 10);
    }, 10);
    const cancelled = scheduler.schedule(() => runs.push(-1), 100);
    expect(pending()).toBe(2);
    clock.advanceBy(10);
    expect(runs).toEqual([0]);
    expect(pending()).toBe(2);
    clock.advanceBy(20);
    expect(runs).toEqual([0, 1, 2]);
    expect(pending()).toBe(1);
    cancelled.unsubscribe();
    expect(pending()).toBe(0);
  });
});
