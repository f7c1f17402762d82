import { asyncScheduler, type SchedulerLike } from 'rxjs';
import {
  createDeduper,
  mapDedup,
  resolveDedupWith,
  type Deduper,
  type DedupOptions,
} from '../dedup/strategy.js';
import type { FanOutConfig } from './executor.js';
import { resolveFanOutOptions, type FanOutOptions } from './fanOutSettings.js';
import { BatchStatsRecorder } from '../stats/batchStats.js';
import type { ExecuteFn } from '../types.js';
import type { Envelope } from './envelope.js';
import type { Grouping } from '../dedup/exact.js';
import { slotOf, type ResultCacheOptions } from './inFlight.js';
import type { ResultCacheFeature } from './resultCache.js';
import {
  adaptiveMaxWaitMs,
  resolveAdaptiveSettings,
  type AdaptiveOptions,
  type AdaptiveSettings,
  type AdaptiveWindowFeature,
} from './adaptiveWindow.js';
import { describeValue, userFunctionReturned, userFunctionThrew } from '../base/describeValue.js';
import { unknownOption } from '../base/nearestNames.js';
import { abortedIsBoolean, abortState } from '../base/signal.js';
import { arrivalClock } from './arrivalClock.js';
import * as check from '../base/validate.js';
import { resolveWindowSettings, type WindowOptions, type WindowSettings } from './windowSettings.js';
import type { NearCache, SimilarityPlugIn } from './nearCache.js';
import type { SharedStoreOptions, SharedTierSettings } from './sharedTier.js';
import type { PrioritiesFeature } from './waitingQueue.js';

/** Options of `batchDedup` and `createBatcher`; the names follow the original Python runtime, in camelCase. */
export interface BatchDedupOptions<T, R>
  extends WindowOptions,
    AdaptiveOptions,
    DedupOptions<T>,
    Omit<FanOutOptions<T, R>, 'feedback' | 'stats' | 'enqueuedAt' | 'scheduler'> {
  /**
   * Order waiting requests by `priority` (higher first, FIFO within a priority, with aging). Default false. The
   * flat form of `priorities`: the main and operators entry points take it, `rxjs-batch-dedup/lite` refuses it.
   */
  enablePriorities?: boolean;
  /**
   * A request's priority when `enablePriorities` is on. Default 0 for every request. A call that throws or
   * returns anything but a number (NaN included) rejects that request alone with a `TypeError`.
   */
  priority?: (request: T) => number;
  /** Priority a waiting request gains per second of waiting, so nothing starves. Default 1. */
  priorityAgingPerSecond?: number;
  /**
   * An abort signal per request (`batchDedup` only; `createBatcher` takes `process(request, { signal })`):
   * aborting withdraws the request if it is still waiting for a batch. Return `undefined` (or `null`) for none.
   * A call that throws or returns anything else rejects that request alone with a `TypeError`.
   */
  signal?: (request: T) => AbortSignal | null | undefined;
  /**
   * A request equal (same key and scope) to one already executing joins that execution instead of being sent
   * again. Default true; `false` sends it again (it still joins an equal request waiting for a batch, with exact
   * or hybrid dedup). Off, like all dedup, while `enableDedup` is false.
   */
  dedupInFlight?: boolean;
  /**
   * Reuse fulfilled results for `ttlMs` (a semantic cache when combined with similarity dedup). Off by default:
   * only turn it on when a result stays valid for that long for every caller of the same scope.
   * `resultCache({ ttlMs })`, on every entry point; the plain options object (`{ ttlMs }`) on the main and
   * operators entry points, refused by `rxjs-batch-dedup/lite`.
   */
  resultCache?: (ResultCacheOptions & SharedStoreOptions) | ResultCacheFeature;
  /** Requests allowed to wait for a batch; past it a request is refused with `QueueFullError`. Default Infinity. */
  maxQueueSize?: number;
  /**
   * A request still waiting for a batch this long after arrival is rejected with `BatchTimeoutError`. Default
   * none (`Infinity` says the same).
   */
  requestTimeoutMs?: number;
  /** What one backend item costs, for `costSavedUsd`. Default 0. */
  costPerRequestUsd?: number;
  /**
   * Move the window within [minWindowMs, maxWindowMs] to hold `targetLatencyMs` (see docs/adaptive.md):
   * `adaptiveWindow({ targetLatencyMs })`, on every entry point; `true` on the main and operators entry points
   * (with the flat `targetLatencyMs`, `minWindowMs`, `maxWindowMs`), refused by `rxjs-batch-dedup/lite`.
   */
  adaptive?: boolean | AdaptiveWindowFeature;
  /** Where counters go. Default: a recorder of the pipeline's own. */
  stats?: BatchStatsRecorder;
  scheduler?: SchedulerLike;
  /**
   * Order waiting requests by priority: `priorities({ priority, agingPerSecond })`, on every entry point (the
   * main and operators ones also take `enablePriorities: true` with `priority` and `priorityAgingPerSecond`).
   */
  priorities?: PrioritiesFeature<T>;
}

