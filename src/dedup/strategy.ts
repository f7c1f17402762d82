/**
 * The dedup options checked, the strategies every entry point has (exact by key and scope, a custom
 * `dedupFunction`, none), and the point where similarity dedup (`'embedding'`, `'hybrid'`) is plugged in by the
 * entry points that offer it (`semanticDedup` in options.ts). Nothing here loads an embedder, the merge guard or
 * `ml-distance`, so `rxjs-batch-dedup/lite` does not pay for them (docs/decisions.md, "Pay for what you use").
 */
import type { SchedulerLike, Subscription } from 'rxjs';
import * as check from '../base/validate.js';
import type { DedupedBatch } from '../types.js';
import type { Embedder } from './embedder.js';
import { dedupExact, dedupNone, groupingOf, mapGrouping, type Grouping } from './exact.js';
import type { DedupKey, DedupScope } from './keys.js';
import type { VectorSimilarity } from './metric.js';
import { greedyLeaders, scopeGroup } from './similarity.js';

export type DedupStrategy = 'exact' | 'embedding' | 'hybrid';

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
  /**
   * The exact-equality key: a string, a finite number, a bigint, a boolean, null, or an array or plain object of
   * these, compared by value and type (see `DedupKey` and docs/keys.md). Default: the request itself, compared
   * as canonical JSON extended to NaN, Infinity, bigints and Dates.
   */
  key?: (request: T) => DedupKey;
  /**
   * Requests of different scopes are NEVER merged, whatever their key or similarity. Use it for tenants, users,
   * permissions: anything that makes the same question have a different answer. A string, a number or a bigint
   * (`1`, `'1'` and `1n` are three scopes), or undefined for no scope.
   */
  scope?: (request: T) => DedupScope;
  /**
   * Turns texts into vectors for `'embedding'` and `'hybrid'`: called once per batch with the distinct texts
   * that are not cached. Default: the built-in lexical embedder (`createLexicalEmbedder()`).
   */
  embed?: Embedder;
  /**
   * The text of a request, for `'embedding'` and `'hybrid'`. Optional: by default, in this order,
   * - a string request: the request itself;
   * - the first of the fields `query`, `text`, `prompt`, `input` that holds a string (`{ prompt }`,
   *   `{ input }` of an embeddings or completions call);
   * - a chat's `messages` (OpenAI, Anthropic): the `content` of the last message, a string or an array of
   *   text parts `{ type: 'text', text }` (joined by newlines). Earlier messages, the roles and every other field
   *   stay in the rest of the request, which is compared exactly: two chats are compared by similarity only when
   *   they differ in nothing but the last message's text.
   *
   * A request in none of these shapes (a last message holding an image, audio or a tool call, an `input`
   * array, no text field at all) is deduplicated exactly, by `key` within its `scope`, and counted in the
   * stats' `textUnreadable`; it is never rejected. A `text` of your own that throws or returns something other
   * than a string rejects that request with a `TypeError` naming `text(request)`. See docs/embedders.md.
   */
  text?: (request: T) => string;
  /** The vector similarity: `'cosine'` (default) or the name of any `ml-distance` similarity, or a function. */
  metric?: string | VectorSimilarity;
  /**
   * Refuse similarity merges of texts whose numbers, negations or polar words (enable/disable, ...) differ.
   * `true` (default), `false`, or your own `(a, b) => boolean` over two texts (true allows the merge).
   */
  mergeGuard?: boolean | ((a: string, b: string) => boolean);
  /** Embeddings kept by text, least recently used dropped first. 0 turns the cache off. Default 4096. */
  embedCacheSize?: number;
  /**
   * How long a batch waits for `embed` before it goes on with exact dedup (counted in `embedFallbacks`); a late
   * answer is then ignored and not cached. `Infinity` waits for ever. Default 5000 ms.
   */
  embedTimeoutMs?: number;
  /** The clock `embedTimeoutMs` is measured on. Default `asyncScheduler`. */
  scheduler?: SchedulerLike;
  /**
   * `batchDedup` and `createBatcher`: embed each request's text while its window is open (one call per scheduler
   * tick for the texts queued in it), so the vectors are ready, or nearly, when the batch leaves. Default: on
   * once the embedder has answered asynchronously (the built-in embedder answers synchronously: off); `true`:
   * from the first request, whatever the embedder; `false`: embed after the batch forms, one call per batch.
   * No effect on `dedupBy`, which sees whole batches. See docs/embedders.md.
   */
  embedAhead?: boolean;
}

const DEFAULT_DEDUP_THRESHOLD = 0.98;

/**
 * A configured dedup stage: synchronous for exact and custom strategies, a promise when it must embed.
 * `lifetime` is its owner's: unsubscribing it cancels the stage's timers (`embedTimeoutMs`), and a promise still
 * pending then never settles, as the owner no longer listens.
 */
