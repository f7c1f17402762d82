/**
 * Survivors of the stop-16 Stryker run in the result cache (src/internal/resultCache.ts, issue 17): timing rules,
 * on the TestScheduler's virtual time.
 */
import { map, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/index.js';
import { simulatedBackend, type TestScheduler } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

/** The test scheduler's timers, with a `now()` that reads `offset` ms off from frame `from` on. */
function steppedBack(inner: TestScheduler, from: number, offset: number): SchedulerLike {
  return { now: () => inner.now() + (inner.now() >= from ? offset : 0), schedule: inner.schedule.bind(inner) };
}

describe('the result cache at the age of 0 ms', () => {
  // Kills resultCache.ts:111 `age >= 0` made `age > 0` (EqualityOperator): an entry is served while
  // 0 <= now - storedAt < ttlMs, so one read at the very time it was stored is served, not executed again.
  it('serves an entry read at the time it was stored, on the clock the pipeline reads', () => {
    const scheduler = testScheduler();
    const seen: [frame: number, value: string, batchId: number][] = [];
    scheduler.run(({ cold }) => {
      // a runs from frame 1 to 6 and is stored at 6; from frame 8 the clock reads 4 ms back, so the second a,
      // arriving at frame 10, reads 6: the entry's age is 0.
      const clock = steppedBack(scheduler, 8, -4);
      let executions = 0;
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (key: string) => `${key} #${++executions}` });
      cold('a---------a|')
        .pipe(
          batchDedup<string, string>({ execute: backend.execute, windowMs: 1, resultCache: { ttlMs: 100 }, scheduler: clock }),
          map((r) => [scheduler.now(), r.value as string, r.batchId] as [number, string, number]),
        )
        .subscribe((entry) => seen.push(entry));
    });
    expect(seen).toEqual([
      [6, 'a #1', 1],
      [10, 'a #1', 0],
    ]);
  });
});