/**
 * Every option name, once. The compiler holds it to `BatchDedupOptions` both ways (a missing name or an extra one
 * does not compile), so the names refused as unknown are derived from the interface alone.
 */
const OPTION_NAMES: Record<keyof BatchDedupOptions<unknown, unknown>, true> = {
  windowMs: true,
  maxSize: true,
  minSize: true,
  maxWaitMs: true,
  targetLatencyMs: true,
  minWindowMs: true,
  maxWindowMs: true,
  enableDedup: true,
  dedupStrategy: true,
  dedupThreshold: true,
  dedupFunction: true,
  key: true,
  scope: true,
  embed: true,
  text: true,
  metric: true,
  mergeGuard: true,
  embedCacheSize: true,
  embedTimeoutMs: true,
  execute: true,
  concurrency: true,
  processingTimeoutMs: true,
  onTimeout: true,
  enablePriorities: true,
  priority: true,
  priorityAgingPerSecond: true,
  signal: true,
  dedupInFlight: true,
  resultCache: true,
  maxQueueSize: true,
  requestTimeoutMs: true,
  costPerRequestUsd: true,
  adaptive: true,
  stats: true,
  scheduler: true,
  embedAhead: true,
  priorities: true,
};
/**
 * What an unknown name may be suggested as: every option, and the nested ones a flat name may have meant. Made
 * when it is needed: a module-level spread would stay in every bundle that shares this module's chunk (a bundler
 * cannot tell it is free of side effects), `bufferWindow` alone included.
 */
const suggestions = (): string[] => [
  ...Object.keys(OPTION_NAMES),
  'resultCache.ttlMs',
  'resultCache.maxEntries',
  'resultCache.semantic',
  'resultCache.store',
  'resultCache.storeTimeoutMs',
];

/** Options of the standalone operators that the pipeline wires itself. */
const WIRED_BY_THE_PIPELINE: Readonly<Record<string, string>> = { feedback: 'fanOut', enqueuedAt: 'fanOut' };

/** Refuses a name that is no option (a typo would otherwise be ignored, silently), naming the nearest ones. */
function checkOptionNames(where: string, options: object, nullHint?: string): void {
  for (const name of Object.keys(options)) {
    if (Object.prototype.hasOwnProperty.call(OPTION_NAMES, name)) {
      check.notNull(where, options, name, nullHint);
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(WIRED_BY_THE_PIPELINE, name)) {
      const operator = WIRED_BY_THE_PIPELINE[name]!;
      check.fail(where, `unknown option ${name}: it is an option of the standalone ${operator} operator, which this pipeline sets itself`, TypeError);
    }
    check.fail(where, unknownOption(name, suggestions()), TypeError);
  }
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
  'priorities',
] as const;

type FixedOption = (typeof FIXED)[number];

/**
 * What `resolve` makes of the options: copied onto the config (`apply`), so the stages read plain fields. The
 * public ones are declared on the class (`dedupStage` is read through the getter `deduper`); `priorityFn`,
 * `signalFn` and `costPerRequestUsd` are read by it alone.
 */
interface Resolved<T, R> {
  readonly window: WindowSettings;
  readonly adaptiveSettings: AdaptiveSettings;
  readonly dedupStage: Deduper<Envelope<T>>;
  readonly grouping: Grouping<Envelope<T>>;
  readonly fanOut: FanOutConfig<Envelope<T>, R>;
  readonly sharing: Sharing;
  readonly maxQueueSize: number;
  readonly requestTimeoutMs: number | undefined;
  readonly priorityFn: ((request: T) => number) | undefined;
  readonly signalFn: ((request: T) => unknown) | undefined;
  readonly costPerRequestUsd: number | undefined;
}

