import type { SchedulerLike } from 'rxjs';

/**
 * Delivers arrivals at their times through one self-rescheduling action. Scheduling every arrival up front would
 * be quadratic: RxJS's VirtualTimeScheduler sorts its whole action list on every schedule() call.
 *
 * @param times arrival times in ms, ascending
 * @param arrive called with the index of each arrival, at its time
 */
export function playArrivals(scheduler: SchedulerLike, times: readonly number[], arrive: (index: number) => void): void {
  if (times.length === 0) return;
  let next = 0;
  scheduler.schedule(function (this: { schedule(state?: unknown, delay?: number): unknown }) {
    const now = scheduler.now();
    while (next < times.length && times[next]! <= now) arrive(next++);
    if (next < times.length) this.schedule(undefined, times[next]! - now);
  }, times[0]);
}
