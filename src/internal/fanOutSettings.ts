import { asyncScheduler, type SchedulerLike } from 'rxjs';
import * as check from '../base/validate.js';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { ExecuteFn } from '../types.js';
import type { TimeoutPolicy } from './batchRun.js';
import type { FanOutConfig } from './executor.js';
import { checkFeedback, type BatchFeedback } from './feedback.js';

export interface FanOutOptions<T, R> {
  /** The backend call for one batch of unique items. */
  execute: ExecuteFn<T, R>;
  /** Batches executing at once; more wait in arrival order. Default 4; with `feedback`, the channel's. */
  concurrency?: number;
  /** A batch still unfinished after this long is aborted. Default 30000; `Infinity` for no limit. */
  processingTimeoutMs?: number;
  /** On timeout: reject the unfinished requests with `BatchTimeoutError`, or retry each alone. Default 'reject'. */
  onTimeout?: TimeoutPolicy;
  scheduler?: SchedulerLike;
  /**
   * Shared with the collecting operator, so it forms batches only when a slot is free. fanOut takes a slot when a
   * batch arrives and gives it back when the batch settles; its concurrency is the channel's.
   */
  feedback?: BatchFeedback;
  stats?: BatchStatsRecorder;
  /** When a request entered the pipeline, for `latencyMs`. Default: when its batch reached `fanOut`. */
  enqueuedAt?: (request: T) => number;
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_PROCESSING_TIMEOUT_MS = 30_000;

export function resolveFanOutOptions<T, R>(where: string, options: FanOutOptions<T, R>): FanOutConfig<T, R> {
  const raw = check.optionsObject(where, options);
  check.scheduler(where, raw.scheduler);
  check.statsRecorder(where, raw.stats);
  const feedback = checkFeedback(where, raw.feedback);
  return {
    execute: check.requiredFunction<ExecuteFn<T, R>>(where, 'execute', raw.execute),
    concurrency: concurrencyOf(where, raw.concurrency, feedback),
    timeoutMs: check.durationOrNever(where, 'processingTimeoutMs', raw.processingTimeoutMs ?? DEFAULT_PROCESSING_TIMEOUT_MS, 1),
    onTimeout: check.oneOf<TimeoutPolicy>(where, 'onTimeout', raw.onTimeout ?? 'reject', ['reject', 'individual']),
    scheduler: raw.scheduler ?? asyncScheduler,
    feedback,
    stats: raw.stats,
    enqueuedAt: check.optionalFunction<(request: T) => number>(where, 'enqueuedAt', raw.enqueuedAt),
  };
}

/**
 * With a feedback channel the channel's concurrency rules, since the collector forms batches by it; a different
 * `concurrency` is refused rather than one of the two silently ignored.
 */
function concurrencyOf(where: string, given: unknown, feedback: BatchFeedback | undefined): number {
  const concurrency = given === undefined ? undefined : check.count(where, 'concurrency', given, 1, true);
  if (!feedback) return concurrency ?? DEFAULT_CONCURRENCY;
  if (concurrency !== undefined && concurrency !== feedback.concurrency) {
    check.fail(
      where,
      `concurrency ${concurrency} conflicts with the feedback channel's concurrency ${feedback.concurrency}; ` +
        `give one value: createBatchFeedback(${concurrency}), or leave out concurrency`,
      RangeError,
    );
  }
  return feedback.concurrency;
}
