export * from './operators/index.js';
export { createBatcher } from './batcher/withSimilarity.js';
export type { Batcher, ProcessOptions } from './batcher/createBatcher.js';
export {
  createBatchStats,
  BatchStatsRecorder,
  type BatchStats,
  type BatchStatsOptions,
  type LatencyPercentiles,
} from './stats/batchStats.js';
export { BatchTimeoutError, BatchResultMismatchError, QueueFullError, BatcherClosedError } from './errors.js';
export { stableKey } from './dedup/keys.js';
export type { DedupOptions, DedupStrategy, Embedder } from './dedup/options.js';
export { createLexicalEmbedder, type LexicalEmbedderOptions } from './dedup/lexicalEmbedder.js';
export { defaultMergeGuard, guardSignature } from './dedup/mergeGuard.js';
export { METRIC_NAMES, type VectorSimilarity } from './dedup/metric.js';
export { MalformedEmbeddingError } from './dedup/vectorLeaders.js';
export {
  fromFeatureExtractor,
  loadTransformersEmbedder,
  type FeatureExtractor,
  type FeatureExtractionOptions,
  type TensorLike,
  type TransformersEmbedderOptions,
  type TransformersModule,
} from './dedup/adapters/transformers.js';
export { createHttpEmbedder, parseEmbeddingResponse, type FetchLike, type HttpEmbedderOptions } from './dedup/adapters/http.js';
export { keyvStore, type KeyvLike, type KeyvStoreOptions } from './store/keyvStore.js';
export { sharedStore, type ResultStore, type ResultLeases, type SharedStore, type StoreSerializer } from './store/resultStore.js';
export type { SharedStoreOptions } from './internal/sharedTier.js';