export type Deduper<T> = ((items: readonly T[], lifetime?: Subscription) => DedupedBatch<T> | Promise<DedupedBatch<T>>) & {
  /**
   * Similarity dedup with embed-ahead only (src/dedup/embedAhead.ts): an engine tells it of each request queued,
   * and of each that left the queue unbatched, under the `lifetime` it passes to the batches.
   */
  readonly arrived?: (item: T, lifetime: Subscription) => void;
  readonly left?: (item: T, lifetime: Subscription) => void;
  /**
   * Similarity dedup made with `probes` only (semantic result cache): a new, empty index of cached results'
   * vectors at this deduper's threshold, for each table of what is shared (src/internal/inFlight.ts).
   */
  readonly nearIndex?: <H>() => NearIndex<H>;
  /**
   * Similarity dedup only: `configure()` replaced this stage by one that embeds no more (exact, a
   * `dedupFunction`, dedup off): it lets go of the queued requests it embeds ahead for (src/dedup/embedAhead.ts).
   */
  readonly retire?: () => void;
};

export interface DeduperHooks {
  /** The similarity stage failed and the batch fell back to exact dedup. */
  onFallback?: (error: unknown) => void;
  /** Texts found in / missing from the embedding cache for one batch. */
  onEmbedCache?: (hits: number, misses: number) => void;
  /** Requests of one batch whose text the default `text` could not read (deduplicated exactly); only when > 0. */
  onTextUnreadable?: (requests: number) => void;
}

/**
 * A batch deduplicated by similarity for a pipeline whose result cache is semantic (`resultCache.semantic`): by
 * the index in `items` of each leader whose text was embedded, the probes (text, vector, group: see
 * src/dedup/semanticCache.ts) of its leader first, then those of the requests merged into it. The pipeline looks
 * each one up in its cached results before the batch is executed.
 */
export interface ProbedBatch<T> extends DedupedBatch<T> {
  readonly probes?: ReadonlyMap<number, readonly unknown[]>;
}

/**
 * Vectors of cached results, beside the exact cache (`SlotTable`), for the semantic result cache. Probes and
 * handles are opaque here: the similarity plug-in makes both, so nothing of it is loaded where it is not plugged in.
 */
export interface NearIndex<H> {
  /** Indexes `entry` under the probe of the request whose result it holds. */
  add(entry: H, probe: unknown): void;
  remove(entry: H): void;
  /**
   * The entry nearest the first probe (threshold, group and merge guard as in a batch) that is as near every
   * other probe, and for which `live` says true (`live` may remove the entry it is asked about).
   */
  nearest(probes: readonly unknown[], live: (entry: H) => boolean): H | undefined;
  /**
   * The semantic result cache between dedup and execution (here, so the lite entry point bundles none of it):
   * for each leader with probes, in order, `find` looks up the entry that answers it (undefined for none); every
   * request of the batch that a found leader stands for is given to `hit` with that entry, in order.
   * @return the batch without the answered unique items and their requests (the same batch when nothing was
   *   found), or undefined when nothing is left
   */
  answer<E>(
    batch: ProbedBatch<E>,
    find: (leader: E, probes: readonly unknown[]) => H | undefined,
    hit: (item: E, entry: H) => void,
  ): DedupedBatch<E> | undefined;
}

/** Similarity dedup as an entry point plugs it in: checks its options and resolves them for one pipeline. */
export interface SimilarityDedup {
  /** Checks the similarity options whatever the strategy, so a typo fails at creation, not at a later switch. */
  resolve<T>(where: string, options: DedupOptions<T>): ResolvedSimilarity<T>;
}

/** Similarity dedup resolved for one set of options. */
export interface ResolvedSimilarity<T> {
  /**
   * The deduper of `'embedding'` or `'hybrid'`, with its own embedding cache, or the cache of `previous` (the
   * stage it replaces in a live `configure()`) when it embeds the same way. With `probes`, every text is
   * embedded, each batch carries the probes of its unique items (`ProbedBatch`), and the deduper makes the index
   * they are looked up in (`Deduper.nearIndex`).
   */
  create(
    strategy: 'embedding' | 'hybrid',
    grouping: Grouping<T>,
    threshold: number,
    hooks: DeduperHooks,
    probes?: boolean,
    previous?: Deduper<T>,
  ): Deduper<T>;
  /** The same over wrappers of requests: every function is applied to `unwrap(wrapper)`. */
  map<U>(unwrap: (wrapper: U) => T): ResolvedSimilarity<U>;
}

