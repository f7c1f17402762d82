import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { steadyClock } from '../base/clock.js';

/**
 * The clock for arrival times. On the real clock a synchronous burst of `process()` calls shares one reading,
 * refreshed every 64 calls and at the next microtask, so it is never more than a few microseconds stale; a
 * reading per call was a tenth of the promise bridge's cost. Virtual clocks (a `TestScheduler`, also when
 * `run()` patches `asyncScheduler`) move without microtasks in between, so they are read every time.
 * A wall clock that steps is followed from the next microtask on; it is not made monotonic here (that would
 * stamp every arrival with a time from before a step back until the clock caught up), so durations computed
 * from arrival times are taken with `elapsed`, which never goes below 0.
 */
export function arrivalClock(scheduler: SchedulerLike): () => number {
  if (scheduler !== asyncScheduler) return steadyClock(scheduler);
  let cached: number | undefined;
  let reads = 0;
  const forget = () => (cached = undefined);
  return () => {
    if (cached !== undefined && ++reads < 64) return cached;
    const now = scheduler.now();
    if (Math.abs(now - Date.now()) > 1000) return now; // virtual time
    // A reaction to a settled promise rather than queueMicrotask, which in Node makes an AsyncResource per call.
    if (cached === undefined) void Promise.resolve().then(forget);
    cached = now;
    reads = 0;
    return now;
  };
}

