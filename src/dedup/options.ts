import type { DedupedBatch } from '../types.js';
import * as check from '../internal/validate.js';
import { dedupExact, dedupNone, stableKey, type Grouping } from './exact.js';
import { greedyLeaders, scopeGroup } from './similarity.js';

export type DedupStrategy = 'exact' | 'embedding' | 'hybrid';

/** Turns texts into vectors, one per text, in order. Called once per batch with the texts still unique. */
export type Embedder = (texts: string[]) => Promise<ArrayLike<number>[]> | ArrayLike<number>[];

/** Options of `dedupBy`, also accepted by `batchDedup` and `createBatcher`. */
export interface DedupOptions<T> {
  /** Turn dedup off entirely (every request is executed). Default true. */
  enableDedup?: boolean;
  /** How requests are judged equal. Default `'exact'`. */
  dedupStrategy?: DedupStrategy;
  /** Minimum similarity for a non-exact merge, in [0, 1]. Default 0.98. */
  dedupThreshold?: number;
  /** A custom similarity in [0, 1]; replaces the strategy's, compared against `dedupThreshold`. */
  dedupFunction?: (a: T, b: T) => number;
  /** The exact-equality key. Default: canonical JSON of the request (`fast-json-stable-stringify`). */
  key?: (request: T) => string;
  /**
   * Requests of different scopes are NEVER merged, whatever their key or similarity. Use it for tenants, users,
   * permissions: anything that makes the same question have a different answer.
   */
  scope?: (request: T) => string | undefined;
}

export const DEFAULT_DEDUP_THRESHOLD = 0.98;

/** A configured dedup stage: synchronous for exact and custom strategies, a promise when it must embed. */
export type Deduper<T> = (items: readonly T[]) => DedupedBatch<T> | Promise<DedupedBatch<T>>;

export interface DeduperHooks {
  /** The similarity stage failed and the batch fell back to exact dedup. */
  onFallback?: (error: unknown) => void;
  /** Texts found in / missing from the embedding cache for one batch. */
  onEmbedCache?: (hits: number, misses: number) => void;
}

export interface ResolvedDedup<T> {
  readonly enabled: boolean;
  readonly strategy: DedupStrategy;
  readonly threshold: number;
  readonly grouping: Grouping<T>;
  readonly dedupFunction: ((a: T, b: T) => number) | undefined;
}

export function resolveDedupOptions<T>(where: string, options: DedupOptions<T>): ResolvedDedup<T> {
  const enabled = check.boolean(where, 'enableDedup', options.enableDedup ?? true);
  const strategy = check.oneOf<DedupStrategy>(where, 'dedupStrategy', options.dedupStrategy ?? 'exact', [
    'exact',
    'embedding',
    'hybrid',
  ]);
  const threshold = check.unitInterval(where, 'dedupThreshold', options.dedupThreshold ?? DEFAULT_DEDUP_THRESHOLD);
  const key = check.optionalFunction<(request: T) => unknown>(where, 'key', options.key) ?? stableKey;
  const scope = check.optionalFunction<(request: T) => string | undefined>(where, 'scope', options.scope);
  const dedupFunction = check.optionalFunction<(a: T, b: T) => number>(where, 'dedupFunction', options.dedupFunction);
  if (strategy !== 'exact' && dedupFunction === undefined) {
    check.fail(where, `dedupStrategy '${strategy}' is not available in this version; use 'exact' or dedupFunction`, TypeError);
  }
  return { enabled, strategy, threshold, grouping: { key, scope }, dedupFunction };
}

/**
 * Builds the dedup stage. A custom `dedupFunction` that throws or returns something other than a score in
 * [0, 1] makes that batch fall back to exact dedup (reported through `onFallback`); nothing is lost.
 */
/**
 * The same dedup over wrappers of requests (`batchDedup`'s envelopes): every function is applied to
 * `unwrap(wrapper)`, and `scopeOf(wrapper)`, when it returns a string, overrides `scope`.
 */
export function mapDedup<T, U>(
  resolved: ResolvedDedup<T>,
  unwrap: (wrapper: U) => T,
  scopeOf: (wrapper: U) => string | undefined,
): ResolvedDedup<U> {
  const { key, scope } = resolved.grouping;
  const dedupFunction = resolved.dedupFunction;
  return {
    ...resolved,
    grouping: {
      key: (u) => key(unwrap(u)),
      scope: scope ? (u) => scopeOf(u) ?? scope(unwrap(u)) : scopeOf,
    },
    dedupFunction: dedupFunction && ((a, b) => dedupFunction(unwrap(a), unwrap(b))),
  };
}

export function createDeduper<T>(resolved: ResolvedDedup<T>, hooks: DeduperHooks = {}): Deduper<T> {
  if (!resolved.enabled) return dedupNone;
  const { grouping, dedupFunction, threshold } = resolved;
  if (!dedupFunction) return (items) => dedupExact(items, grouping);
  const groupOf = scopeGroup(grouping);
  return (items) => {
    try {
      return greedyLeaders(items, groupOf, (i, j) => dedupFunction(items[i]!, items[j]!), threshold);
    } catch (error) {
      hooks.onFallback?.(error);
      return dedupExact(items, grouping);
    }
  };
}
