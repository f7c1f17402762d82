/**
 * The promise bridge with similarity dedup wired in: the `createBatcher` of the main entry point (and of the NestJS
 * module). ./createBatcher.ts holds the bridge itself, without similarity dedup, for `rxjs-batch-dedup/lite`.
 */
import { FLAT_FEATURES } from '../internal/flatFeatures.js';
import { withNearCache } from '../internal/nearCache.js';
import type { BatchDedupOptions } from '../internal/pipelineConfig.js';
import { createBatcherWith, type Batcher } from './createBatcher.js';

/**
 * A promise front end to the `batchDedup` pipeline, for code that is not reactive end to end (an HTTP handler).
 *
 * ```ts
 * const batcher = createBatcher({ execute: (qs) => llm.completeMany(qs), windowMs: 20 });
 * app.post('/ask', async (req) => batcher.process(req.body.question, { signal: req.signal }));
 * ```
 *
 * Similarity dedup (`'embedding'`, `'hybrid'`) is wired in here; `rxjs-batch-dedup/lite` has the same function
 * without it, for apps that do not pay for the embedder, the merge guard and `ml-distance`.
 *
 * @param options the options of `batchDedup`
 * @return a running batcher; call `close()` to drain it
 */
export function createBatcher<T, R>(options: BatchDedupOptions<T, R>): Batcher<T, R> {
  return createBatcherWith(options, withNearCache, FLAT_FEATURES);
}
