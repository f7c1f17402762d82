import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/**
 * The longest delay `setTimeout` and `setInterval` hold, in Node and in browsers alike; a longer one (up to
 * `Infinity`) fires after about 1 ms instead.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The rest of a long delay, carried from one link of the chain to the next. */
interface Link {
  readonly restMs: number;
  readonly work: () => void;
}

/** One link: wait what is left of the delay, at most `MAX_TIMER_DELAY_MS`, then the next; run `work` at the end. */
function nextLink(this: SchedulerAction<Link>, link?: Link): void {
  const { restMs, work } = link!;
  if (restMs <= 0) {
    work();
    return;
  }
  const stepMs = Math.min(restMs, MAX_TIMER_DELAY_MS);
  // Rescheduling the action keeps the subscription handed out first in charge of whichever link is pending.
  this.schedule({ restMs: restMs - stepMs, work }, stepMs);
}

/**
 * A virtual clock: `VirtualTimeScheduler` and `TestScheduler` keep their frames in `maxFrames`. Recognised by
 * shape rather than `instanceof`, so that the core does not bundle the class and a second copy of RxJS counts.
 */
function isVirtual(scheduler: SchedulerLike): boolean {
  return typeof (scheduler as { maxFrames?: unknown }).maxFrames === 'number';
}

/**
 * Runs `work` once, `delayMs` from now, on `scheduler`; every timer of the library goes through here so that
 * any duration an option accepts is honoured:
 *
 * - up to `MAX_TIMER_DELAY_MS` (zero included): one `scheduler.schedule`, nothing added;
 * - longer: a chain of timers of at most `MAX_TIMER_DELAY_MS` each, because the host's timers would fire such
 *   a delay after about 1 ms. The chain counts the delay down link by link (not against the wall clock, which
 *   may step), as a single timer would. Virtual clocks (`TestScheduler`, `VirtualTimeScheduler`) hold any delay,
 *   so they get one timer: flushing a chain of `Number.MAX_SAFE_INTEGER` ms would take millions of links;
 * - `Infinity`: no timer at all ("never"); the subscription returned does nothing.
 *
 * @return unsubscribing cancels whichever link is pending; `work` never runs after it
 */
export function scheduleAfter(scheduler: SchedulerLike, work: () => void, delayMs: number): Subscription {
  // `!(a > b)` lets NaN through unchanged, as before: the caller's arithmetic decides, not this helper.
  // Stryker disable next-line EqualityOperator: at exactly MAX_TIMER_DELAY_MS the chain is one link of that delay, then `work`: the same single timer.
  if (!(delayMs > MAX_TIMER_DELAY_MS)) return scheduler.schedule(work, delayMs);
  if (delayMs === Infinity) return Subscription.EMPTY;
  if (isVirtual(scheduler)) return scheduler.schedule(work, delayMs);
  return scheduler.schedule<Link>(nextLink, MAX_TIMER_DELAY_MS, { restMs: delayMs - MAX_TIMER_DELAY_MS, work });
}
