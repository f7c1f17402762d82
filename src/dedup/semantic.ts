import type { SchedulerLike, Subscription } from 'rxjs';
import { BatchTimeoutError } from '../errors.js';
import { scheduleAfter } from '../base/timer.js';
import type { DedupedBatch } from '../types.js';
import { EmbeddingCache, LruCache } from './embeddingCache.js';
import type { Embedder } from './embedder.js';
import { dedupExact, describeThrow, type Grouping } from './exact.js';
import { scopeTag, type DedupScope } from './keys.js';
import { guardSignature, salientOrderAgrees, salientTokens, type SalientTokens } from './mergeGuard.js';
import type { ResolvedMetric } from './metric.js';
import { validateVectors, vectorLeaders } from './vectorLeaders.js';
import type { Probe } from './semanticCache.js';
import type { Deduper, DeduperHooks, ProbedBatch } from './strategy.js';

/** What the `'embedding'` and `'hybrid'` strategies need besides the exact grouping. */
export interface SemanticSettings<T> {
  /**
   * The request's text, or undefined when it has none to read (only the default `text` says so; a user's `text`
   * is checked to return a string): that request is deduplicated exactly.
   */
  readonly text: (request: T) => string | undefined;
  /** Stable key of the request without its text (see restKey.ts). */
  readonly restKey: (request: T, text: string) => string;
  readonly embed: Embedder;
  readonly metric: ResolvedMetric;
  readonly cacheSize: number;
  /** `true`: the built-in guard; a function: a custom one over two texts; `false`: none. */
  readonly mergeGuard: boolean | ((a: string, b: string) => boolean);
  /** How long a batch waits for an asynchronous `embed`; `Infinity`: for ever. */
  readonly embedTimeoutMs: number;
  /** The clock of `embedTimeoutMs`. */
  readonly scheduler: SchedulerLike;
}

/** One request (or, in hybrid, one exact group) that may be merged by similarity. */
interface Candidate {
  /** Index into `items` of the candidate's representative. */
  readonly item: number;
  readonly group: string;
  readonly text: string;
}

/**
 * Builds the deduper of the `'embedding'` and `'hybrid'` strategies.
 *
 * Per batch: the candidates (every request, or in hybrid the leaders of exact dedup) are grouped by scope, the
 * request without its text and, with the built-in guard, the guard signature; only candidates sharing a group
 * with another need a vector. Their distinct texts not in the cache are embedded in one call. A synchronous
 * embedder (or a batch served from cache) gives a synchronous result. A request the default `text` cannot read
 * is no candidate: it stays in its exact group (hybrid) or is deduplicated exactly among the others without text
 * (embedding), and `onTextUnreadable` counts it; it is never rejected for that. If `embed` throws, rejects, returns
 * malformed vectors or has not answered within `embedTimeoutMs`, the batch falls back to exact dedup and
 * `onFallback` is told; an answer after that is ignored (neither cached nor taken as the vectors' length).
 */
