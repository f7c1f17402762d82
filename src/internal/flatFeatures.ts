/**
 * The flat, seed-style forms of the opt-in features, as the main, operators and NestJS entry points take them
 * (`adaptive: true` with `targetLatencyMs` and the like), turned into the objects that carry each feature's code.
 * Handed to the pipeline by src/batcher/withSimilarity.ts and src/operators/withSimilarity.ts, with similarity
 * dedup; `rxjs-batch-dedup/lite` does not, so it takes only the objects and bundles only the features imported.
 * See docs/decisions.md, "Opt-in features: objects that carry their code".
 */
import * as check from '../base/validate.js';
import { adaptiveWindow } from './adaptiveWindow.js';
import { priorities } from './waitingQueue.js';
import { resultCacheAt } from './resultCache.js';
import type { FlatFeatures } from './pipelineConfig.js';

export const FLAT_FEATURES: FlatFeatures = {
  // The flat settings are read by the pipeline itself, live: the object carries none of its own.
  adaptive: (where, value) => (check.boolean(where, 'adaptive', value) ? adaptiveWindow() : undefined),
  priorities: (where, value) => (check.boolean(where, 'enablePriorities', value) ? priorities() : undefined),
  // `resultCache: { ttlMs }`: checked as before, errors naming the call and `resultCache.ttlMs`.
  resultCache: resultCacheAt,
  prioritiesOff: ['enablePriorities is off', 'enablePriorities: true'],
};
