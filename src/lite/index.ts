/**
 * `rxjs-batch-dedup/lite`: the library without similarity dedup, for apps that dedup exactly (by key and scope),
 * such as a browser app batching HTTP calls. Neither the lexical embedder, the merge guard nor `ml-distance` is
 * loaded. `createBatcher` and `batchDedup` run on the lean core by default; the fused engine comes with the
 * objects that bring it (`engine()`, `adaptiveWindow()`, `priorities()`, `resultCache()`), so a bundler drops it
 * from an app that imports none of them. An option the default path does not take is refused at creation, naming
 * what to import: the object, or `rxjs-batch-dedup` for similarity dedup (`dedupStrategy: 'embedding' | 'hybrid'`,
 * `embed`, `text`, `metric`, `mergeGuard`, `embedCacheSize`, `embedTimeoutMs`, `embedAhead`). The opt-in features
 * are given only as their objects, never in their flat form (`adaptive: true`). See docs/decisions.md, "Pay for
 * what you use", "Opt-in features: objects that carry their code" and "The switch of /lite to the lean core".
 */
export {
  createBatcher,
  batchDedup,
  type Batcher,
  type BatchDedupOptions,
  type EngineOptions,
  type EngineFeature,
} from './lean.js';
export { engine } from './engine.js';
export type { LeanBatcher, LeanProcessOptions } from './bridge.js';
export type { LeanOptions, LeanCounts, LeanExecuteFn } from './core.js';
export type { ProcessOptions } from '../batcher/createBatcher.js';
export { dedupBy, type DedupByOptions } from '../operators/dedupBy.js';
export { bufferWindow, type BufferWindowOptions } from '../operators/bufferWindow.js';
export { adaptiveBuffer, type AdaptiveBufferOptions } from '../operators/adaptiveBuffer.js';
export { adaptiveWindow, priorities, resultCache } from './engine.js';
export type { AdaptiveOptions, AdaptiveWindowFeature } from '../internal/adaptiveWindow.js';
export type { PrioritiesFeature, PrioritiesOptions } from '../internal/waitingQueue.js';
export type { ResultCacheFeature, ResultCacheFeatureOptions } from '../internal/resultCache.js';
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