/** How equal requests share one backend item before batch time, under the settings in effect. */
export interface Sharing {
  /**
   * A request whose exact key and scope equal those of one waiting in the queue joins it (and takes no place in
   * the queue). On with exact or hybrid dedup; off with `'embedding'` alone or a `dedupFunction`, where equality
   * is known only at batch time, and while `enableDedup` is false.
   */
  readonly joinsWaiting: boolean;
  /** A request equal to one executing joins that execution (`dedupInFlight`, while `enableDedup` is on). */
  readonly joinsInFlight: boolean;
  /**
   * Dedup is exact and nothing else: requests that did not join one another at arrival are distinct, so a batch
   * of them needs no dedup at batch time.
   */
  readonly exactOnly: boolean;
  /** Anything computes a request's slot at its arrival: a join, or the result cache. */
  readonly atArrival: boolean;
}

/**
 * The validated, live configuration of one `batchDedup` pipeline. `update()` validates a change in full before
 * applying any of it, then tells the running stages to re-read.
 */
export class PipelineConfig<T, R> {
  readonly scheduler: SchedulerLike;
  /**
   * Arrival times: the scheduler's clock, a broken reading counting as the last good one; on the real clock one
   * reading per synchronous burst, as the promise bridge's (`arrivalClock`).
   */
  private readonly clock: () => number;
  readonly stats: BatchStatsRecorder;
  readonly prioritized: boolean;
  /** The priorities' feature, when they are on. */
  readonly priorities: PrioritiesFeature<T> | undefined;
  /** The adaptive window's feature, when it is on. */
  readonly adaptive: AdaptiveWindowFeature | undefined;
  readonly dedupInFlight: boolean;
  /** The result cache's feature, when it is on: its settings, checked, and the code of its tables. */
  readonly resultCache: ResultCacheFeature | undefined;
  /** `resultCache.store`: the result store shared with other processes, consulted at the execute boundary. */
  readonly sharedTier: SharedTierSettings | undefined;
  readonly priorityAgingPerSecond: number;
  private raw: BatchDedupOptions<T, R>;
  private readonly listeners = new Set<(changed: readonly string[]) => void>();

  /**
   * @param similarity similarity dedup (`'embedding'`, `'hybrid'`), with the semantic result cache
   *   (`withNearCache`), where the entry point offers it; without it those strategies are refused at creation
   *   (`rxjs-batch-dedup/lite`)
   * @param flat turns the flat, seed-style forms of the opt-in features (`adaptive: true`) into their objects,
   *   where the entry point offers them; without it those forms are refused, naming the factory (`/lite`)
   */
  constructor(
    readonly where: string,
    options: BatchDedupOptions<T, R>,
    private readonly similarity: SimilarityPlugIn | undefined,
    private readonly flat?: FlatFeatures,
  ) {
    let raw = check.optionsObject(where, options);
    checkOptionNames(where, raw);
    check.scheduler(where, raw.scheduler);
    checkStats(where, raw.stats);
    this.scheduler = raw.scheduler ?? asyncScheduler;
    this.clock = arrivalClock(this.scheduler);
    this.priorities = this.prioritiesOf(where, raw);
    this.prioritized = this.priorities !== undefined;
    this.adaptive = this.adaptiveOf(where, raw.adaptive);
    // The settings given to a feature's factory are its flat options' starting values: configure() changes them.
    raw = { ...raw, ...this.adaptive?.options, ...this.priorities?.options };
    this.priorityAgingPerSecond = fixedValue(where, 'priorityAgingPerSecond', raw.priorityAgingPerSecond);
    this.dedupInFlight = fixedValue(where, 'dedupInFlight', raw.dedupInFlight);
    this.resultCache = this.resultCacheOf(where, raw.resultCache);
    this.sharedTier = this.resultCache?.sharedTier;
    this.stats = raw.stats ?? new BatchStatsRecorder({ scheduler: this.scheduler });
    this.raw = raw;
    this.apply(this.resolve(raw, where));
  }

