import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { createDeduper, mapDedup, resolveDedupOptions, type Deduper, type DedupOptions } from '../dedup/options.js';
import { resolveFanOutOptions, type FanOutConfig, type FanOutOptions } from '../operators/fanOut.js';
import { BatchStatsRecorder } from '../stats/batchStats.js';
import type { ExecuteFn } from '../types.js';
import type { Envelope } from './envelope.js';
import type { Grouping } from '../dedup/exact.js';
import type { ResultCacheOptions } from './inFlight.js';
import { adaptiveMaxWaitMs, resolveAdaptiveSettings, type AdaptiveOptions, type AdaptiveSettings } from './adaptiveWindow.js';
import * as check from './validate.js';
import { resolveWindowSettings, type WindowOptions, type WindowSettings } from './windowSettings.js';

/** Options of `batchDedup` and `createBatcher`; the names follow the original Python runtime, in camelCase. */
export interface BatchDedupOptions<T, R>
  extends WindowOptions,
    AdaptiveOptions,
    DedupOptions<T>,
    Omit<FanOutOptions<T, R>, 'feedback' | 'stats' | 'enqueuedAt' | 'scheduler'> {
  /** Order waiting requests by `priority` (higher first, FIFO within a priority, with aging). Default false. */
  enablePriorities?: boolean;
  /** A request's priority when `enablePriorities` is on. Default 0 for every request. */
  priority?: (request: T) => number;
  /** Priority a waiting request gains per second of waiting, so nothing starves. Default 1. */
  priorityAgingPerSecond?: number;
  /** An abort signal per request: aborting withdraws the request if it is still waiting for a batch. */
  signal?: (request: T) => AbortSignal | undefined;
  /**
   * A request equal (same key and scope) to one already executing joins that execution instead of being sent
   * again. Default false.
   */
  dedupInFlight?: boolean;
  /**
   * Reuse fulfilled results for `ttlMs` (a semantic cache when combined with similarity dedup). Off by default:
   * only turn it on when a result stays valid for that long for every caller of the same scope.
   */
  resultCache?: ResultCacheOptions;
  /** Requests allowed to wait for a batch; past it a request is refused with `QueueFullError`. Default Infinity. */
  maxQueueSize?: number;
  /** A request still waiting for a batch this long after arrival is rejected with `BatchTimeoutError`. */
  requestTimeoutMs?: number;
  /** What one backend item costs, for `costSavedUsd`. Default 0. */
  costPerRequestUsd?: number;
  /** Move the window within [minWindowMs, maxWindowMs] to hold `targetLatencyMs` (see docs/adaptive.md). */
  adaptive?: boolean;
  /** Where counters go. Default: a recorder of the pipeline's own. */
  stats?: BatchStatsRecorder;
  scheduler?: SchedulerLike;
}

/** Options that shape the pipeline's structure and cannot change while it runs. */
const FIXED = [
  'scheduler',
  'stats',
  'enablePriorities',
  'priorityAgingPerSecond',
  'adaptive',
  'dedupInFlight',
  'resultCache',
] as const;

interface Resolved<T, R> {
  readonly window: WindowSettings;
  readonly adaptive: AdaptiveSettings;
  readonly deduper: Deduper<Envelope<T>>;
  readonly grouping: Grouping<Envelope<T>>;
  readonly fanOut: FanOutConfig<Envelope<T>, R>;
  readonly maxQueueSize: number;
  readonly requestTimeoutMs: number | undefined;
  readonly priority: ((request: T) => number) | undefined;
  readonly signal: ((request: T) => AbortSignal | undefined) | undefined;
  readonly agingPerMs: number;
  readonly costPerRequestUsd: number | undefined;
}

/**
 * The validated, live configuration of one `batchDedup` pipeline. `update()` validates a change in full before
 * applying any of it, then tells the running stages to re-read.
 */
export class PipelineConfig<T, R> {
  readonly scheduler: SchedulerLike;
  readonly stats: BatchStatsRecorder;
  readonly prioritized: boolean;
  readonly adaptive: boolean;
  readonly dedupInFlight: boolean;
  readonly resultCache: Required<ResultCacheOptions> | undefined;
  private raw: BatchDedupOptions<T, R>;
  private resolved: Resolved<T, R>;
  private readonly listeners = new Set<(changed: readonly string[]) => void>();

  constructor(
    private readonly where: string,
    options: BatchDedupOptions<T, R>,
  ) {
    const raw = check.optionsObject(where, options);
    check.scheduler(where, raw.scheduler);
    if (raw.stats !== undefined && !(raw.stats instanceof BatchStatsRecorder)) {
      check.fail(where, 'stats must be a recorder made by createBatchStats()', TypeError);
    }
    this.scheduler = raw.scheduler ?? asyncScheduler;
    this.prioritized = check.boolean(where, 'enablePriorities', raw.enablePriorities ?? false);
    this.adaptive = check.boolean(where, 'adaptive', raw.adaptive ?? false);
    this.dedupInFlight = check.boolean(where, 'dedupInFlight', raw.dedupInFlight ?? false);
    this.resultCache = resolveResultCache(where, raw.resultCache);
    this.stats = raw.stats ?? new BatchStatsRecorder({ scheduler: this.scheduler });
    this.raw = raw;
    this.resolved = this.resolve(raw);
    this.applyCost();
  }

