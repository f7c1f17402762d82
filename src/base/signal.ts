import { describeThrown } from './describeValue.js';

/**
 * Reads of a caller's signal. Signals are taken by shape (another realm's, a polyfill's, a proxy), so a getter may
 * throw; these reads turn that into the request's own refusal, a TypeError naming the getter, rather than an
 * exception out of the library or, from an abort listener, into the code that aborted.
 */

/**
 * Whether a signal has aborted, and why: undefined while it has not. A throwing `aborted` reads as aborted, with a
 * TypeError naming it as the reason.
 * @param where the call that was given the signal, for the message
 */
export function abortState(signal: AbortSignal, where: string): { reason: unknown } | undefined {
  let aborted: unknown;
  try {
    aborted = signal.aborted;
  } catch (error) {
    return { reason: getterThrew(where, 'aborted', error) };
  }
  return aborted === true ? { reason: abortReason(signal, where) } : undefined;
}

/**
 * A signal's `reason`; a throwing getter gives a TypeError naming it, so that an abort listener never throws.
 * @param where the call that was given the signal, for the message
 */
export function abortReason(signal: AbortSignal, where: string): unknown {
  try {
    return signal.reason;
  } catch (error) {
    return getterThrew(where, 'reason', error);
  }
}

/**
 * Whether a signal's `aborted` is a boolean, for the shape checks. A throwing getter passes: the request is then
 * refused with a TypeError naming it (`abortState`), which says more than "not a signal".
 */
export function abortedIsBoolean(signal: Partial<AbortSignal>): boolean {
  try {
    return typeof signal.aborted === 'boolean';
  } catch {
    return true;
  }
}

function getterThrew(where: string, getter: 'aborted' | 'reason', error: unknown): TypeError {
  return new TypeError(`${where}: signal.${getter} threw: ${describeThrown(error)}`, { cause: error });
}
