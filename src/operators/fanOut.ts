import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { userFunctionReturned, userFunctionThrew } from '../base/describeValue.js';
import { toBatchResult } from '../internal/batchRun.js';
import { checkBatch } from '../internal/checkBatch.js';
import { subscribeSource } from '../internal/subscribeSource.js';
import { BatchExecutor, type FanOutConfig } from '../internal/executor.js';
import { resolveFanOutOptions, type FanOutOptions } from '../internal/fanOutSettings.js';
import type { BatchResult, DedupedBatch } from '../types.js';
import * as check from '../base/validate.js';

const FAN_OUT_OPTIONS: Readonly<Record<keyof FanOutOptions<unknown, unknown>, true>> = {
  execute: true,
  concurrency: true,
  processingTimeoutMs: true,
  onTimeout: true,
  scheduler: true,
  feedback: true,
  stats: true,
  enqueuedAt: true,
};

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
 *   A streamed item fails only when its `error` is neither `null` nor `undefined` (see `StreamedResult`).
 * - Each batch is checked: a request whose `leaderOf` entry is malformed is rejected with a `TypeError` naming
 *   the entry; a batch whose parts do not fit together rejects all its requests; something that is not a batch
 *   errors the output once the batches before it are answered.
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
  check.optionNames('fanOut', check.optionsObject('fanOut', options), FAN_OUT_OPTIONS);
  const resolved = resolveFanOutOptions('fanOut', options);
  // Latencies go into the feedback reports only for a collector that reads them. Composed by hand, fanOut takes
  // the channel's slot when a batch arrives, so a batch dropped on its way holds none (see feedback.ts).
  // Stryker disable next-line ConditionalExpression: made true, slots are reserved on and latencies reported to a channel that is undefined (`feedback?.`), which does nothing; made false it is killed (marbles/feedback.marble.test.ts).
  const withFeedback = resolved.feedback !== undefined;
  const enqueuedAt = resolved.enqueuedAt && checkedTime(resolved.enqueuedAt);
  const config: FanOutConfig<T, R> = { ...resolved, enqueuedAt, reportLatencies: withFeedback, reservesSlots: withFeedback };
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
      // Set when the source sent something that is not a batch: the rest of the source is not listened to, and
      // the error follows the answers to every batch received before it.
      let refused = false;
      let subscription: Subscription | undefined;
      subscription = subscribeSource(
        subscriber,
        source,
        {
          next: (batch) => {
            if (refused) return;
            const checked = checkBatch<T>('fanOut', batch);
            if (!(checked instanceof TypeError)) {
              executor.submit(checked);
              return;
            }
            refused = true;
            ending = { error: checked };
            subscription?.unsubscribe();
            finishIfIdle();
          },
          error: (error) => {
            if (refused) return;
            ending = { error };
            finishIfIdle();
          },
          complete: () => {
            if (refused) return;
            ending = 'complete';
            finishIfIdle();
          },
        },
        () => executor.dispose(),
      );
      // Refused while a synchronous source was still sending: the rest of it is not listened to.
      if (refused) subscription.unsubscribe();
    });
}

export type { FanOutConfig, FanOutOptions };

/**
 * The user's `enqueuedAt`, as a per-request user function (like `key`): what it throws, or a time that is not a
 * finite number, becomes a TypeError naming it, which rejects that request alone (BatchRun answers it so).
 */
function checkedTime<T>(enqueuedAt: (request: T) => number): (request: T) => number {
  return (request) => {
    let time: unknown;
    try {
      time = enqueuedAt(request);
    } catch (error) {
      throw userFunctionThrew('fanOut', 'enqueuedAt', error);
    }
    if (typeof time !== 'number' || !Number.isFinite(time)) {
      throw new TypeError(userFunctionReturned('fanOut', 'enqueuedAt', time, "it must return a finite time in ms of the scheduler's clock"));
    }
    return time;
  };
}
