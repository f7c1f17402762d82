/**
 * The result cache as an opt-in feature: `resultCache: resultCache({ ttlMs, maxEntries })`, the object that carries
 * the cache's code (its checks, the shared store tier's checks, the cached results of a table), so an app that
 * does not cache does not bundle it. The main, operators and NestJS entry points turn the flat form
 * (`resultCache: { ttlMs }`) into one (src/internal/flatFeatures.ts); `rxjs-batch-dedup/lite` takes only this.
 * See docs/decisions.md, "Opt-in features: the result cache, and what stays (issue 18)".
 */
import type { NearIndex } from '../dedup/strategy.js';
import * as check from '../base/validate.js';
import { SlotMap, type CacheEntry, type ResultCache, type ResultCacheOptions, type Slot } from './inFlight.js';
import { resolveSharedTier, type SharedStoreOptions, type SharedTierSettings } from './sharedTier.js';

/** Options of `resultCache()`: those of the flat form (`resultCache: { ttlMs }`), by the same names. */
export type ResultCacheFeatureOptions = ResultCacheOptions & SharedStoreOptions;

/**
 * The result cache as the value of the `resultCache` option, made by `resultCache()`. Its settings, checked and
 * defaulted, are readable as the flat form's are (`ttlMs`, `maxEntries`, `semantic`, `store`, `storeTimeoutMs`).
 */
export interface ResultCacheFeature extends Required<ResultCacheOptions>, SharedStoreOptions {
  /** @internal Names the factory that made it. */
  readonly feature: 'resultCache';
  /** @internal `store` and its bound, checked; undefined without a store. */
  readonly sharedTier: SharedTierSettings | undefined;
  /** @internal Whether `other` has the same settings (`configure()` takes it as no change). */
  sameAs(other: ResultCacheFeature): boolean;
  /** @internal The cached results of one table of what is shared (src/internal/inFlight.ts). */
  create<R>(near: NearIndex<CacheEntry<R>> | undefined): ResultCache<R>;
}

const NAMES = ['ttlMs', 'maxEntries', 'semantic', 'store', 'storeTimeoutMs'];

/**
 * Reuse fulfilled results for `ttlMs`, for the `resultCache` option of `batchDedup` and `createBatcher` (a semantic
 * cache with `semantic: true` and similarity dedup, on the main entry point). Only for results that stay valid
 * that long for every caller of the same scope.
 *
 * ```ts
 * createBatcher({ execute, resultCache: resultCache({ ttlMs: 60_000, maxEntries: 500 }) });
 * ```
 *
 * @throws TypeError or RangeError naming `resultCache` and the option, when an option is invalid or unknown
 */
export function resultCache(options: ResultCacheFeatureOptions): ResultCacheFeature {
  const where = 'resultCache';
  for (const name in check.optionsObject(where, options)) {
    if (!NAMES.includes(name)) check.fail(where, `unknown option ${name}; its options are ${NAMES.join(', ')}`, TypeError);
  }
  return resultCacheAt(where, options);
}

/**
 * `resultCache`'s options checked and made into its feature, errors naming `where`: the factory, or (the flat form,
 * src/internal/flatFeatures.ts) the call that gave them.
 */
export function resultCacheAt(where: string, value: unknown): ResultCacheFeature {
  const o = check.optionsObject<ResultCacheFeatureOptions>(`${where}: resultCache`, value as ResultCacheFeatureOptions);
  const ttlMs = check.duration(where, 'resultCache.ttlMs', o.ttlMs, 1);
  const settings = {
    ttlMs,
    maxEntries: check.count(where, 'resultCache.maxEntries', o.maxEntries ?? 1000, 1),
    semantic: check.boolean(where, 'resultCache.semantic', o.semantic ?? false),
  };
  const sharedTier = resolveSharedTier(where, o, ttlMs);
  return {
    feature: 'resultCache',
    ...settings,
    ...(o.store !== undefined && { store: o.store }),
    ...(o.storeTimeoutMs !== undefined && { storeTimeoutMs: o.storeTimeoutMs }),
    sharedTier,
    sameAs: (other) =>
      other.ttlMs === ttlMs &&
      other.maxEntries === settings.maxEntries &&
      other.semantic === settings.semantic &&
      other.sharedTier?.store === sharedTier?.store &&
      other.sharedTier?.timeoutMs === sharedTier?.timeoutMs,
    create: (near) => new CachedResults(settings, near),
  };
}

/**
 * Recent fulfilled results of one table, by slot (exact), and with `near` by the vectors of their texts
 * (semantic): one entry, one bound, one age.
 */
class CachedResults<R> implements ResultCache<R> {
  private readonly cache = new SlotMap<CacheEntry<R>>();
  /** The cached entries, least recently used first (a Set keeps insertion order). */
  private readonly recency = new Set<CacheEntry<R>>();

  /**
   * @param near the vectors of the cached results, when the cache is semantic: an entry stored with a probe is
   *   indexed there too, and leaves it when it leaves the cache
   */
  constructor(
    private readonly options: Required<ResultCacheOptions>,
    readonly near: NearIndex<CacheEntry<R>> | undefined,
  ) {}

  cached(slot: Slot, now: number): CacheEntry<R> | undefined {
    const entry = this.cache.get(slot);
    if (!entry) return undefined;
    if (!this.live(entry, now)) {
      this.forget(entry);
      return undefined;
    }
    return this.used(entry);
  }

  live(entry: CacheEntry<R>, now: number): boolean {
    const age = now - entry.storedAt;
    return age >= 0 && age < this.options.ttlMs;
  }

  used(entry: CacheEntry<R>): CacheEntry<R> {
    this.recency.delete(entry);
    this.recency.add(entry);
    return entry;
  }

  store(slot: Slot, value: R, now: number, probe?: unknown): void {
    const previous = this.cache.get(slot);
    if (previous) this.forget(previous);
    const entry: CacheEntry<R> = { scope: slot.scope, encoded: slot.encoded, key: slot.key, value, storedAt: now };
    this.cache.set(entry, entry);
    this.recency.add(entry);
    // Stryker disable next-line OptionalChaining: a probe is recorded for a slot only by the near cache's lookup (src/internal/nearCache.ts), which runs only where the slot's table has a near index, so `near` is set whenever `probe` is.
    if (probe !== undefined) this.near?.add(entry, probe);
    if (this.recency.size > this.options.maxEntries) this.forget(this.recency.values().next().value!);
  }

  forget(entry: CacheEntry<R>): void {
    this.recency.delete(entry);
    this.cache.delete(entry);
    this.near?.remove(entry);
  }
}