export function createSemanticDeduper<T>(
  strategy: 'embedding' | 'hybrid',
  grouping: Grouping<T>,
  settings: SemanticSettings<T>,
  threshold: number,
  hooks: DeduperHooks,
  probes = false,
): Deduper<T> {
  const cache = new EmbeddingCache(settings.cacheSize);
  const customGuard = typeof settings.mergeGuard === 'function' ? settings.mergeGuard : undefined;
  const signature = settings.mergeGuard === true ? cachedSignature(settings.cacheSize) : () => '';
  const groupOf = groupKeyFunction(settings, grouping.scope, signature);
  // Learned from the first well-formed answer: a later answer of another length is malformed.
  let dimensions: number | undefined;

  return (items, lifetime) => {
    const base = strategy === 'hybrid' ? dedupExact(items, grouping) : undefined;
    const representatives = base ? firstOfEachGroup(base) : items.map((_, i) => i);
    const failures = new Map<number, unknown>(base?.failures);
    const candidates: Candidate[] = [];
    // Representatives without a text to read: they keep their exact group (hybrid) or get one (embedding).
    let unreadable: number[] | undefined;
    for (const item of representatives) {
      if (failures.has(item)) continue;
      try {
        const text = settings.text(items[item]!);
        if (text === undefined) (unreadable ??= []).push(item);
        else candidates.push({ item, text, group: groupOf(items[item]!, text) });
      } catch (error) {
        failures.set(item, error);
      }
    }
    // Exact merges of the requests without text (in embedding; in hybrid they are in `base`), by item.
    const mergedInto = new Map<number, number>();
    if (unreadable) {
      hooks.onTextUnreadable?.(requestsOf(unreadable, base));
      if (!base) dedupAmong(unreadable, items, grouping, mergedInto, failures);
    }
    // A semantic result cache compares every candidate with the cached results: each needs its vector.
    const comparable = probes ? candidates : candidatesSharingAGroup(candidates);
    const texts = distinctTexts(comparable);
    const vectors = new Map<string, Float32Array>();
    const missing: string[] = [];
    for (const text of texts) {
      const cached = cache.get(text);
      if (cached) vectors.set(text, cached);
      else missing.push(text);
    }
    hooks.onEmbedCache?.(texts.length - missing.length, missing.length);

    const fallBack = (error: unknown): DedupedBatch<T> => {
      hooks.onFallback?.(error);
      return base ?? dedupExact(items, grouping);
    };
    const finish = (embedded: unknown): DedupedBatch<T> => {
      try {
        const length = validateVectors(embedded, missing.length, dimensions);
        if (length > 0) dimensions = length;
        const fresh = embedded as ArrayLike<number>[];
        missing.forEach((text, i) => {
          const vector = new Float32Array(fresh[i]!);
          vectors.set(text, vector);
          cache.set(text, vector);
        });
        mergeBySimilarity(comparable, vectors, length, settings.metric, threshold, customGuard, settings.mergeGuard === true, mergedInto);
        const batch = assemble(items, base, representatives, failures, mergedInto);
        return probes ? withProbes(batch, comparable, vectors, mergedInto) : batch;
      } catch (error) {
        return fallBack(error);
      }
    };

    if (missing.length === 0) return finish([]);
    let answer: ReturnType<Embedder>;
    let then: unknown;
    try {
      answer = settings.embed(missing);
      then = (answer as { then?: unknown } | null | undefined)?.then;
    } catch (error) {
      return fallBack(error);
    }
    if (typeof then !== 'function') return finish(answer);
    return new Promise<DedupedBatch<T>>((resolve, reject) => {
      // Whichever comes first, the embedder's answer or the bound, decides the batch; the other is ignored.
      let decided = false;
      let timer: Subscription | undefined;
      const decide = (decision: () => DedupedBatch<T>) => {
        if (decided) return;
        decided = true;
        if (timer) {
          timer.unsubscribe();
          lifetime?.remove(timer);
        }
        try {
          resolve(decision());
        } catch (error) {
          reject(error); // a defect (finish and fallBack do not throw): the owner surfaces it
        }
      };
      const onTimeout = () =>
        decide(() =>
          fallBack(
            new BatchTimeoutError(
              `dedupBy: embed() did not answer within ${settings.embedTimeoutMs} ms (embedTimeoutMs); the batch went on with exact dedup`,
              settings.embedTimeoutMs,
            ),
          ),
        );
      // Any length, on the pipeline's scheduler; none for `Infinity`. The owner's end (unsubscription, dispose)
      // cancels it too: no timer outlives the pipeline.
      timer = scheduleAfter(settings.scheduler, onTimeout, settings.embedTimeoutMs);
      lifetime?.add(timer);
      try {
        // Called as a method of the answer, not through Promise.resolve: a thenable that answers synchronously
        // (in virtual time) is decided in that same moment.
        (then as PromiseLike<unknown>['then']).call(
          answer,
          (vectors) => decide(() => finish(vectors)),
          (error: unknown) => decide(() => fallBack(error)),
        );
      } catch (error) {
        decide(() => fallBack(error));
      }
    });
  };
}

/**
 * The batch with the probes of each unique item that was embedded, by the index of its leader in `items`: the
 * leader's (group, text and vector) first, then those of the candidates merged into it, in arrival order (a
 * leader comes before what joins it).
 */
function withProbes<T>(
  batch: DedupedBatch<T>,
  comparable: readonly Candidate[],
  vectors: ReadonlyMap<string, Float32Array>,
  mergedInto: ReadonlyMap<number, number>,
): ProbedBatch<T> {
  const probes = new Map<number, Probe[]>();
  for (const { item, group, text } of comparable) {
    const leader = mergedInto.get(item) ?? item;
    const probe: Probe = { group, text, vector: vectors.get(text)! };
    const list = probes.get(leader);
    if (list) list.push(probe);
    else probes.set(leader, [probe]);
  }
  return { ...batch, probes };
}

/** How many requests of the batch the unreadable representatives stand for (in hybrid, their exact groups). */
function requestsOf<T>(unreadable: readonly number[], base: DedupedBatch<T> | undefined): number {
  if (!base) return unreadable.length;
  const groups = new Set<number>();
  for (const item of unreadable) groups.add(base.leaderOf[item]!);
  let requests = 0;
  for (const group of base.leaderOf) if (groups.has(group)) requests++;
  return requests;
}

/**
 * Exact dedup among `subset` (indexes into `items`), by the pipeline's key and scope: each follower is recorded
 * in `mergedInto` under its leader, and a key or scope that fails in `failures`.
 */
function dedupAmong<T>(
  subset: readonly number[],
  items: readonly T[],
  grouping: Grouping<T>,
  mergedInto: Map<number, number>,
  failures: Map<number, unknown>,
): void {
  const exact = dedupExact(subset.map((item) => items[item]!), grouping);
  const leaderItem: number[] = [];
  exact.leaderOf.forEach((leader, j) => {
    const item = subset[j]!;
    if (leader < 0) failures.set(item, exact.failures!.get(j));
    else if (leader === leaderItem.length) leaderItem.push(item);
    else mergedInto.set(item, leaderItem[leader]!);
  });
}

