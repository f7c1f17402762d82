import type { SchedulerLike } from 'rxjs';

/**
 * Time between two readings of a scheduler's clock, never negative. The default scheduler reads the wall clock
 * (`Date.now()`), which steps back when it is corrected (NTP, a resumed VM, a user setting the time): the
 * difference of two readings may then be negative, and a duration that did pass cannot be. A step back reads as
 * no time at all (what passed before the step is unknown); `NaN` from a broken reading reads as 0 as well.
 */
export function elapsed(from: number, to: number): number {
  const ms = to - from;
  // Stryker disable next-line EqualityOperator: `ms >= 0` differs only at 0, where both branches return 0.
  return ms > 0 ? ms : 0;
}

/**
 * A scheduler's clock, read so that a broken reading (NaN or an infinity, from a scheduler whose clock gave a
 * finite time when it was checked at creation) counts as the last good one: time stands still for the rules that
 * compare times, while the timers, which the scheduler runs by its own count, still end every window.
 */
export function steadyClock(scheduler: SchedulerLike): () => number {
  let last = 0;
  return () => {
    const now = scheduler.now();
    return Number.isFinite(now) ? (last = now) : last;
  };
}