  // Set by `apply`, from `resolve`: plain fields, replaced whole by each valid change.
  declare readonly window: WindowSettings;
  declare readonly adaptiveSettings: AdaptiveSettings;
  private declare readonly dedupStage: Deduper<Envelope<T>>;
  /** Exact key and scope of an envelope, as dedup computes them (for in-flight dedup and the result cache). */
  declare readonly grouping: Grouping<Envelope<T>>;
  declare readonly fanOut: FanOutConfig<Envelope<T>, R>;
  declare readonly sharing: Sharing;
  declare readonly maxQueueSize: number;
  declare readonly requestTimeoutMs: number | undefined;
  private declare readonly priorityFn: ((request: T) => number) | undefined;
  private declare readonly signalFn: ((request: T) => unknown) | undefined;
  private declare readonly costPerRequestUsd: number | undefined;

  /** The dedup stage in effect (a getter: tests wrap it on the prototype to inject a defect). */
  get deduper(): Deduper<Envelope<T>> {
    return this.dedupStage;
  }

  /** Puts a change in effect, once it is checked in full. */
  private apply(resolved: Resolved<T, R>): void {
    Object.assign(this, resolved);
    if (resolved.costPerRequestUsd !== undefined) this.stats.costPerRequestUsd = resolved.costPerRequestUsd;
  }

  /** The semantic result cache's step between dedup and execution, where the entry point wires it in. */
  get nearCache(): NearCache | undefined {
    return this.similarity?.nearCache;
  }
  get agingPerMs(): number {
    return this.priorityAgingPerSecond / 1000;
  }

  /** The envelope `batchDedup` makes for a request arriving now. */
  envelope(request: T): Envelope<T> {
    const arrivedAt = this.clock();
    const signalOf = this.signalFn;
    // One shape for every envelope, `shared` (the engine's) included.
    if (signalOf === undefined) return { request, arrivedAt, signal: undefined, shared: undefined };
    const signal = this.signalOf(signalOf, request);
    return { request, arrivedAt, signal, shared: undefined };
  }

  /**
   * `signal(request)`, checked. When it throws or returns something that is not an AbortSignal, the request gets
   * an already aborted signal whose reason is the error: every stage refuses such a request with the reason and
   * never sends it, so the broken call rejects its own request only, at no cost to the others.
   */
  private signalOf(signalOf: (request: T) => unknown, request: T): AbortSignal | undefined {
    let signal: unknown;
    try {
      signal = signalOf(request);
    } catch (error) {
      return AbortSignal.abort(userFunctionThrew(this.where, 'signal', error));
    }
    if (signal === undefined || signal === null) return undefined;
    if (isAbortSignal(signal)) {
      // A getter that throws now refuses the request now, as an aborted signal would.
      const aborted = abortState(signal, `${this.where}: signal(request)`);
      return aborted === undefined ? signal : AbortSignal.abort(aborted.reason);
    }
    return AbortSignal.abort(
      new TypeError(userFunctionReturned(this.where, 'signal', signal, 'it must return an AbortSignal or undefined')),
    );
  }

  /**
   * The priority a request waits with: its call's own, else `priority(request)`, else 0.
   * @throws TypeError naming `priority(request)` when that throws or returns anything but a number
   */
  priorityOf(envelope: Envelope<T>): number {
    if (envelope.priority !== undefined) return envelope.priority; // checked by process()
    // Asked only with priorities on; the check of what priority(request) gives comes with their feature object.
    return this.priorityFn === undefined ? 0 : this.priorities!.call(this.where, this.priorityFn, envelope.request);
  }

  /**
   * A per-call priority given while priorities are off: refused rather than ignored, so the caller learns at
   * once that nothing orders the queue.
   */
  unusedPriority(priority: number): TypeError {
    const [off, on] = this.prioritiesOff('priorities()');
    return new TypeError(
      `${this.where}.process: priority ${priority} was given but ${off}, so nothing would order ` +
        `by it; create the batcher with ${on} to order requests by priority, or leave priority out`,
    );
  }

  /**
   * How to say that priorities are off, and how to turn them on, on this entry point: `enablePriorities` where it
   * takes the flat forms, else (`/lite`) `priorities(...)` and its import.
   * @param call the factory's call to suggest (`priorities({ priority })`, say)
   */
  private prioritiesOff(call: string): readonly [off: string, on: string] {
    return this.flat?.prioritiesOff ?? ['no priorities() is given', `priorities: ${call} (import { priorities } from 'rxjs-batch-dedup/lite')`];
  }

