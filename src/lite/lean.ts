/**
 * `createBatcher` and `batchDedup` of `rxjs-batch-dedup/lite`. By default they run on the lean core
 * (src/lite/core.ts, through bridge.ts and leanOperator.ts): exact dedup by key and scope, the window rules,
 * `concurrency`, the timeouts, signals, joins and the counters, at a third of the engine's bytes. Given an object
 * that brings the fused engine (`engine()`, `adaptiveWindow()`, `priorities()`, `resultCache()`, from
 * src/lite/engine.ts), they run on the engine instead, as the main entry point's do without similarity dedup.
 * This file does not import the engine: the objects carry it, so a bundler drops it from an app that imports
 * none of them. An option only the engine or similarity dedup reads, given without the object, is refused at
 * creation with a `TypeError` naming what to import. See docs/decisions.md, "The switch of /lite to the lean core
 * (stop 18)".
 */
import type { OperatorFunction } from 'rxjs';
import type { Batcher as FullBatcher } from '../batcher/createBatcher.js';
import type { BatchDedupOptions as FullOptions } from '../operators/batchDedup.js';
import type { AdaptiveWindowFeature } from '../internal/adaptiveWindow.js';
import type { PrioritiesFeature } from '../internal/waitingQueue.js';
import type { ResultCacheFeature } from '../internal/resultCache.js';
import type { BatchResult } from '../types.js';
import { leanBatcher, type LeanBatcher } from './bridge.js';
import { leanBatchDedup } from './leanOperator.js';
import type { LeanOptions } from './core.js';

/** Where an object of src/lite/engine.ts keeps the engine it brings (not enumerable). */
export const ENGINE = Symbol.for('rxjs-batch-dedup/lite engine');

/** @internal What an object that brings the engine carries. */
export interface EngineFactories {
  createBatcher<T, R>(options: FullOptions<T, R>): FullBatcher<T, R>;
  batchDedup<T, R>(options: FullOptions<T, R>): OperatorFunction<T, BatchResult<T, R>>;
}

/** Made by `engine()`: the value of the `engine` option. */
export interface EngineFeature {
  /** @internal Names the factory that made it. */
  readonly feature: 'engine';
}

/**
 * Every option `/lite`'s `batchDedup` and `createBatcher` take: the main entry point's without similarity dedup,
 * the opt-in features only as the objects that carry their code. Those beyond `LeanOptions` need one of the
 * objects that bring the engine (`engine: engine()` for the others).
 */
export interface BatchDedupOptions<T, R>
  extends Omit<FullOptions<T, R>, 'adaptive' | 'enablePriorities' | 'resultCache' | 'priorities'> {
  /** Move the window to hold `targetLatencyMs`: `adaptiveWindow({ targetLatencyMs })` (not `true`). */
  adaptive?: AdaptiveWindowFeature | false;
  /** Not on `/lite`: order by priority with `priorities: priorities({ priority })`. */
  enablePriorities?: never;
  /** Order waiting requests by priority: `priorities({ priority })`. */
  priorities?: PrioritiesFeature<T>;
  /** Reuse fulfilled results for `ttlMs`: `resultCache({ ttlMs })` (not a plain `{ ttlMs }`). */
  resultCache?: ResultCacheFeature;
  /** The fused engine without a feature: `configure()`, `processStreaming`, `stats$`, `stats`, `dedupFunction`... */
  engine?: EngineFeature;
}

/** Options with one of the objects that bring the engine. */
export type EngineOptions<T, R> = BatchDedupOptions<T, R> &
  (
    | { engine: EngineFeature }
    | { adaptive: AdaptiveWindowFeature }
    | { priorities: PrioritiesFeature<T> }
    | { resultCache: ResultCacheFeature }
  );

/** A batcher of `/lite` on the engine (made with `engine()` or a feature): `configure()` takes `/lite`'s options. */
export interface Batcher<T, R> extends Omit<FullBatcher<T, R>, 'configure'> {
  /**
   * Changes options of the running batcher; the structural ones (`adaptive`, `priorities`, `resultCache`, ...)
   * only to the value in effect. Throws, changing nothing, when any of it is invalid.
   */
  configure(options: Partial<Omit<BatchDedupOptions<T, R>, 'engine'>>): void;
}

/** The objects that may bring the engine, by option. */
const CARRIERS = ['engine', 'adaptive', 'priorities', 'resultCache'];

/**
 * The engine an option's object brings, if any. Options that are not an object bring none: reading from undefined or
 * null throws, which the `try` catches, and a primitive has no carrier (the lean path's checks name what is wrong).
 */
function engineOf(options: unknown): EngineFactories | undefined {
  for (const name of CARRIERS) {
    try {
      const factories = (options as Record<string, { [ENGINE]?: EngineFactories } | undefined>)[name]?.[ENGINE];
      if (factories) return factories;
    } catch {
      // An option that throws when read: the lean path's checks name it.
    }
  }
  return undefined;
}

/** The options for the engine, which has no `engine` option. */
function forEngine<T, R>(options: BatchDedupOptions<T, R>): FullOptions<T, R> {
  if (!Object.prototype.hasOwnProperty.call(options, 'engine')) return options as FullOptions<T, R>;
  const { engine: _, ...rest } = options;
  return rest as FullOptions<T, R>;
}

/**
 * A promise front end to the `batchDedup` pipeline, for code that is not reactive end to end (an HTTP handler).
 * On the lean core by default: `process`, `processAll`, `close()`, `getStats()` counters, per-call `signal`,
 * `timeoutMs` and `scope`. With an object that brings the engine (`engine: engine()`, `adaptive:
 * adaptiveWindow()`, `priorities: priorities()`, `resultCache: resultCache()`), the main entry point's batcher
 * without similarity dedup: `configure()`, `processStreaming`, `stats$` and every option. Without one, calling
 * `configure`, `processStreaming` or reading `stats$` throws a `TypeError` naming `engine()` and its import.
 *
 * ```ts
 * const batcher = createBatcher({ execute: (qs) => api.getMany(qs), windowMs: 20 });
 * const user = await batcher.process(id);
 * ```
 *
 * @param options the options of `batchDedup`
 * @return a running batcher; call `close()` to drain it
 */
export function createBatcher<T, R>(options: EngineOptions<T, R>): Batcher<T, R>;
export function createBatcher<T, R>(options: Omit<LeanOptions<T, R>, 'signal'>): LeanBatcher<T, R>;
export function createBatcher<T, R>(options: BatchDedupOptions<T, R>): LeanBatcher<T, R>;
export function createBatcher<T, R>(options: BatchDedupOptions<T, R>): LeanBatcher<T, R> | Batcher<T, R> {
  const engine = engineOf(options);
  return engine ? engine.createBatcher(forEngine(options)) : leanBatcher(options as LeanOptions<T, R>);
}

/**
 * Batches, deduplicates and executes requests, and answers each one: collect, dedup, execute, fan out. On the
 * lean core by default (exact dedup by key and scope); with an object that brings the engine, the main entry
 * point's `batchDedup` without similarity dedup (see `createBatcher`).
 *
 * @param options see `BatchDedupOptions`; `execute` is required.
 * @return A function that returns an Observable of `BatchResult`s, exactly one per source request.
 */
export function batchDedup<T, R>(options: EngineOptions<T, R> | LeanOptions<T, R> | BatchDedupOptions<T, R>): OperatorFunction<T, BatchResult<T, R>> {
  const engine = engineOf(options);
  return engine ? engine.batchDedup(forEngine(options as BatchDedupOptions<T, R>)) : leanBatchDedup(options as LeanOptions<T, R>);
}
