import * as check from '../base/validate.js';

/** The batch bounds shared by `bufferWindow`, `adaptiveBuffer` and `batchDedup`. */
export interface WindowOptions {
  /**
   * How long a window stays open after the value that opened it, in ms. Default 50. `Infinity`: time never
   * closes a window, only `maxSize`, `maxWaitMs` or the end of the source do (batching by size).
   */
  windowMs?: number;
  /** A buffer that reaches this size is emitted at once. Default 32; `Infinity` for no bound. */
  maxSize?: number;
  /** A closed window with fewer values keeps collecting until this many arrive or `maxWaitMs` passes. Default 1. */
  minSize?: number;
  /**
   * No value waits longer than this, measured from the oldest buffered value. Default `max(windowMs, 100)`.
   * `Infinity`: no bound (a window held open by `minSize` waits until it fills or the source ends).
   */
  maxWaitMs?: number;
}

export interface WindowSettings {
  readonly windowMs: number;
  readonly maxSize: number;
  readonly minSize: number;
  readonly maxWaitMs: number;
}

export const DEFAULT_WINDOW_MS = 50;
export const DEFAULT_MAX_SIZE = 32;

/** @param defaultMaxWaitMs `maxWaitMs` when the options leave it out (the adaptive window sets its own) */
export function resolveWindowSettings(where: string, options: WindowOptions, defaultMaxWaitMs?: number): WindowSettings {
  const windowMs = check.durationOrNever(where, 'windowMs', options.windowMs ?? DEFAULT_WINDOW_MS);
  const maxSize = check.count(where, 'maxSize', options.maxSize ?? DEFAULT_MAX_SIZE, 1, true);
  const minSize = check.count(where, 'minSize', options.minSize ?? 1, 1);
  if (minSize > maxSize) {
    check.fail(where, `minSize (${minSize}) must not exceed maxSize (${maxSize})`, RangeError);
  }
  const maxWaitMs = check.durationOrNever(
    where,
    'maxWaitMs',
    options.maxWaitMs ?? defaultMaxWaitMs ?? Math.max(windowMs, 100),
  );
  return { windowMs, maxSize, minSize, maxWaitMs };
}
