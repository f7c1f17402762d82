import { asyncScheduler, Observable, Subject, type SchedulerLike } from 'rxjs';
import { BatchTimeoutError } from '../errors.js';
import { elapsed } from '../base/clock.js';
import * as check from '../base/validate.js';
import { SampleWindow } from './percentiles.js';
import type { DedupedBatch } from '../types.js';

export interface LatencyPercentiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

/** A snapshot of a pipeline's counters. */
export interface BatchStats {
  /** Requests accepted (including ones later refused by a full queue or a deadline). */
  readonly totalRequests: number;
  /** Batches handed to `execute`. */
  readonly totalBatches: number;
  /** Requests per executed batch, before dedup. */
  readonly avgBatchSize: number;
  /** Share of deduplicated requests among those that went through dedup, in [0, 1]. */
  readonly dedupRate: number;
  /**
   * Results per second, from the first request to the latest result (scheduler time). The time is summed from
   * reading to reading, so a clock that steps back loses only the step, never turns the span negative.
   */
  readonly requestsPerSecond: number;
  /**
   * `(deduplicated + inFlightHits + cacheHits + storeHits + storeJoins) * costPerRequestUsd`: every request answered
   * without a backend item of its own, whether it shared its batch, an execution in flight, a cached result, or
   * (through the shared store) another process's result or execution.
   */
  readonly costSavedUsd: number;
  /** Requests that shared another request's execution. */
  readonly deduplicated: number;
  /** Items sent to the backend (unique requests of every batch). */
  readonly executedItems: number;
  /** Results emitted, fulfilled or rejected. */
  readonly completed: number;
  /** Requests rejected with `BatchTimeoutError`. */
  readonly timeouts: number;
  /** Requests rejected for any other reason. */
  readonly errors: number;
  /** Requests waiting to be batched now. */
  readonly queueDepth: number;
  /** Batches executing now. */
  readonly inFlight: number;
  /** The window a window opening now would get. */
  readonly currentWindowMs: number;
  /** Enqueue-to-result latency over the most recent results. */
  readonly latencyMs: LatencyPercentiles;
  /**
   * Batches whose similarity stage failed (embedder error, malformed vectors, no answer within `embedTimeoutMs`)
   * and fell back to exact dedup.
   */
  readonly embedFallbacks: number;
  /** Requests that joined an equal request already executing (`dedupInFlight`). */
  readonly inFlightHits: number;
  /** Requests answered from the result cache (`resultCache`), exact and semantic (see `semanticCacheHits`). */
  readonly cacheHits: number;
  /** Requests whose deadline passed while they waited for a batch (included in `timeouts`). */
  readonly expired: number;
  /** Latency percentiles per priority (with `enablePriorities`), keyed by the priority a request entered with. */
  readonly latencyByPriority: Readonly<Record<string, LatencyPercentiles>>;
  /** Texts whose embedding came from the embedding cache. */
  readonly embedCacheHits: number;
  /** Texts that had to be embedded. */
  readonly embedCacheMisses: number;
  /**
   * Requests (with `'embedding'` or `'hybrid'`) whose text the default `text(request)` could not read: no string
   * request, `query`, `text`, `prompt` or `input`, nor a last chat message of text. They were deduplicated exactly.
   */
  readonly textUnreadable: number;
  /**
   * Of `cacheHits`, the requests answered from a cached result of a similar text (`resultCache.semantic`), found
   * between dedup and execution; the others (`cacheHits - semanticCacheHits`) matched a cached key at arrival.
   */
  readonly semanticCacheHits: number;
  /** Items answered from the shared store (`resultCache.store`) rather than executed here. */
  readonly storeHits: number;
  /** Items answered by another process's execution, waited for under its lease (`redisStore`). */
  readonly storeJoins: number;
  /** Items executed here because the shared store failed or took longer than `resultCache.storeTimeoutMs`. */
  readonly storeFallbacks: number;
}

export interface BatchStatsOptions {
  /** What one backend item costs; deduplicated requests count as saved. Default 0. */
  costPerRequestUsd?: number;
  /** Clock for `requestsPerSecond`. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /** How many recent latencies the percentiles cover. Default 2048. */
  latencySamples?: number;
}

/**
 * The counters a snapshot shows as they are, once each: the snapshot and the zeroed counters are built from this
 * list, so a new counter is one name here and one field in `BatchStats` (add it at the end).
 */
