/**
 * `resultCache.store`, as the pipeline sees it: the interface of a store shared across processes, and its options
 * checked as far as every entry point must (a store is given, it carries `sharedExecute`, `storeTimeoutMs`). What
 * runs a batch through a store (`sharedExecute.ts`: the store's full shape check, the store key of a slot with
 * `storeKeyOf` below, the tier itself) is reached through the store object (`SharedStore.sharedExecute`, set by
 * `sharedStore()`), so a pipeline without a store bundles none of it.
 */
import type { SchedulerLike } from 'rxjs';
import type { ExecuteFn } from '../types.js';
import { describeValue } from '../base/describeValue.js';
import * as check from '../base/validate.js';
import { scopeTag } from '../dedup/keys.js';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { Slot } from './inFlight.js';

/**
 * Async get and set with a TTL: a store shared by several processes (replicas). Keys are strings the pipeline
 * composes from a request's scope and key (see docs/replicas.md); a store adds its own prefix. Values are the
 * results of `execute` as they are: the store serializes them (JSON by default). `undefined` means "no entry",
 * so an `undefined` result is never stored. Give it to `resultCache.store` through `sharedStore(store)`.
 */
export interface ResultStore {
  /** For each key, its stored result, or `undefined` when there is none (or it cannot be read back). */
  get(keys: readonly string[]): PromiseLike<readonly unknown[]>;
  /** Stores fulfilled results for `ttlMs`. */
  set(entries: readonly (readonly [key: string, value: unknown])[], ttlMs: number): PromiseLike<void>;
  /** Coalescing in flight across processes; without it each process executes its own misses. */
  readonly leases?: ResultLeases;
}

/**
 * One execution per key across processes: the first to `claim` a key executes it and stores the result; the
 * others `wait` for that result. A lease that ends with no result (its holder died, or its execution failed and
 * it released the lease) lets one waiter claim the key in turn.
 */
export interface ResultLeases {
  /** How long a lease lasts, ms: a holder that dies is replaced this long after its claim at most. */
  readonly leaseMs: number;
  /** For each key, true when this process now holds its lease (taken only where nobody held it). */
  claim(keys: readonly string[]): PromiseLike<readonly boolean[]>;
  /** Gives up the leases this process holds on `keys` (after storing their results, or after a failure). */
  release(keys: readonly string[]): PromiseLike<void>;
  /**
   * Waits for the results of keys leased by others, at most `timeoutMs`. For each key: its result, or
   * `undefined` when its lease ended with no result or the time ran out (the caller then claims it or executes).
   * `signal` aborts when the pipeline stops waiting before that (its bound passed, or the batch was let go):
   * stop polling then; what the call answers afterwards is not read.
   */
  wait(keys: readonly string[], timeoutMs: number, signal?: AbortSignal): PromiseLike<readonly unknown[]>;
}

/** The tier's counters, in the pipeline's stats. */
export type TierStats = Pick<BatchStatsRecorder, 'recordCount'>;

/**
 * `execute` behind a shared store (see sharedExecute.ts), for one pipeline. `slotOf` gives an item's slot, whose
 * store key the store side composes (`storeKeyOf`). Called when the pipeline is built: it checks the store's
 * shape first (get, set, leases), and throws the error of `refusedStore` naming `where` when it is wrong.
 */
export type SharedExecute = <T, R>(
  where: string,
  execute: ExecuteFn<T, R>,
  slotOf: (item: T) => Slot,
  settings: SharedTierSettings,
  scheduler: SchedulerLike,
  stats: TierStats,
) => ExecuteFn<T, R>;

/**
 * What `resultCache.store` takes: a `ResultStore` made by `sharedStore(store)` (as `keyvStore` and `redisStore`
 * are), which carries how a batch runs through it.
 */
export interface SharedStore extends ResultStore {
  /** @internal Set by `sharedStore()`: runs a batch's distinct items through the store. */
  readonly sharedExecute: SharedExecute;
}

/**
 * The error for a `resultCache.store` that is no `SharedStore`, naming the ways to make one. The pipeline checks
 * only that it carries `sharedExecute`; the store side (sharedExecute.ts) checks the rest of its shape and adds
 * what a `ResultStore` needs (`detail`).
 */