  /**
   * Applies a partial change; throws (changing nothing) when any of it is invalid. Errors start with
   * `<where>.configure:`, the call where the mistake was made.
   */
  update(partial: Partial<BatchDedupOptions<T, R>>): void {
    const where = `${this.where}.configure`;
    // Each field read once: a getter (a live config object, a proxy) that read differently the second time would put
    // one value in effect and have another compared to tell what changed (a new `key` left unlisted starts no new
    // in-flight generation). Own names only, as the option names are checked.
    const changes = check.readOnce(where, check.optionsObject(where, partial), true);
    checkOptionNames(where, changes, 'leave it out to keep its value');
    for (const name of FIXED) {
      if (name in changes) this.checkUnchanged(where, name, changes[name]);
    }
    const raw = { ...this.raw, ...changes };
    const resolved = this.resolve(raw, where);
    const changed = Object.keys(changes).filter((name) => changes[name as keyof typeof changes] !== this.raw[name as keyof typeof changes]);
    this.raw = raw;
    this.apply(resolved);
    for (const listener of [...this.listeners]) listener(changed);
  }

  /**
   * A structural option may be given to `configure` as long as its value in effect stays the same (restating
   * it, or its default, is no change); a real change is refused, saying how to get it.
   */
  private checkUnchanged(where: string, name: FixedOption, value: unknown): void {
    if (this.effectiveValueIs(where, name, value)) return;
    const wanted =
      value === undefined
        ? `without ${name}`
        : typeof value === 'boolean' || typeof value === 'number'
          ? `with ${name}: ${value}`
          : `with the new ${name}`;
    check.fail(
      where,
      `${name} cannot be changed on a running batcher: it decides how the pipeline is built. ` +
        `To run ${wanted}, create a new batcher (and close() this one)`,
      TypeError,
    );
  }

  /** Whether `value`, given to configure, is (validated and defaulted) the value in effect for `name`. */
  private effectiveValueIs(where: string, name: FixedOption, value: unknown): boolean {
    switch (name) {
      case 'stats':
        checkStats(where, value);
        return value === undefined ? this.raw.stats === undefined : value === this.stats;
      case 'resultCache': {
        const cache = this.resultCacheOf(where, value);
        const now = this.resultCache;
        return cache === undefined || now === undefined ? cache === now : cache.sameAs(now);
      }
      case 'adaptive':
        this.adaptiveOf(where, value);
        return (value || undefined) === (this.raw.adaptive || undefined);
      case 'priorities':
        this.prioritiesOf(where, { priorities: value as PrioritiesFeature<T> });
        return (value || undefined) === (this.raw.priorities || undefined);
      default:
        // Checked at creation already: its value in effect is checked again only to be compared.
        return fixedValue(where, name, value) === fixedValue(where, name, this.raw[name]);
    }
  }

  /** `adaptive`: off, the object `adaptiveWindow()` made, or (where the entry point has it) `true`, turned into one. */
  private adaptiveOf(where: string, value: unknown): AdaptiveWindowFeature | undefined {
    return featureOf(where, 'adaptive', 'adaptiveWindow', value, this.flat?.adaptive);
  }

  /**
   * `priorities`: off, or the object `priorities()` made; else `enablePriorities`: off, or (where the entry point
   * has it) `true`, turned into one.
   */
  private prioritiesOf(where: string, raw: Partial<BatchDedupOptions<T, R>>): PrioritiesFeature<T> | undefined {
    return raw.priorities === undefined
      ? featureOf(where, 'enablePriorities', 'priorities', raw.enablePriorities, this.flat?.priorities)
      : featureOf(where, 'priorities', 'priorities', raw.priorities, notMadeBy);
  }

  /**
   * `resultCache`: off, the object `resultCache()` made, or (where the entry point has it) an options object,
   * turned into one. `false` stays what it was on the main entry point, a value refused as no options object.
   */
  private resultCacheOf(where: string, value: unknown): ResultCacheFeature | undefined {
    return value === false
      ? this.flat?.resultCache(where, value)
      : featureOf(where, 'resultCache', 'resultCache', value, this.flat?.resultCache);
  }

