/**
 * The objects of `rxjs-batch-dedup/lite` that bring the fused engine (src/internal/engine.ts) to its `createBatcher`
 * and `batchDedup`: `engine()`, and the opt-in features `adaptiveWindow()`, `priorities()`, `resultCache()`, each the
 * main entry's factory with the engine attached. `/lite`'s default path is the lean core (src/lite/core.ts), which
 * imports none of this: a bundler adds the engine (about 12 kB gzip) only to an app that imports one of these.
 * See docs/decisions.md, "The switch of /lite to the lean core (stop 18)".
 */
import { createBatcherWith } from '../batcher/createBatcher.js';
import { batchDedupWith } from '../operators/batchDedup.js';
import { adaptiveWindow as adaptiveWindowFeature, type AdaptiveOptions, type AdaptiveWindowFeature } from '../internal/adaptiveWindow.js';
import { priorities as prioritiesFeature, type PrioritiesFeature, type PrioritiesOptions } from '../internal/waitingQueue.js';
import {
  resultCache as resultCacheFeature,
  type ResultCacheFeature,
  type ResultCacheFeatureOptions,
} from '../internal/resultCache.js';
import * as check from '../base/validate.js';
import { ENGINE, type EngineFactories, type EngineFeature } from './lean.js';

const FACTORIES: EngineFactories = {
  createBatcher: (options) => createBatcherWith(options, undefined),
  batchDedup: (options) => batchDedupWith(options, undefined),
};

/** The object given the engine: the property is not enumerable, so the object reads as the feature alone. */
function carrying<F extends object>(feature: F): F {
  return Object.defineProperty(feature, ENGINE, { value: FACTORIES });
}

/**
 * The fused engine for `/lite`'s `createBatcher` and `batchDedup`, without a feature: `configure()`,
 * `processStreaming`, `stats$`, the `stats` recorder, `dedupFunction` and `dedupThreshold`, `maxQueueSize`,
 * `onTimeout: 'individual'`, `costPerRequestUsd` and streamed results (`{ index, value }` items).
 *
 * ```ts
 * const batcher = createBatcher({ execute: (qs) => api.getMany(qs), engine: engine() });
 * batcher.configure({ windowMs: 5 });
 * ```
 */
export function engine(none?: undefined): EngineFeature {
  if (none !== undefined) check.fail('engine', "takes no options: give the engine's options to createBatcher or batchDedup", TypeError);
  return carrying({ feature: 'engine' as const });
}

/** `adaptiveWindow()` of the main entry point (see there), bringing the engine to `/lite`. */
export function adaptiveWindow(options?: AdaptiveOptions): AdaptiveWindowFeature {
  return carrying(adaptiveWindowFeature(options));
}

/** `priorities()` of the main entry point (see there), bringing the engine to `/lite`. */
export function priorities<T>(options?: PrioritiesOptions<T>): PrioritiesFeature<T> {
  return carrying(prioritiesFeature(options));
}

/** `resultCache()` of the main entry point (see there), bringing the engine to `/lite`. */
export function resultCache(options: ResultCacheFeatureOptions): ResultCacheFeature {
  return carrying(resultCacheFeature(options));
}