/** Scope, rest of the request and guard signature, typed and length-prefixed so no two different triples collide. */
function groupKeyFunction<T>(
  settings: SemanticSettings<T>,
  scope: ((request: T) => DedupScope) | undefined,
  /** The built-in guard's signature, or nothing without that guard. */
  signature: (text: string) => string,
): (request: T, text: string) => string {
  return (request, text) => {
    let requestScope: DedupScope;
    try {
      requestScope = scope?.(request);
    } catch (error) {
      throw describeThrow('scope', error);
    }
    let rest: string;
    try {
      rest = settings.restKey(request, text);
    } catch (error) {
      throw describeThrow('key', error);
    }
    return `${scopeTag(requestScope)}|${rest.length}:${rest}|${signature(text)}`;
  };
}

/** Guard signatures of recent texts: repeated texts are the common case, and the regexes are not free. */
function cachedSignature(capacity: number): (text: string) => string {
  if (capacity === 0) return guardSignature;
  const cache = new LruCache<string>(capacity);
  return (text) => {
    let signature = cache.get(text);
    if (signature === undefined) cache.set(text, (signature = guardSignature(text)));
    return signature;
  };
}

/** In hybrid, the first item of each exact group, in arrival order (`unique[k]` is `items[firstOf[k]]`). */
function firstOfEachGroup<T>(base: DedupedBatch<T>): number[] {
  const first: number[] = [];
  base.leaderOf.forEach((leader, i) => {
    if (leader === first.length) first.push(i);
  });
  return first;
}

function candidatesSharingAGroup(candidates: readonly Candidate[]): Candidate[] {
  const sizes = new Map<string, number>();
  for (const c of candidates) sizes.set(c.group, (sizes.get(c.group) ?? 0) + 1);
  return candidates.filter((c) => sizes.get(c.group)! > 1);
}

function distinctTexts(candidates: readonly Candidate[]): string[] {
  return [...new Set(candidates.map((c) => c.text))];
}

/** Records in `mergedInto`, for each comparable candidate's item that merges, the item of its leader. */
function mergeBySimilarity(
  comparable: readonly Candidate[],
  vectors: Map<string, Float32Array>,
  dimensions: number,
  metric: ResolvedMetric,
  threshold: number,
  customGuard: ((a: string, b: string) => boolean) | undefined,
  builtInGuard: boolean,
  mergedInto: Map<number, number>,
): void {
  const rowOfText = new Map<string, number>();
  const rows: Float32Array[] = [];
  for (const c of comparable) {
    if (!rowOfText.has(c.text)) {
      rowOfText.set(c.text, rows.length);
      rows.push(vectors.get(c.text)!);
    }
  }
  const allowMerge = customGuard
    ? (a: number, b: number) => customGuard(comparable[a]!.text, comparable[b]!.text)
    : builtInGuard ? orderGuard(comparable) : undefined;
  const leaders = vectorLeaders(
    comparable.map((c) => c.group),
    comparable.map((c) => rowOfText.get(c.text)!),
    rows,
    dimensions,
    metric,
    threshold,
    allowMerge,
  );
  leaders.forEach((leader, i) => {
    if (leader !== i) mergedInto.set(comparable[i]!.item, comparable[leader]!.item);
  });
}

/**
 * The pairwise half of the built-in guard (the signature half is in the group key): names and numbers must
 * match in kind and order. Tokens are computed on first use, so only pairs above the threshold pay for it.
 */
function orderGuard(comparable: readonly Candidate[]): (a: number, b: number) => boolean {
  const tokens = new Array<SalientTokens | undefined>(comparable.length);
  const of = (i: number) => (tokens[i] ??= salientTokens(comparable[i]!.text));
  return (a, b) => salientOrderAgrees(of(a), of(b));
}

function assemble<T>(
  items: readonly T[],
  base: DedupedBatch<T> | undefined,
  representatives: readonly number[],
  failures: Map<number, unknown>,
  mergedInto: Map<number, number>,
): DedupedBatch<T> {
  const unique: T[] = [];
  const uniqueOf = new Map<number, number>();
  for (const item of representatives) {
    if (failures.has(item) || mergedInto.has(item)) continue;
    uniqueOf.set(item, unique.length);
    unique.push(items[item]!);
  }
  const leaderOf = new Array<number>(items.length);
  for (let i = 0; i < items.length; i++) {
    const representative = base ? representatives[base.leaderOf[i]!] : i;
    if (representative === undefined || failures.has(representative)) {
      // In hybrid an exact follower shares its representative's failure (its text could not be read).
      if (representative !== undefined && !failures.has(i)) failures.set(i, failures.get(representative));
      leaderOf[i] = -1;
      continue;
    }
    leaderOf[i] = uniqueOf.get(mergedInto.get(representative) ?? representative)!;
  }
  return failures.size > 0 ? { items, unique, leaderOf, failures } : { items, unique, leaderOf };
}