  /** Calls `listener` after every change, with the names of the options whose value changed. */
  onChange(listener: (changed: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    // Stryker disable next-line ArrowFunction: a listener left behind is never called: update() is reached only through createBatcher's configure(), refused once its engine is closed or failed, and batchDedup offers no configure().
    return () => this.listeners.delete(listener);
  }

  /** @param where the call being checked: the creation, or `configure` */
  private resolve(raw: BatchDedupOptions<T, R>, where: string): Resolved<T, R> {
    const adaptive = resolveAdaptiveSettings(where, raw);
    const window = resolveWindowSettings(where, raw, this.adaptive ? adaptiveMaxWaitMs(adaptive) : undefined);
    // The key and scope name the entry point when they fail for a request, not the configure() that set them.
    const dedup = resolveDedupWith<T>(where, raw, this.similarity, this.where);
    const execute = check.requiredFunction<ExecuteFn<T, R>>(where, 'execute', raw.execute);
    const mapped = mapDedup(dedup, (e: Envelope<T>) => e.request, (e) => e.scope);
    const local: ExecuteFn<Envelope<T>, R> = (envelopes, context) => execute(envelopes.map((e) => e.request), context);
    const { sharedTier } = this;
    const fanOut: FanOutConfig<Envelope<T>, R> = {
      ...resolveFanOutOptions<Envelope<T>, R>(where, {
        ...raw,
        // With a shared store, the distinct items of a batch go through it (see sharedTier.ts).
        execute:
          sharedTier === undefined
            ? local
            : sharedTier.store.sharedExecute(where, local, (e) => slotOf(mapped.grouping, e), sharedTier, this.scheduler, this.stats),
        scheduler: this.scheduler,
        stats: this.stats,
        enqueuedAt: (envelope) => envelope.arrivedAt,
      }),
      // Stryker disable next-line BooleanLiteral: made false, batchRun gives execute a copy of the envelopes, which `local` maps to a new array of requests anyway (and sharedExecute reads them alike): the same requests, one more array.
      executeCopiesItems: true,
    };
    const exactKeyDecides = dedup.enabled && dedup.dedupFunction === undefined;
    const joinsWaiting = exactKeyDecides && dedup.strategy !== 'embedding';
    // Joins are by exact key: only where the exact key decides equality (exact or hybrid dedup).
    const joinsInFlight = joinsWaiting && this.dedupInFlight;
    const sharing: Sharing = {
      joinsWaiting,
      joinsInFlight,
      exactOnly: exactKeyDecides && dedup.strategy === 'exact',
      atArrival: joinsWaiting || joinsInFlight || this.resultCache !== undefined,
    };
    const maxQueueSize = check.count(where, 'maxQueueSize', raw.maxQueueSize ?? Infinity, 1, true);
    // Infinity is no deadline at all: stored as none, so arrivals keep the path that sets no timer.
    const requestTimeoutMs =
      raw.requestTimeoutMs === undefined || raw.requestTimeoutMs === Infinity
        ? undefined
        : check.durationOrNever(where, 'requestTimeoutMs', raw.requestTimeoutMs, 1);
    const priority = check.optionalFunction<(request: T) => number>(where, 'priority', raw.priority);
    if (priority !== undefined && !this.prioritized) {
      // It would order nothing: said where it is written, rather than ignored.
      const [off, on] = this.prioritiesOff('priorities({ priority })');
      check.fail(where, `priority is set but ${off}, so nothing would order by it; add ${on}, or leave priority out`, TypeError);
    }
    const signal = check.optionalFunction<(request: T) => unknown>(where, 'signal', raw.signal);
    const costPerRequestUsd =
      raw.costPerRequestUsd === undefined ? undefined : check.nonNegative(where, 'costPerRequestUsd', raw.costPerRequestUsd);
    // Last, once every option is checked: a stage made by `configure()` takes over the embedder's work of the
    // stage in effect (or retires it), which a change refused further down would have undone.
    // `resultCache.semantic` is checked by the similarity plug-in (`semanticDedup`): 'embedding' or 'hybrid', no
    // dedupFunction; the lite entry point refuses it in resolveDedupWith.
    const deduper = createDeduper<Envelope<T>>(
      mapped,
      {
        onFallback: () => this.stats.recordEmbedFallback(),
        onEmbedCache: (hits, misses) => this.stats.recordEmbedCache(hits, misses),
        onTextUnreadable: (requests) => this.stats.recordTextUnreadable(requests),
      },
      this.resultCache?.semantic === true,
      this.dedupStage as Deduper<Envelope<T>> | undefined,
    );
    return {
      window,
      adaptiveSettings: adaptive,
      dedupStage: deduper,
      grouping: mapped.grouping,
      fanOut,
      sharing,
      maxQueueSize,
      requestTimeoutMs,
      priorityFn: priority,
      signalFn: signal,
      costPerRequestUsd,
    };
  }
}

/** The structural options that are a value of their own, as they are held in effect. */
interface FixedValues {
  scheduler: SchedulerLike;
  enablePriorities: boolean;
  dedupInFlight: boolean;
  priorityAgingPerSecond: number;
}

/** A structural option's value in effect: `value` checked (naming `where` and the option), or its default. */
function fixedValue<N extends keyof FixedValues>(where: string, name: N, value: unknown): FixedValues[N] {
  if (name === 'scheduler') {
    check.scheduler(where, value);
    return (value ?? asyncScheduler) as FixedValues[N];
  }
  if (name === 'priorityAgingPerSecond') return check.nonNegative(where, name, value ?? 1) as FixedValues[N];
  return check.boolean(where, name, value ?? name === 'dedupInFlight') as FixedValues[N];
}

/**
 * The flat, seed-style forms of the opt-in features, turned into the objects that carry their code: given by the
 * main, operators and NestJS entry points (src/internal/flatFeatures.ts), absent in `rxjs-batch-dedup/lite`.
 * Each takes the option's value when it is neither off nor the feature's object, and checks it.
 */
export interface FlatFeatures {
  readonly adaptive: (where: string, value: unknown) => AdaptiveWindowFeature | undefined;
  readonly priorities: (where: string, value: unknown) => PrioritiesFeature<unknown> | undefined;
  readonly resultCache: (where: string, value: unknown) => ResultCacheFeature | undefined;
  /** How the messages about a `priority` given while priorities are off say so, and how to turn them on. */
  readonly prioritiesOff: readonly [off: string, on: string];
}

/** An option with no flat form, given something its factory did not make. */
function notMadeBy(where: string, value: unknown): never {
  return check.fail(where, `priorities must be made by priorities(), got ${describeValue(value)}`, TypeError);
}

/**
 * A default-off feature's option: off (undefined, false), the object its factory made, or its flat form, which
 * `flat` turns into that object where the entry point has it; refused otherwise, naming the factory to import.
 */
function featureOf<F>(
  where: string,
  name: string,
  factory: string,
  value: unknown,
  flat: ((where: string, value: unknown) => F | undefined) | undefined,
): F | undefined {
  if (value === undefined || value === false) return undefined;
  if ((value as { feature?: unknown } | null)?.feature === factory) return value as F;
  if (flat !== undefined) return flat(where, value);
  return check.fail(
    where,
    `${name}: ${describeValue(value)} needs ${factory}() in rxjs-batch-dedup/lite: import { ${factory} } from 'rxjs-batch-dedup/lite'`,
    TypeError,
  );
}

function checkStats(where: string, stats: unknown): void {
  if (stats !== undefined && !(stats instanceof BatchStatsRecorder)) {
    check.fail(where, 'stats must be a recorder made by createBatchStats()', TypeError);
  }
}

/**
 * Duck-typed, so that signals of another realm or a polyfill are accepted; a method getter that throws says no. A
 * throwing `aborted` says yes: the request is then refused with a TypeError naming it (`abortState`).
 */
function isAbortSignal(value: unknown): value is AbortSignal {
  // null never comes here (its one caller takes it as no signal), and would throw into the catch below.
  if (typeof value !== 'object') return false;
  try {
    const s = value as Partial<AbortSignal>;
    return typeof s.addEventListener === 'function' && typeof s.removeEventListener === 'function' && abortedIsBoolean(s);
  }
  // (Above `catch`, not inside the try block: only there does Stryker read the comment as the catch clause's.)
  // Stryker disable next-line BlockStatement: emptied, the function returns undefined, which its one caller (`if (isAbortSignal(signal))`) reads as false; `return true` there is killed (test/mutation-signal-s16.test.ts).
  catch {
    return false;
  }
}
