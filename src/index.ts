export * from './operators/index.js';
export { createBatcher, type Batcher, type ProcessOptions } from './batcher/createBatcher.js';
export {
  createBatchStats,
  BatchStatsRecorder,
  type BatchStats,
  type BatchStatsOptions,
  type LatencyPercentiles,
} from './stats/batchStats.js';
export { BatchTimeoutError, BatchResultMismatchError, QueueFullError, BatcherClosedError } from './errors.js';
export { stableKey } from './dedup/exact.js';
export type { DedupOptions, DedupStrategy, Embedder } from './dedup/options.js';
