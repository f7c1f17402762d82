import { Observable, type OperatorFunction } from 'rxjs';
import { BatchEngine } from '../internal/engine.js';
import { toBatchResult } from '../internal/batchRun.js';
import { subscribeSource } from '../internal/subscribeSource.js';
import type { Envelope } from '../internal/envelope.js';
import { PipelineConfig, type BatchDedupOptions, type FlatFeatures } from '../internal/pipelineConfig.js';
import { FLAT_FEATURES } from '../internal/flatFeatures.js';
import type { SimilarityPlugIn } from '../internal/nearCache.js';
import type { BatchResult } from '../types.js';

export type { BatchDedupOptions };

/**
 * Batches, deduplicates and executes requests, and answers each one: collect, dedup, execute, fan out.
 *
 * <span class="informal">`requests$.pipe(batchDedup({ execute }))`: N requests in, fewer backend items out,
 * exactly one `BatchResult` back per request.</span>
 *
 * ```
 * windowMs: 10; execute takes 5 frames
 * source: a--b--a---------|
 * result: ---------------(xyz)|     x, z = results of a (z deduplicated), y = result of b
 * ```
 *
 * One engine, not three operators piped together: it runs the stages of `bufferWindow` (or `adaptiveBuffer`),
 * `dedupBy` and `fanOut` (the same collector, dedupers and batch runs) as plain calls on one `BatchEngine`, so a
 * request crosses no operator between stages, and the stages share what only the whole pipeline knows. A batch is
 * formed only when one of `concurrency` execution slots is free, so under load batches grow instead of queueing; a
 * request equal to one already waiting or executing joins it on arrival (`maxSize` counts distinct requests;
 * `dedupInFlight`); `resultCache`, `maxQueueSize` and `requestTimeoutMs` act on the whole (as does `configure()` of
 * `createBatcher`, built on it). The three operators composed by hand (with a `createBatchFeedback()` channel) run the same stages but have none of these
 * joins nor whole-pipeline options. With `enablePriorities` the most urgent waiting requests go first. Every
 * request that enters produces exactly one `BatchResult`: fulfilled, or rejected with the execution's error, `BatchTimeoutError`,
 * `BatchResultMismatchError` or `QueueFullError`. A source error is forwarded only after every request already
 * received has its result. Unsubscribing cancels every timer and aborts executions in flight.
 *
 * Requests of different `scope`s are never merged.
 *
 * ## Example
 * ```ts
 * requests$.pipe(
 *   batchDedup({ execute: (batch) => llm.completeMany(batch), windowMs: 50, maxSize: 32 }),
 * ).subscribe(({ request, value, error }) => reply(request, value ?? error));
 * ```
 *
 * This one is without similarity dedup: `dedupStrategy: 'embedding'` or `'hybrid'`, and the options only they read,
 * are refused at creation with a `TypeError` that names the entry point that has them (`rxjs-batch-dedup`, whose
 * batchDedup is the same function with similarity dedup wired in). It takes the flat forms of the opt-in features
 * as the main entry point does (`adaptive: true`); that of `rxjs-batch-dedup/lite` (src/lite/lean.ts) takes only
 * their objects (`adaptive: adaptiveWindow()`).
 *
 * @param options see `BatchDedupOptions`; `execute` is required.
 * @return A function that returns an Observable of `BatchResult`s, exactly one per source request.
 */
export function batchDedup<T, R>(options: BatchDedupOptions<T, R>): OperatorFunction<T, BatchResult<T, R>> {
  return batchDedupWith(options, undefined, FLAT_FEATURES);
}

/**
 * @internal `batchDedup` with the given similarity dedup (`'embedding'`, `'hybrid'`), or none, and the flat forms of
 * the opt-in features, or none. The one above has none of the first; the main and operators entry points' wire
 * both in (./withSimilarity.ts); that of `rxjs-batch-dedup/lite` neither (src/lite/lean.ts).
 */
export function batchDedupWith<T, R>(
  options: BatchDedupOptions<T, R>,
  similarity: SimilarityPlugIn | undefined,
  flat?: FlatFeatures,
): OperatorFunction<T, BatchResult<T, R>> {
  const config = new PipelineConfig<T, R>('batchDedup', options, similarity, flat);
  return enginePipeline(config);
}

/**
 * The engine as an operator over requests; each answer becomes the `BatchResult` of the envelope's request. The
 * envelope is made inside the engine's push: `signal(request)` may end the source (test/attack-engine.properties).
 */
function enginePipeline<T, R>(config: PipelineConfig<T, R>): OperatorFunction<T, BatchResult<T, R>> {
  const envelope = (request: T) => config.envelope(request);
  return (source) =>
    new Observable<BatchResult<T, R>>((subscriber) => {
      let ending: { error: unknown } | undefined;
      const engine = new BatchEngine<T, R, Envelope<T>>(config, {
        answer: (envelope, ok, valueOrError, batchId, deduplicated, latencyMs) =>
          subscriber.next(toBatchResult(envelope.request, ok, valueOrError, batchId, deduplicated, latencyMs)),
        drained: () => (ending ? subscriber.error(ending.error) : subscriber.complete()),
        failed: (error) => subscriber.error(error),
      });
      subscribeSource(
        subscriber,
        source,
        {
          next: (request) => engine.pushMade(request, envelope),
          error: (error) => {
            ending = { error };
            engine.close();
          },
          complete: () => engine.close(),
        },
        () => engine.dispose(),
      );
    });
}
