import { asyncScheduler, defer, finalize, type OperatorFunction } from 'rxjs';
import { AdaptiveWindow, adaptiveMaxWaitMs, resolveAdaptiveSettings, type AdaptiveOptions } from '../internal/adaptiveWindow.js';
import { collect } from '../internal/collect.js';
import { checkFeedback } from '../internal/feedback.js';
import * as check from '../base/validate.js';
import { resolveWindowSettings } from '../internal/windowSettings.js';
import { BUFFER_WINDOW_OPTIONS, type BufferWindowOptions } from './bufferWindow.js';

export interface AdaptiveBufferOptions extends BufferWindowOptions, AdaptiveOptions {}

const ADAPTIVE_BUFFER_OPTIONS: Readonly<Record<keyof AdaptiveBufferOptions, true>> = {
  ...BUFFER_WINDOW_OPTIONS,
  targetLatencyMs: true,
  minWindowMs: true,
  maxWindowMs: true,
};

/**
 * Collects values into batches like `bufferWindow`, with a window that moves to hold a latency target.
 *
 * <span class="informal">A window as long as the latency budget allows: long when the backend is cheap per
 * call and requests are many, short when they are few, none for a lone request.</span>
 *
 * ```
 * windowMs: 30, targetLatencyMs: 100; arrivals 1 ms apart
 * source: abcdefg------------------------------------|
 * result: xyz------------------------------w---------|
 *         x = [a], y = [b], z = [c] (alone: too few expected to fill a window), w = [d, e, f, g]
 * ```
 *
 * The window stays within `[minWindowMs, maxWindowMs]`. It learns from the `feedback` channel shared with
 * `fanOut` (as `batchDedup({ adaptive: true })` wires it): each settled batch reports its size, duration and
 * request latencies. Without a channel it only adapts to the arrival rate (a lone request does not wait) and
 * otherwise keeps `windowMs`. `maxSize`, `minSize` and `maxWaitMs` apply as in `bufferWindow`.
 *
 * ## Example
 * ```ts
 * const feedback = createBatchFeedback(2);
 * requests$.pipe(
 *   adaptiveBuffer({ targetLatencyMs: 150, maxWindowMs: 100, feedback }),
 *   dedupBy(),
 *   fanOut({ execute, feedback }),
 * );
 * ```
 *
 * @param options `targetLatencyMs` (100), `minWindowMs` (0), `maxWindowMs` (200), `windowMs` (the starting
 * window, 50), and the options of `bufferWindow`.
 * @return A function that returns an Observable of non-empty arrays of source values.
 */
export function adaptiveBuffer<T>(options: AdaptiveBufferOptions = {}): OperatorFunction<T, T[]> {
  const where = 'adaptiveBuffer';
  const raw = check.optionsObject(where, options);
  check.optionNames(where, raw, ADAPTIVE_BUFFER_OPTIONS);
  check.scheduler(where, raw.scheduler);
  check.statsRecorder(where, raw.stats);
  const adaptive = resolveAdaptiveSettings(where, raw);
  const settings = resolveWindowSettings(where, raw, adaptiveMaxWaitMs(adaptive));
  const scheduler = raw.scheduler ?? asyncScheduler;
  const { stats } = raw;
  const feedback = checkFeedback(where, raw.feedback);

  return (source) =>
    defer(() => {
      const controller = new AdaptiveWindow(scheduler, () => adaptive, settings.windowMs, feedback);
      const stopObserving = feedback?.onRelease((report) => controller.observe(report));
      return source.pipe(
        collect<T>({
          scheduler,
          settings: () => settings,
          windowMs: () => controller.windowFor(),
          replanMs: () => controller.current,
          onArrival: (now) => controller.observeArrival(now),
          windowGauge: () => controller.current,
          feedback,
          stats,
        }),
        finalize(() => stopObserving?.()),
      );
    });
}
