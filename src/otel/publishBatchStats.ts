import type { Attributes, BatchObservableResult, Meter, Observable as OtelObservable } from '@opentelemetry/api';
import type { BatchStats } from '../stats/batchStats.js';

/** Anything that can take a stats snapshot: a `BatchStatsRecorder`, a `Batcher`, a `BatchDedupService`. */
export type BatchStatsSource = { getStats(): BatchStats } | { snapshot(): BatchStats } | (() => BatchStats);

export interface BatchStatsMetricsOptions {
  /** Where the instruments are created: `metrics.getMeter('my-service')`. */
  meter: Meter;
  /** Prefix of every metric name. Default `'batch_dedup'`. */
  prefix?: string;
  /** Attributes on every data point, e.g. `{ 'batcher.name': 'embed' }` to tell batchers apart. */
  attributes?: Attributes;
}

/** Stops publishing; the instruments stay registered with the meter but report nothing more. */
export interface BatchStatsMetrics {
  unregister(): void;
}

type NumericStat = Exclude<
  {
    [K in keyof BatchStats]: BatchStats[K] extends number ? K : never;
  }[keyof BatchStats],
  undefined
>;

/** Running totals: published as observable (cumulative, monotonic) counters. */
const COUNTERS: readonly { stat: NumericStat; name: string; unit: string; description: string }[] = [
  { stat: 'totalRequests', name: 'requests', unit: '{request}', description: 'Requests accepted' },
  { stat: 'totalBatches', name: 'batches', unit: '{batch}', description: 'Batches handed to execute' },
  { stat: 'executedItems', name: 'executed_items', unit: '{item}', description: 'Items sent to the backend' },
  { stat: 'deduplicated', name: 'deduplicated', unit: '{request}', description: 'Requests that shared an equal request’s execution' },
  { stat: 'completed', name: 'completed', unit: '{request}', description: 'Results emitted, fulfilled or rejected' },
  { stat: 'timeouts', name: 'timeouts', unit: '{request}', description: 'Requests rejected with BatchTimeoutError' },
  { stat: 'errors', name: 'errors', unit: '{request}', description: 'Requests rejected for any other reason' },
  { stat: 'embedFallbacks', name: 'embed_fallbacks', unit: '{batch}', description: 'Batches whose similarity stage fell back to exact dedup' },
  { stat: 'costSavedUsd', name: 'cost_saved', unit: 'USD', description: 'Deduplicated requests times costPerRequestUsd' },
  { stat: 'inFlightHits', name: 'in_flight_hits', unit: '{request}', description: 'Requests that joined an equal request already executing' },
  { stat: 'cacheHits', name: 'cache_hits', unit: '{request}', description: 'Requests answered from the result cache' },
  { stat: 'expired', name: 'expired', unit: '{request}', description: 'Requests whose deadline passed while they waited for a batch' },
  { stat: 'embedCacheHits', name: 'embed_cache_hits', unit: '{text}', description: 'Texts whose embedding came from the cache' },
  { stat: 'embedCacheMisses', name: 'embed_cache_misses', unit: '{text}', description: 'Texts that had to be embedded' },
  { stat: 'textUnreadable', name: 'text_unreadable', unit: '{request}', description: 'Requests whose text could not be read, deduplicated exactly' },
  { stat: 'semanticCacheHits', name: 'semantic_cache_hits', unit: '{request}', description: 'Of cache_hits, requests answered from a cached result of a similar text' },
  { stat: 'storeHits', name: 'store_hits', unit: '{item}', description: 'Items answered from the shared store rather than executed here' },
  { stat: 'storeJoins', name: 'store_joins', unit: '{item}', description: "Items answered by another process's execution, waited for under its lease" },
  { stat: 'storeFallbacks', name: 'store_fallbacks', unit: '{item}', description: 'Items executed here because the shared store failed or was too slow' },
];

/** Values of the moment: published as observable gauges. */
const GAUGES: readonly { stat: NumericStat; name: string; unit: string; description: string }[] = [
  { stat: 'queueDepth', name: 'queue_depth', unit: '{request}', description: 'Requests waiting to be batched' },
  { stat: 'inFlight', name: 'in_flight', unit: '{batch}', description: 'Batches executing' },
  { stat: 'currentWindowMs', name: 'window', unit: 'ms', description: 'The window a window opening now would get' },
  { stat: 'avgBatchSize', name: 'batch_size.average', unit: '{request}', description: 'Requests per batch, before dedup' },
  { stat: 'dedupRate', name: 'dedup_rate', unit: '1', description: 'Share of deduplicated requests' },
  { stat: 'requestsPerSecond', name: 'throughput', unit: '{request}/s', description: 'Mean results per second' },
];