export interface ResolvedDedup<T> {
  readonly enabled: boolean;
  readonly strategy: DedupStrategy;
  readonly threshold: number;
  readonly grouping: Grouping<T>;
  readonly dedupFunction: ((a: T, b: T) => number) | undefined;
  /** Set for `'embedding'` and `'hybrid'`. */
  readonly semantic: ResolvedSimilarity<T> | undefined;
}

/** The options only similarity dedup reads. */
const SIMILARITY_OPTIONS = ['embed', 'text', 'metric', 'mergeGuard', 'embedCacheSize', 'embedTimeoutMs', 'embedAhead'] as const;

/**
 * Checks `options`. Without `similarity` (the lite entry point) the strategies `'embedding'` and `'hybrid'`, and
 * the options only they read, are refused with a `TypeError` that says where to import them from.
 */
export function resolveDedupWith<T>(
  where: string,
  options: DedupOptions<T>,
  similarity: SimilarityDedup | undefined,
  /**
   * Whom the key and scope name when they fail for a request, later: the entry point that takes requests in, also
   * when `configure()` (whose name `where` is then) put them in effect.
   */
  runWhere = where,
): ResolvedDedup<T> {
  const enabled = check.boolean(where, 'enableDedup', options.enableDedup ?? true);
  const strategy = check.oneOf<DedupStrategy>(where, 'dedupStrategy', options.dedupStrategy ?? 'exact', [
    'exact',
    'embedding',
    'hybrid',
  ]);
  const threshold = check.unitInterval(where, 'dedupThreshold', options.dedupThreshold ?? DEFAULT_DEDUP_THRESHOLD);
  const key = check.optionalFunction<(request: T) => unknown>(where, 'key', options.key);
  const scope = check.optionalFunction<(request: T) => unknown>(where, 'scope', options.scope);
  const dedupFunction = check.optionalFunction<(a: T, b: T) => number>(where, 'dedupFunction', options.dedupFunction);
  const semantic = similarity ? similarity.resolve(where, options) : refuseSimilarity(where, options, strategy);
  return { enabled, strategy, threshold, grouping: groupingOf(runWhere, key, scope), dedupFunction, semantic: strategy === 'exact' ? undefined : semantic };
}

function refuseSimilarity<T>(where: string, options: DedupOptions<T>, strategy: DedupStrategy): undefined {
  const fix = `import from 'rxjs-batch-dedup' (or 'rxjs-batch-dedup/operators'), which has it; 'rxjs-batch-dedup/lite' leaves it out to stay small`;
  if (strategy !== 'exact') {
    check.fail(where, `dedupStrategy '${strategy}' is similarity dedup: ${fix}. A dedupFunction works in both`, TypeError);
  }
  const given =
    SIMILARITY_OPTIONS.find((name) => options[name] !== undefined) ??
    ((options as { resultCache?: { semantic?: unknown } }).resultCache?.semantic === true ? 'resultCache.semantic' : undefined);
  if (given !== undefined) check.fail(where, `${given} is an option of similarity dedup: ${fix}`, TypeError);
  check.scheduler(where, options.scheduler);
  return undefined;
}

/**
 * The same dedup over wrappers of requests (`batchDedup`'s envelopes): every function is applied to
 * `unwrap(wrapper)`, and `scopeOf(wrapper)`, when it returns a string, overrides `scope`.
 */
export function mapDedup<T, U>(
  resolved: ResolvedDedup<T>,
  unwrap: (wrapper: U) => T,
  scopeOf: (wrapper: U) => DedupScope,
): ResolvedDedup<U> {
  const dedupFunction = resolved.dedupFunction;
  return {
    ...resolved,
    grouping: mapGrouping(resolved.grouping, unwrap, scopeOf),
    dedupFunction: dedupFunction && ((a, b) => dedupFunction(unwrap(a), unwrap(b))),
    semantic: resolved.semantic?.map(unwrap),
  };
}

/**
 * Builds the dedup stage. A custom `dedupFunction` that throws or returns something other than a score in
 * [0, 1], or an embedder that fails or returns malformed vectors, makes that batch fall back to exact dedup
 * (reported through `onFallback`); nothing is lost.
 *
 * @param probes for a semantic result cache: the similarity deduper embeds every text and returns the probes
 *   of the unique items (`ProbedBatch`)
 */
export function createDeduper<T>(resolved: ResolvedDedup<T>, hooks: DeduperHooks = {}, probes = false, previous?: Deduper<T>): Deduper<T> {
  const { grouping, dedupFunction, threshold } = resolved;
  if (resolved.enabled && !dedupFunction && resolved.semantic && resolved.strategy !== 'exact') {
    return resolved.semantic.create(resolved.strategy, grouping, threshold, hooks, probes, previous);
  }
  previous?.retire?.();
  if (!resolved.enabled) return dedupNone;
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