export function refusedStore(where: string, store: unknown, detail = ''): never {
  return check.fail(
    where,
    `resultCache.store must be a shared store: keyvStore(keyv), redisStore({ client }) from rxjs-batch-dedup/redis, ` +
      `or sharedStore(store) of your own ResultStore${detail}; got ${describeValue(store)}`,
    TypeError,
  );
}

/** The options of `resultCache` for a store shared across processes (see docs/replicas.md). */
export interface SharedStoreOptions {
  /**
   * A result store shared with other processes (replicas): `keyvStore(keyv)`, or `redisStore({ client })` from
   * `rxjs-batch-dedup/redis`, which also coalesces executions in flight across processes. Consulted for the
   * distinct items of each batch, behind the in-process cache; results are kept there for `ttlMs`.
   */
  store?: SharedStore;
  /**
   * The longest one store call may take, ms; past it (or when it fails) the batch's items are executed here, as
   * without a store, and counted in `storeFallbacks`. Default 100.
   */
  storeTimeoutMs?: number;
}

/** The shared tier's settings: `resultCache.store` and its bound. */
export interface SharedTierSettings {
  readonly store: SharedStore;
  /** How long results are kept in the store (`resultCache.ttlMs`). */
  readonly ttlMs: number;
  /** The longest any one store call may take before the items fall back to local execution. */
  readonly timeoutMs: number;
}

/** Default `resultCache.storeTimeoutMs`: a store slower than this (or down) is bypassed for the batch. */
export const DEFAULT_STORE_TIMEOUT_MS = 100;

/** Claim-or-wait rounds for a key before its item is executed locally anyway. */
export const MAX_LEASE_ROUNDS = 3;

/**
 * The `store` and `storeTimeoutMs` of `resultCache` (checked as an object already), checked; the store's TTL is
 * the cache's.
 * @param ttlMs `resultCache.ttlMs`, checked; undefined without a result cache
 * @return undefined when no store is given (or no result cache)
 */
export function resolveSharedTier(where: string, options: SharedStoreOptions | undefined, ttlMs: number | undefined): SharedTierSettings | undefined {
  if (options === undefined || ttlMs === undefined) return undefined;
  const { store, storeTimeoutMs } = options;
  if (store === undefined) {
    if (storeTimeoutMs !== undefined) {
      check.fail(where, 'resultCache.storeTimeoutMs is set but resultCache.store is not: the bound applies to a shared store only', TypeError);
    }
    return undefined;
  }
  // Only what carries `sharedExecute` (made by `sharedStore()`) is one; its shape is checked there (see
  // `SharedExecute`), so a pipeline without a store bundles none of that.
  if (typeof (store as Partial<SharedStore> | null)?.sharedExecute !== 'function') refusedStore(where, store);
  const timeoutMs = check.duration(where, 'resultCache.storeTimeoutMs', storeTimeoutMs ?? DEFAULT_STORE_TIMEOUT_MS, 1);
  return { store: store as SharedStore, ttlMs, timeoutMs };
}

/**
 * The key of a request's slot in a shared store: its scope's tag (typed and length-prefixed, see `scopeTag`),
 * then one letter for the kind of key and the key. No (scope, key) pair can pose as another: `1`, `'1'` and `1n`
 * differ by letter, an array or object key (its canonical encoding) by its own letter, and the scope's tag ends
 * where its length or its `;` says. Undefined for a key that has no stable text (none the dedup rules make).
 * Used by the store side only (sharedExecute.ts), so a pipeline without a store bundles none of it.
 */
export function storeKeyOf(slot: Slot): string | undefined {
  const scope = scopeTag(slot.scope);
  const { key } = slot;
  if (slot.encoded) return typeof key === 'string' ? `${scope}e${key}` : undefined;
  switch (typeof key) {
    case 'string':
      return `${scope}s${key}`;
    case 'number':
      return `${scope}n${key}`; // -0 prints as 0, NaN as NaN: one key each, as in a Map
    case 'bigint':
      return `${scope}b${key}`;
    case 'boolean':
      return `${scope}${key ? 't' : 'f'}`;
    case 'undefined':
      return `${scope}u`;
    case 'object':
      return key === null ? `${scope}z` : undefined;
    default:
      return undefined;
  }
}
