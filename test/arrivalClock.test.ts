import { asyncScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { arrivalClock } from '../src/internal/arrivalClock.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';

describe('arrivalClock', () => {
  describe('on a faked Date (asyncScheduler reads Date.now, so the clock still takes it for the real one)', () => {
    const start = new Date('2024-01-01T00:00:00.000Z').getTime();
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(start);
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it('shares one reading within a synchronous burst: the real clock as the burst\'s first call read it', () => {
      const clock = arrivalClock(asyncScheduler);
      // The clock moves 1 ms before every call; the whole burst is stamped with the time of its first call.
      const readings = Array.from({ length: 10 }, (_, i) => {
        vi.setSystemTime(start + i);
        return clock();
      });
      expect(readings).toEqual(new Array(10).fill(start));
    });

    it('keeps its reading through a jump within one synchronous run, and reads again after a microtask', async () => {
      const clock = arrivalClock(asyncScheduler);
      expect(clock()).toBe(start);
      vi.setSystemTime(start + 500);
      expect(clock()).toBe(start);
      expect(clock()).toBe(start);
      await Promise.resolve();
      expect(clock()).toBe(start + 500);
      // The new reading is cached in its turn, until the next microtask.
      vi.setSystemTime(start + 800);
      expect(clock()).toBe(start + 500);
      await Promise.resolve();
      expect(clock()).toBe(start + 800);
    });

    it('reads again every 64 calls within one synchronous run', () => {
      const clock = arrivalClock(asyncScheduler);
      expect(clock()).toBe(start); // a reading
      vi.setSystemTime(start + 500);
      // The 63 calls after a reading return it; the 64th after it reads the clock again.
      const next = Array.from({ length: 64 }, () => clock());
      expect(next.slice(0, 63)).toEqual(new Array(63).fill(start));
      expect(next[63]).toBe(start + 500);
      // And so on for the following 64, without a microtask in between.
      vi.setSystemTime(start + 900);
      const after = Array.from({ length: 64 }, () => clock());
      expect(after.slice(0, 63)).toEqual(new Array(63).fill(start + 500));
      expect(after[63]).toBe(start + 900);
    });
  });

  it('reads a virtual clock every time, even asyncScheduler patched by TestScheduler.run', () => {
    const scheduler = createTestScheduler();
    const seen: number[] = [];
    scheduler.run(() => {
      const clock = arrivalClock(asyncScheduler);
      for (const at of [0, 3, 7]) scheduler.schedule(() => seen.push(clock()), at);
    });
    expect(seen).toEqual([0, 3, 7]);
  });

  it('reads any other scheduler every time', () => {
    const virtual = virtualClock();
    const clock = arrivalClock(virtual.scheduler);
    const seen: number[] = [];
    for (const at of [2, 9]) virtual.scheduler.schedule(() => seen.push(clock()), at);
    virtual.runAll();
    expect(seen).toEqual([2, 9]);
  });
});
