export {
  publishBatchStats,
  type BatchStatsMetrics,
  type BatchStatsMetricsOptions,
  type BatchStatsSource,
} from './publishBatchStats.js';