  private applyCost(): void {
    if (this.resolved.costPerRequestUsd !== undefined) this.stats.costPerRequestUsd = this.resolved.costPerRequestUsd;
  }

  get window(): WindowSettings {
    return this.resolved.window;
  }
  get adaptiveSettings(): AdaptiveSettings {
    return this.resolved.adaptive;
  }
  get deduper(): Deduper<Envelope<T>> {
    return this.resolved.deduper;
  }
  /** Exact key and scope of an envelope, as dedup computes them (for in-flight dedup and the result cache). */
  get grouping(): Grouping<Envelope<T>> {
    return this.resolved.grouping;
  }
  get fanOut(): FanOutConfig<Envelope<T>, R> {
    return this.resolved.fanOut;
  }
  get maxQueueSize(): number {
    return this.resolved.maxQueueSize;
  }
  get requestTimeoutMs(): number | undefined {
    return this.resolved.requestTimeoutMs;
  }
  get agingPerMs(): number {
    return this.resolved.agingPerMs;
  }

  /** The envelope `batchDedup` makes for a request arriving now. */
  envelope(request: T): Envelope<T> {
    const arrivedAt = this.scheduler.now();
    const signal = this.resolved.signal?.(request);
    return signal ? { request, arrivedAt, signal } : { request, arrivedAt };
  }

  priorityOf(envelope: Envelope<T>): number {
    const p = envelope.priority ?? this.resolved.priority?.(envelope.request) ?? 0;
    if (typeof p !== 'number' || Number.isNaN(p)) {
      throw new TypeError(`${this.where}: priority must be a number, got ${String(p)}`);
    }
    return p;
  }

  /** Applies a partial change; throws (changing nothing) when any of it is invalid. */
  update(partial: Partial<BatchDedupOptions<T, R>>): void {
    const changes = check.optionsObject(`${this.where}.configure`, partial);
    for (const name of FIXED) {
      if (name in changes && changes[name] !== this.raw[name]) {
        check.fail(`${this.where}.configure`, `${name} cannot be changed after creation`, TypeError);
      }
    }
    const raw = { ...this.raw, ...changes };
    this.resolved = this.resolve(raw);
    const changed = Object.keys(changes).filter((name) => changes[name as keyof typeof changes] !== this.raw[name as keyof typeof changes]);
    this.raw = raw;
    this.applyCost();
    for (const listener of [...this.listeners]) listener(changed);
  }

  /** Calls `listener` after every change, with the names of the options whose value changed. */
  onChange(listener: (changed: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private resolve(raw: BatchDedupOptions<T, R>): Resolved<T, R> {
    const where = this.where;
    const adaptive = resolveAdaptiveSettings(where, raw);
    const window = resolveWindowSettings(where, raw, this.adaptive === true ? adaptiveMaxWaitMs(adaptive) : undefined);
    const dedup = resolveDedupOptions<T>(where, raw);
    const execute = check.requiredFunction<ExecuteFn<T, R>>(where, 'execute', raw.execute);
    const fanOut: FanOutConfig<Envelope<T>, R> = {
      ...resolveFanOutOptions<Envelope<T>, R>(where, {
        ...raw,
        execute: (envelopes, context) => execute(envelopes.map((e) => e.request), context),
        scheduler: this.scheduler,
        stats: this.stats,
        enqueuedAt: (envelope) => envelope.arrivedAt,
      }),
      executeCopiesItems: true,
    };
    const mapped = mapDedup(dedup, (e: Envelope<T>) => e.request, (e) => e.scope);
    const deduper = createDeduper<Envelope<T>>(
      mapped,
      {
        onFallback: () => this.stats.recordEmbedFallback(),
        onEmbedCache: (hits, misses) => this.stats.recordEmbedCache(hits, misses),
      },
    );
    const maxQueueSize = check.count(where, 'maxQueueSize', raw.maxQueueSize ?? Infinity, 1, true);
    const requestTimeoutMs =
      raw.requestTimeoutMs === undefined ? undefined : check.duration(where, 'requestTimeoutMs', raw.requestTimeoutMs, 1);
    const priority = check.optionalFunction<(request: T) => number>(where, 'priority', raw.priority);
    const signal = check.optionalFunction<(request: T) => AbortSignal | undefined>(where, 'signal', raw.signal);
    const agingPerSecond = check.nonNegative(where, 'priorityAgingPerSecond', raw.priorityAgingPerSecond ?? 1);
    const costPerRequestUsd =
      raw.costPerRequestUsd === undefined ? undefined : check.nonNegative(where, 'costPerRequestUsd', raw.costPerRequestUsd);
    return {
      window,
      adaptive,
      deduper,
      grouping: mapped.grouping,
      fanOut,
      maxQueueSize,
      requestTimeoutMs,
      priority,
      signal,
      agingPerMs: agingPerSecond / 1000,
      costPerRequestUsd,
    };
  }
}

function resolveResultCache(where: string, value: ResultCacheOptions | undefined): Required<ResultCacheOptions> | undefined {
  if (value === undefined) return undefined;
  const o = check.optionsObject(`${where}: resultCache`, value);
  return {
    ttlMs: check.duration(where, 'resultCache.ttlMs', o.ttlMs, 1),
    maxEntries: check.count(where, 'resultCache.maxEntries', o.maxEntries ?? 1000, 1),
  };
}