/**
 * Publishes a batcher's `BatchStats` as OpenTelemetry metrics through `@opentelemetry/api`. Nothing is computed
 * between collections: one snapshot is taken per collection, when the SDK's reader asks.
 *
 * ```ts
 * const metrics = publishBatchStats(batcher, { meter: metrics.getMeter('search'), attributes: { 'batcher.name': 'embed' } });
 * // later: metrics.unregister();
 * ```
 *
 * Totals (`requests`, `batches`, `executed_items`, `deduplicated`, ...) are cumulative counters; `queue_depth`,
 * `in_flight`, `window`, `batch_size.average`, `dedup_rate`, `throughput` and `latency` (one point per
 * `quantile`: p50, p95, p99, in ms) are gauges. Names are `<prefix>.<name>`.
 *
 * @param source the recorder, batcher or service to read, or a function returning a snapshot
 * @param options the meter, a name prefix and attributes for every point
 * @return a handle whose `unregister()` stops publishing
 */
export function publishBatchStats(source: BatchStatsSource, options: BatchStatsMetricsOptions): BatchStatsMetrics {
  const { meter, attributes, prefix } = checkedOptions(options);
  const read = snapshotOf(source);

  const counters = COUNTERS.map((spec) => ({
    spec,
    instrument: meter.createObservableCounter(`${prefix}.${spec.name}`, { unit: spec.unit, description: spec.description }),
  }));
  const gauges = GAUGES.map((spec) => ({
    spec,
    instrument: meter.createObservableGauge(`${prefix}.${spec.name}`, { unit: spec.unit, description: spec.description }),
  }));
  const latency = meter.createObservableGauge(`${prefix}.latency`, {
    unit: 'ms',
    description: 'Enqueue-to-result latency percentile over recent results',
  });

  const instruments = [...counters, ...gauges];
  const callback = (result: BatchObservableResult) => {
    const stats = read();
    for (const { spec, instrument } of instruments) result.observe(instrument, stats[spec.stat], attributes);
    for (const quantile of ['p50', 'p95', 'p99'] as const) {
      result.observe(latency, stats.latencyMs[quantile], { ...attributes, quantile });
    }
  };
  const observables: OtelObservable[] = instruments.map(({ instrument }) => instrument);
  observables.push(latency);
  meter.addBatchObservableCallback(callback, observables);

  let registered = true;
  return {
    unregister() {
      if (!registered) return;
      registered = false;
      meter.removeBatchObservableCallback(callback, observables);
    },
  };
}

/** The options, checked before anything is registered with the meter; `null` stands for a default, as elsewhere. */
function checkedOptions(options: BatchStatsMetricsOptions): { meter: Meter; attributes: Attributes; prefix: string } {
  if (!isObject(options)) refuse('options must be an object with a meter', kind(options));
  const { meter, attributes, prefix } = options;
  // Its methods that are called here: anything else a Meter has is not needed.
  if (!isObject(meter) || ['createObservableCounter', 'createObservableGauge', 'addBatchObservableCallback'].some((m) => typeof meter[m] !== 'function')) {
    refuse('meter must be an OpenTelemetry Meter (metrics.getMeter(name))', kind(meter));
  }
  if (prefix != null && typeof prefix !== 'string') refuse('prefix must be a string', kind(prefix));
  if (attributes != null && !isObject(attributes)) refuse('attributes must be an object', kind(attributes));
  return { meter, attributes: attributes ?? {}, prefix: prefix ?? 'batch_dedup' };
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

const kind = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

function refuse(message: string, got: string): never {
  throw new TypeError(`publishBatchStats: ${message}, got ${got}`);
}

function snapshotOf(source: BatchStatsSource): () => BatchStats {
  if (typeof source === 'function') return source;
  if (source === null || typeof source !== 'object') refuse('source must have getStats() or snapshot(), or be a function', kind(source));
  if ('getStats' in source && typeof source.getStats === 'function') return () => source.getStats();
  if ('snapshot' in source && typeof source.snapshot === 'function') return () => source.snapshot();
  throw new TypeError('publishBatchStats: source must have getStats() or snapshot(), or be a function');
}
