/**
 * `batchDedup` and `dedupBy` with similarity dedup wired in: those of the main and operators entry points.
 * ./batchDedup.ts and ./dedupBy.ts hold the operators themselves, without similarity dedup, for
 * `rxjs-batch-dedup/lite`.
 */
import type { OperatorFunction } from 'rxjs';
import { semanticDedup } from '../dedup/options.js';
import { FLAT_FEATURES } from '../internal/flatFeatures.js';
import { withNearCache } from '../internal/nearCache.js';
import type { BatchResult, DedupedBatch } from '../types.js';
import { batchDedupWith, type BatchDedupOptions } from './batchDedup.js';
import { dedupByWith, type DedupByOptions } from './dedupBy.js';

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
 * `dedupInFlight`); `resultCache`, `maxQueueSize`, `requestTimeoutMs` and `configure()` act on the whole. The three
 * operators composed by hand (with a `createBatchFeedback()` channel) run the same stages but have none of these
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
 * Similarity dedup (`'embedding'`, `'hybrid'`) is wired in here; `rxjs-batch-dedup/lite` has the same function
 * without it, for apps that do not pay for the embedder, the merge guard and `ml-distance`.
 *
 * @param options see `BatchDedupOptions`; `execute` is required.
 * @return A function that returns an Observable of `BatchResult`s, exactly one per source request.
 */
export function batchDedup<T, R>(options: BatchDedupOptions<T, R>): OperatorFunction<T, BatchResult<T, R>> {
  return batchDedupWith(options, withNearCache, FLAT_FEATURES);
}

/**
 * Maps each batch to its unique items and, for every item, the unique item that stands for it.
 *
 * <span class="informal">N requests in, fewer than N to execute: `unique[leaderOf[i]]` answers `items[i]`.</span>
 *
 * ```
 * source: --[a, b, a']--|        (a' equal to a)
 * result: --{ unique: [a, b], leaderOf: [0, 1, 0] }--|
 * ```
 *
 * Strategies (`dedupStrategy`):
 * - `'exact'` (default): equal when a stable key is equal (canonical JSON, or your `key`).
 * - `'embedding'`: cosine (or any `ml-distance` `metric`) of `embed(text(request))` at or above `dedupThreshold`;
 *   greedy in arrival order, each item joining the most similar earlier leader; only requests equal in everything
 *   but their text, and of one scope, are compared; the `mergeGuard` refuses merges of texts whose numbers,
 *   negations or polar words differ. The default embedder is built in (no model, no network).
 * - `'hybrid'`: exact first, then embedding among the remaining leaders (one `embed` call per batch).
 * - `dedupFunction(a, b)`: your similarity in [0, 1], compared against `dedupThreshold`.
 *
 * Requests of different `scope`s are never merged. One output per non-empty input batch, always (an empty one, as
 * `bufferTime` emits, has nothing to execute and is dropped): an item whose `key`,
 * `scope` or `text` throws is carried in `failures` instead of being dropped; an embedder that fails, or has not
 * answered within `embedTimeoutMs`, makes that batch fall back to exact dedup (counted in `embedFallbacks`). Completion and errors wait for batches still
 * being deduplicated (embedding is asynchronous when the embedder is).
 *
 * ## Example
 * ```ts
 * batches$.pipe(dedupBy({ key: (r) => r.query.trim().toLowerCase(), scope: (r) => r.tenantId }));
 * ```
 *
 * Similarity dedup (`'embedding'`, `'hybrid'`) is wired in here; `rxjs-batch-dedup/lite` has the same function
 * without it, for apps that do not pay for the embedder, the merge guard and `ml-distance`.
 *
 * @param options `dedupStrategy`, `dedupThreshold`, `dedupFunction`, `key`, `scope`, `text`, `embed`, `metric`,
 * `mergeGuard`, `embedCacheSize`, `embedTimeoutMs` (5000), `scheduler`, `enableDedup`, `stats`.
 * @return A function that returns an Observable of `DedupedBatch`es, one per non-empty source batch.
 */
export function dedupBy<T>(options: DedupByOptions<T> = {}): OperatorFunction<readonly T[], DedupedBatch<T>> {
  return dedupByWith(options, semanticDedup);
}
