import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';
import { toBatchResult, type TimeoutPolicy } from '../internal/batchRun.js';
import { BatchExecutor, type FanOutConfig } from '../internal/executor.js';
import type { BatchFeedback } from '../internal/feedback.js';
import * as check from '../internal/validate.js';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { BatchResult, DedupedBatch, ExecuteFn } from '../types.js';

export interface FanOutOptions<T, R> {
  /** The backend call for one batch of unique items. */
  execute: ExecuteFn<T, R>;
  /** Batches executing at once; more wait in arrival order. Default 4. */
  concurrency?: number;
  /** A batch still unfinished after this long is aborted. Default 30000; `Infinity` for no limit. */
  processingTimeoutMs?: number;
  /** On timeout: reject the unfinished requests with `BatchTimeoutError`, or retry each alone. Default 'reject'. */
  onTimeout?: TimeoutPolicy;
  scheduler?: SchedulerLike;
  /** Shared with the collecting operator, so it forms batches only when a slot is free. */
  feedback?: BatchFeedback;
  stats?: BatchStatsRecorder;
  /** When a request entered the pipeline, for `latencyMs`. Default: when its batch reached `fanOut`. */
  enqueuedAt?: (request: T) => number;
}

export const DEFAULT_CONCURRENCY = 4;
export const DEFAULT_PROCESSING_TIMEOUT_MS = 30_000;

/**
 * Executes each deduplicated batch and emits one result per original request.
 *
 * <span class="informal">The execute-and-answer stage: one backend call per batch, one `BatchResult` per
 * request, in completion order, with shared results fanned out to every duplicate.</span>
 *
 * ```
 * execute takes 3 frames; processingTimeoutMs: 5
 * source:  -B------|              B = { items: [a, b, a'], unique: [a, b], leaderOf: [0, 1, 0] }
 * result:  ----(xyz)-|            x, y, z = results of a, a', b (a' deduplicated)
 * ```
 *
 * - `execute(unique, { signal, batchId })` may return `R[]`, a promise or observable of `R[]`, or an observable
 *   (or async iterable) of `{ index, value }` / `{ index, error }` that streams per-item results.
 * - A result array of the wrong length, or a stream that completes with items unanswered, rejects those
 *   requests with `BatchResultMismatchError`. A throw or rejection rejects that batch only; the stream goes on.
 * - After `processingTimeoutMs` the call is aborted and each unfinished request is rejected with
 *   `BatchTimeoutError`, or with `onTimeout: 'individual'` re-executed alone (each retry has the same limit).
 * - At most `concurrency` batches execute at once. Completion and errors of the source wait until every
 *   received request has its result. Unsubscribing aborts every call in flight (`signal`) and every timer.
 *
 * ## Example
 * ```ts
 * deduped$.pipe(fanOut({ execute: (items, { signal }) => api.embedMany(items, { signal }), concurrency: 2 }));
 * ```
 *
 * @param options `execute`, `concurrency`, `processingTimeoutMs`, `onTimeout`, `scheduler`, `stats`.
 * @return A function that returns an Observable of `BatchResult`s, exactly one per request.
 */
export function fanOut<T, R>(options: FanOutOptions<T, R>): OperatorFunction<DedupedBatch<T>, BatchResult<T, R>> {
  const resolved = resolveFanOutOptions('fanOut', options);
  // Latencies go into the feedback reports only for a collector that reads them.
  const config: FanOutConfig<T, R> = { ...resolved, reportLatencies: resolved.feedback !== undefined };
  const { stats } = config;
  return (source) =>
    new Observable<BatchResult<T, R>>((subscriber) => {
      let ending: { error: unknown } | 'complete' | undefined;
      const finishIfIdle = () => {
        if (!ending || !executor.idle) return;
        if (ending === 'complete') subscriber.complete();
        else subscriber.error(ending.error);
      };
      const executor: BatchExecutor<T, R> = new BatchExecutor<T, R>(
        () => config,
        (request, ok, valueOrError, batchId, deduplicated, latencyMs) => {
          stats?.recordResult(latencyMs, ok ? undefined : valueOrError, !ok);
          subscriber.next(toBatchResult(request, ok, valueOrError, batchId, deduplicated, latencyMs));
        },
        finishIfIdle,
      );
      const subscription = source.subscribe({
        next: (batch) => executor.submit(batch),
        error: (error: unknown) => {
          ending = { error };
          finishIfIdle();
        },
        complete: () => {
          ending = 'complete';
          finishIfIdle();
        },
      });
      return () => {
        subscription.unsubscribe();
        executor.dispose();
      };
    });
}

export type { FanOutConfig };

export function resolveFanOutOptions<T, R>(where: string, options: FanOutOptions<T, R>): FanOutConfig<T, R> {
  const raw = check.optionsObject(where, options);
  check.scheduler(where, raw.scheduler);
  return {
    execute: check.requiredFunction<ExecuteFn<T, R>>(where, 'execute', raw.execute),
    concurrency: check.count(where, 'concurrency', raw.concurrency ?? DEFAULT_CONCURRENCY, 1, true),
    timeoutMs: check.durationOrNever(where, 'processingTimeoutMs', raw.processingTimeoutMs ?? DEFAULT_PROCESSING_TIMEOUT_MS, 1),
    onTimeout: check.oneOf<TimeoutPolicy>(where, 'onTimeout', raw.onTimeout ?? 'reject', ['reject', 'individual']),
    scheduler: raw.scheduler ?? asyncScheduler,
    feedback: raw.feedback,
    stats: raw.stats,
    enqueuedAt: check.optionalFunction<(request: T) => number>(where, 'enqueuedAt', raw.enqueuedAt),
  };
}