const COUNTED = [
  'totalRequests',
  'totalBatches',
  'deduplicated',
  'executedItems',
  'completed',
  'timeouts',
  'errors',
  'embedFallbacks',
  'inFlightHits',
  'cacheHits',
  'expired',
  'embedCacheHits',
  'embedCacheMisses',
  'textUnreadable',
  'semanticCacheHits',
  'storeHits',
  'storeJoins',
  'storeFallbacks',
] as const satisfies readonly (keyof BatchStats)[];

type Counted = (typeof COUNTED)[number];

/** The counters, with the two that only feed averages (requests in batches, requests through dedup). */
type Counters = Record<Counted | 'batchedRequests' | 'dedupInput', number>;

function zeroCounters(): Counters {
  // Made in one go: an object given more than a dozen properties one by one becomes a dictionary in V8, and
  // every count (two per request) was then a hash lookup.
  return Object.fromEntries(['batchedRequests', 'dedupInput', ...COUNTED].map((name) => [name, 0])) as Counters;
}

/** Live gauges a running operator exposes to its recorder. */
export interface StatsProbe {
  queueDepth?: () => number;
  inFlight?: () => number;
  windowMs?: () => number;
}

/**
 * Counts what a pipeline does. Pass one recorder as `stats` to `batchDedup` (or to each hand-composed operator)
 * and read it with `snapshot()` or `stats$`.
 */
export class BatchStatsRecorder {
  costPerRequestUsd: number;
  private readonly scheduler: SchedulerLike;
  private readonly latencies: SampleWindow;
  private readonly latencyByPriority = new Map<number, SampleWindow>();
  private readonly probes = new Set<StatsProbe>();
  private readonly changes = new Subject<void>();
  private counters = zeroCounters();
  /** The clock's latest reading since the first request, undefined before it. */
  private lastReadingAt: number | undefined;
  /** Time from the first request to the latest result, summed reading by reading (see `stamp`). */
  private spanMs = 0;
  /** Whether a result has been stamped since the first request (before that there is no rate). */
  private stamped = false;

  /** Snapshots: one at subscription, then one after every batch settles and every refused request. */
  readonly stats$: Observable<BatchStats> = new Observable<BatchStats>((subscriber) => {
    subscriber.next(this.snapshot());
    return this.changes.subscribe(() => subscriber.next(this.snapshot()));
  });

  constructor(options: BatchStatsOptions = {}) {
    const where = 'createBatchStats';
    check.scheduler(where, options.scheduler);
    this.costPerRequestUsd = check.nonNegative(where, 'costPerRequestUsd', options.costPerRequestUsd ?? 0);
    this.scheduler = options.scheduler ?? asyncScheduler;
    this.latencies = new SampleWindow(check.count(where, 'latencySamples', options.latencySamples ?? 2048, 1));
  }

  snapshot(): BatchStats {
    this.stamp();
    const c = this.counters;
    const [p50, p95, p99] = this.latencies.percentiles([50, 95, 99] as const);
    let queueDepth = 0;
    let inFlight = 0;
    let currentWindowMs = 0;
    for (const probe of this.probes) {
      queueDepth += probe.queueDepth?.() ?? 0;
      inFlight += probe.inFlight?.() ?? 0;
      currentWindowMs = probe.windowMs?.() ?? currentWindowMs;
    }
    const spanMs = this.stamped ? Math.max(1, this.spanMs) : 0;
    const computed: Pick<BatchStats, Exclude<keyof BatchStats, Counted>> = {
      avgBatchSize: c.totalBatches === 0 ? 0 : c.batchedRequests / c.totalBatches,
      dedupRate: c.dedupInput === 0 ? 0 : c.deduplicated / c.dedupInput,
      requestsPerSecond: spanMs === 0 ? 0 : (c.completed * 1000) / spanMs,
      costSavedUsd: (c.deduplicated + c.inFlightHits + c.cacheHits + c.storeHits + c.storeJoins) * this.costPerRequestUsd,
      queueDepth,
      inFlight,
      currentWindowMs,
      latencyMs: { p50, p95, p99 },
      latencyByPriority: Object.fromEntries(
        [...this.latencyByPriority].map(([priority, samples]) => {
          const [q50, q95, q99] = samples.percentiles([50, 95, 99] as const);
          return [String(priority), { p50: q50, p95: q95, p99: q99 }];
        }),
      ),
    };
    // Every field of BatchStats: the computed ones above (the compiler holds them to the rest), and the counters.
    const counted = computed as typeof computed & Record<Counted, number>;
    for (const name of COUNTED) counted[name] = c[name];
    return counted;
  }

