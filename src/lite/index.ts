/**
 * `rxjs-batch-dedup/lite`: the main entry point without similarity dedup, for apps that dedup exactly (by key and
 * scope) or with a `dedupFunction` of their own, such as a browser app batching HTTP calls. Neither the lexical
 * embedder, the merge guard nor `ml-distance` is loaded. `createBatcher`, `batchDedup` and `dedupBy` take the same
 * options as the main entry's, and refuse `dedupStrategy: 'embedding' | 'hybrid'` and the options only those read
 * (`embed`, `text`, `metric`, `mergeGuard`, `embedCacheSize`, `embedTimeoutMs`) with a `TypeError` naming the
 * entry point that has them. The opt-in features are given as the objects that carry their code
 * (`adaptive: adaptiveWindow()`), never in their flat form (`adaptive: true`), so a bundler drops those not
 * imported. See docs/decisions.md, "Pay for what you use" and "Opt-in features: objects that carry their code".
 */
export { createBatcher, batchDedup, type Batcher, type BatchDedupOptions } from './lean.js';
export type { ProcessOptions } from '../batcher/createBatcher.js';
export { dedupBy, type DedupByOptions } from '../operators/dedupBy.js';
export { bufferWindow, type BufferWindowOptions } from '../operators/bufferWindow.js';
export { adaptiveBuffer, type AdaptiveBufferOptions } from '../operators/adaptiveBuffer.js';
export { adaptiveWindow, type AdaptiveOptions, type AdaptiveWindowFeature } from '../internal/adaptiveWindow.js';
export { priorities, type PrioritiesFeature, type PrioritiesOptions } from '../internal/waitingQueue.js';
export { resultCache, type ResultCacheFeature, type ResultCacheFeatureOptions } from '../internal/resultCache.js';
export { fanOut, type FanOutOptions } from '../operators/fanOut.js';
export { createBatchFeedback, type BatchFeedback, type BatchReport } from '../internal/feedback.js';
export type { WindowOptions } from '../internal/windowSettings.js';
export {
  createBatchStats,
  BatchStatsRecorder,
  type BatchStats,
  type BatchStatsOptions,
  type LatencyPercentiles,
} from '../stats/batchStats.js';
export { BatchTimeoutError, BatchResultMismatchError, QueueFullError, BatcherClosedError } from '../errors.js';
export { stableKey, type DedupKey, type DedupScope } from '../dedup/keys.js';
export type { DedupOptions, DedupStrategy } from '../dedup/strategy.js';
export type {
  BatchResult,
  FulfilledBatchResult,
  RejectedBatchResult,
  DedupedBatch,
  ExecuteContext,
  ExecuteFn,
  StreamedResult,
} from '../types.js';
