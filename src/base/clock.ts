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