  /** Zeroes the counters and latency samples; live gauges keep reporting. */
  reset(): void {
    this.counters = zeroCounters();
    this.latencies.clear();
    this.latencyByPriority.clear();
    this.lastReadingAt = undefined;
    this.spanMs = 0;
    this.stamped = false;
    this.changed();
  }

  /** @internal */
  attach(probe: StatsProbe): () => void {
    this.probes.add(probe);
    return () => this.probes.delete(probe);
  }

  /** @internal */
  recordRequests(count: number): void {
    this.lastReadingAt ??= this.scheduler.now();
    this.counters.totalRequests += count;
  }

  /** @internal */
  recordDedup(batch: DedupedBatch<unknown>): void {
    // Items that could not be keyed were not deduplicated, so they count for neither side.
    const items = batch.items.length - (batch.failures?.size ?? 0);
    this.counters.dedupInput += items;
    this.counters.deduplicated += items - batch.unique.length;
  }

  /** @internal */
  recordBatch(size: number, executedItems: number): void {
    this.counters.totalBatches++;
    this.counters.batchedRequests += size;
    this.counters.executedItems += executedItems;
  }

  /** @internal */
  recordEmbedFallback(): void {
    this.counters.embedFallbacks++;
  }

  /** @internal */
  recordTextUnreadable(requests: number): void {
    this.counters.textUnreadable += requests;
  }

  /** @internal */
  recordInFlightHit(): void {
    this.counters.inFlightHits++;
  }

  /** @internal */
  recordCacheHit(): void {
    this.counters.cacheHits++;
  }

  /**
   * @internal The counters of the plug-ins (the semantic cache's hits, the shared store's): one method, so a
   * pipeline without them pays little.
   */
  recordCount(counter: 'semanticCacheHits' | 'storeHits' | 'storeJoins' | 'storeFallbacks', items: number): void {
    this.counters[counter] += items;
  }

  /** @internal */
  recordExpired(): void {
    this.counters.expired++;
  }

  /** At most 32 distinct priorities are tracked, so arbitrary numeric priorities cannot grow memory. */
  private priorityLatencies(priority: number): SampleWindow | undefined {
    let samples = this.latencyByPriority.get(priority);
    if (!samples && this.latencyByPriority.size < 32) {
      this.latencyByPriority.set(priority, (samples = new SampleWindow(512)));
    }
    return samples;
  }

  /** @internal */
  recordEmbedCache(hits: number, misses: number): void {
    this.counters.embedCacheHits += hits;
    this.counters.embedCacheMisses += misses;
  }

  /** @internal */
  recordResult(latencyMs: number, error?: unknown, failed = false, priority?: number): void {
    const c = this.counters;
    c.completed++;
    if (failed) {
      if (error instanceof BatchTimeoutError) c.timeouts++;
      else c.errors++;
    }
    this.latencies.add(latencyMs);
    if (priority !== undefined) this.priorityLatencies(priority)?.add(latencyMs);
    // Stryker disable next-line UpdateOperator: only whether it is 0 is read (stamp), and counting down from 0 never reaches 0 either.
    this.resultsSinceClock++;
  }

  /** The clock is read once per batch of results, not per result; see `settledAt`. */
  private resultsSinceClock = 0;

  /**
   * @internal Marks the time of the latest results (called once per settled batch and per refusal).
   * @param now the time, when the caller has just read it
   */
  stamp(now?: number): void {
    if (this.resultsSinceClock === 0) return;
    this.resultsSinceClock = 0;
    if (this.lastReadingAt === undefined) return; // no request recorded (a fanOut fed directly): no span
    now ??= this.scheduler.now();
    this.spanMs += elapsed(this.lastReadingAt, now);
    this.lastReadingAt = now;
    this.stamped = true;
  }

  /** @internal Stamps the latest results (at `now`, if given) and notifies `stats$` subscribers. */
  changed(now?: number): void {
    this.stamp(now);
    // Stryker disable next-line ConditionalExpression: made true, next() on a Subject nobody observes reaches no one; made false it is killed (test/mutation-stats.test.ts, stats$).
    if (this.changes.observed) this.changes.next();
  }
}

/**
 * Creates a stats recorder to share between operators, or to read from outside a `batchDedup` pipeline.
 *
 * @param options cost per backend item and the clock to measure with
 * @return a recorder with `snapshot()` and `stats$`
 */
export function createBatchStats(options?: BatchStatsOptions): BatchStatsRecorder {
  return new BatchStatsRecorder(options);
}
