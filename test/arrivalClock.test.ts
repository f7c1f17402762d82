import { asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { arrivalClock } from '../src/internal/arrivalClock.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';

describe('arrivalClock', () => {
  it('shares one reading of the real clock within a synchronous burst, never more than 1 ms off', () => {
    const clock = arrivalClock(asyncScheduler);
    const first = clock();
    const readings = Array.from({ length: 10 }, () => clock());
    expect(readings.every((t) => t === readings[0])).toBe(true);
    expect(Math.abs(first - Date.now())).toBeLessThanOrEqual(1);
  });

  it('reads again after a microtask', async () => {
    const clock = arrivalClock(asyncScheduler);
    const before = clock();
    await new Promise<void>((resolve) => setTimeout(resolve, 5));
    expect(clock()).toBeGreaterThanOrEqual(before + 4);
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
