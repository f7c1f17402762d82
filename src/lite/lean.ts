/**
 * `createBatcher` and `batchDedup` of `rxjs-batch-dedup/lite`: without similarity dedup, and with the opt-in
 * features only as the objects that carry their code (`adaptive: adaptiveWindow()`), so that a bundler drops every
 * feature an app does not import. The flat forms the main entry point takes (`adaptive: true`) are refused at the
 * call that gives them, with a `TypeError` naming the factory and its import. See docs/decisions.md, "Opt-in
 * features: objects that carry their code".
 */
import type { OperatorFunction } from 'rxjs';
import { createBatcherWith, type Batcher as FullBatcher } from '../batcher/createBatcher.js';
import { batchDedupWith, type BatchDedupOptions as FullOptions } from '../operators/batchDedup.js';
import type { AdaptiveWindowFeature } from '../internal/adaptiveWindow.js';
import type { ResultCacheFeature } from '../internal/resultCache.js';
import type { BatchResult } from '../types.js';

/**
 * The options of `/lite`'s `batchDedup` and `createBatcher`: the main entry point's, with the opt-in features given
 * only as the objects that carry their code, so the compiler refuses the flat forms the run time refuses.
 */
export interface BatchDedupOptions<T, R> extends Omit<FullOptions<T, R>, 'adaptive' | 'enablePriorities' | 'resultCache'> {
  /** Move the window to hold `targetLatencyMs`: `adaptiveWindow({ targetLatencyMs })` (not `true`). */
  adaptive?: AdaptiveWindowFeature;
  /** Not on `/lite`: order by priority with `priorities: priorities({ priority })`. */
  enablePriorities?: never;
  /** Reuse fulfilled results for `ttlMs`: `resultCache({ ttlMs })` (not a plain `{ ttlMs }`). */
  resultCache?: ResultCacheFeature;
}

/** A batcher of `/lite`: `configure()` takes `/lite`'s options. */
export interface Batcher<T, R> extends Omit<FullBatcher<T, R>, 'configure'> {
  /**
   * Changes options of the running batcher; the structural ones (`adaptive`, `priorities`, `resultCache`, ...)
   * only to the value in effect. Throws, changing nothing, when any of it is invalid.
   */
  configure(options: Partial<BatchDedupOptions<T, R>>): void;
}

/**
 * A promise front end to the `batchDedup` pipeline, for code that is not reactive end to end (an HTTP handler),
 * as the main entry point's `createBatcher`, without similarity dedup (`dedupStrategy: 'embedding' | 'hybrid'`
 * and their options are refused, naming the entry point that has them) and with the opt-in features given as
 * objects: `adaptive: adaptiveWindow({ targetLatencyMs })`, not `adaptive: true`.
 *
 * ```ts
 * const batcher = createBatcher({ execute: (qs) => api.getMany(qs), windowMs: 20 });
 * const user = await batcher.process(id);
 * ```
 *
 * @param options the options of `batchDedup`
 * @return a running batcher; call `close()` to drain it
 */
export function createBatcher<T, R>(options: BatchDedupOptions<T, R>): Batcher<T, R> {
  return createBatcherWith(options, undefined);
}

/**
 * Batches, deduplicates and executes requests, and answers each one: collect, dedup, execute, fan out. The main
 * entry point's `batchDedup`, without similarity dedup (`dedupStrategy: 'embedding' | 'hybrid'` and their options
 * are refused, naming the entry point that has them) and with the opt-in features given as objects:
 * `adaptive: adaptiveWindow({ targetLatencyMs })`, not `adaptive: true`.
 *
 * @param options see `BatchDedupOptions`; `execute` is required.
 * @return A function that returns an Observable of `BatchResult`s, exactly one per source request.
 */
export function batchDedup<T, R>(options: BatchDedupOptions<T, R>): OperatorFunction<T, BatchResult<T, R>> {
  return batchDedupWith(options, undefined);
}
