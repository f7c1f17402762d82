import { asyncScheduler, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { collect } from '../internal/collect.js';
import { checkFeedback, type BatchFeedback } from '../internal/feedback.js';
import * as check from '../base/validate.js';
import { resolveWindowSettings, type WindowOptions } from '../internal/windowSettings.js';
import type { BatchStatsRecorder } from '../stats/batchStats.js';

export interface BufferWindowOptions extends WindowOptions {
  /** Time source for windows and waits. Default `asyncScheduler`; pass a `TestScheduler` in tests. */
  scheduler?: SchedulerLike;
  /**
   * Shared with `fanOut`, it holds due buffers while every execution slot is busy (they keep growing). The slot
   * is taken by `fanOut` when the batch arrives, so a batch dropped on the way (a `filter`) holds none.
   */
  feedback?: BatchFeedback;
  /** Reports `queueDepth`, `currentWindowMs` and `totalRequests`. */
  stats?: BatchStatsRecorder;
}

/** Its option names, for the check of unknown ones (the type keeps the list whole). */
export const BUFFER_WINDOW_OPTIONS: Readonly<Record<keyof BufferWindowOptions, true>> = {
  windowMs: true,
  maxSize: true,
  minSize: true,
  maxWaitMs: true,
  scheduler: true,
  feedback: true,
  stats: true,
};

/**
 * Collects source values into batches bounded by time and size.
 *
 * <span class="informal">Like `bufferTime`, but the window starts with the first value, a full buffer leaves at
 * once, a small one may wait for company, and no value waits longer than `maxWaitMs`.</span>
 *
 * ```
 * windowMs: 10                          windowMs: 10, maxSize: 3
 * source: a--------b----------|         -a-b-c-------|
 * result: ----------x---------|         -----y-------|
 *         x = [a, b]                    y = [a, b, c]
 * ```
 *
 * - A window opens when a value arrives and none is open; it closes `windowMs` later.
 * - A buffer that reaches `maxSize` is emitted at once, in the same frame; the next value opens a new window.
 * - A window that closes with fewer than `minSize` values keeps collecting until `minSize` is reached or
 *   `maxWaitMs` has passed since the oldest buffered value arrived, then emits what it has.
 * - An empty buffer is never emitted.
 * - On completion the buffer is emitted, then completion; on error the buffer is emitted, then the error.
 *
 * ## Example
 * ```ts
 * import { bufferWindow } from 'rxjs-batch-dedup/operators';
 * requests$.pipe(bufferWindow({ windowMs: 20, maxSize: 64 })).subscribe((batch) => send(batch));
 * ```
 *
 * @param options `windowMs` (50), `maxSize` (32), `minSize` (1), `maxWaitMs` (`max(windowMs, 100)`), `scheduler`.
 * @return A function that returns an Observable of non-empty arrays of source values.
 */
export function bufferWindow<T>(options: BufferWindowOptions = {}): OperatorFunction<T, T[]> {
  const where = 'bufferWindow';
  const raw = check.optionsObject(where, options);
  check.optionNames(where, raw, BUFFER_WINDOW_OPTIONS);
  check.scheduler(where, raw.scheduler);
  check.statsRecorder(where, raw.stats);
  const settings = resolveWindowSettings(where, raw);
  const scheduler = raw.scheduler ?? asyncScheduler;
  const feedback = checkFeedback(where, raw.feedback);
  return collect<T>({ scheduler, settings: () => settings, feedback, stats: raw.stats });
}
