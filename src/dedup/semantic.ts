import type { SchedulerLike, Subscription } from 'rxjs';
import type { DedupedBatch } from '../types.js';
import { Embeddings, type EmbedCall } from './embedAhead.js';
import { EmbeddingCache, LruCache } from './embeddingCache.js';
import type { Embedder } from './embedder.js';
import { dedupExact, dedupNone, describeThrow, type Grouping } from './exact.js';
import { scopeTag, type DedupScope } from './keys.js';
import { guardSignature, salientOrderAgrees, salientTokens, type SalientTokens } from './mergeGuard.js';
import type { ResolvedMetric } from './metric.js';
import { vectorLeaders } from './vectorLeaders.js';
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
  /** The clock of `embedTimeoutMs` and of embed-ahead's ticks. */
  readonly scheduler: SchedulerLike;
  /**
   * Embed-ahead in an engine: `undefined` once the embedder has answered asynchronously, `true` from the first
   * request, `false` never (embedAhead.ts).
   */
  readonly embedAhead: boolean | undefined;
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
 *
 * Calls are shared within a pipeline run (`lifetime`): a text in flight is waited for, not embedded again. With
 * embed-ahead the deduper also has `arrived` and `left`, which an engine calls as requests enter and leave its
 * queue, so their texts are embedded while the window is open; the batch then waits only for the calls still in
 * flight, each bounded by `embedTimeoutMs` from the moment it was made (embedAhead.ts).
 */
export function createSemanticDeduper<T>(
  strategy: 'embedding' | 'hybrid',
  grouping: Grouping<T>,
  settings: SemanticSettings<T>,
  threshold: number,
  hooks: DeduperHooks,
  // No default: undefined reads as false wherever it is read (a default of false was an equivalent mutant).
  probes?: boolean,
  previous?: Deduper<T>,
): Deduper<T> {
  // Without an embedding cache or a semantic result cache, vectors live no longer than their batch (and the queued
  // requests embedded ahead): the copies of one answer share one buffer.
  const shareBuffers = settings.cacheSize === 0 && !probes;
  const embeddings = embeddingsAfter(previous, settings, shareBuffers) ?? new Embeddings(settings.embed, new EmbeddingCache(settings.cacheSize), settings.scheduler, settings.embedTimeoutMs, shareBuffers);
  const { cache } = embeddings;
  const customGuard = typeof settings.mergeGuard === 'function' ? settings.mergeGuard : undefined;
  const signature = settings.mergeGuard === true ? cachedSignature(settings.cacheSize) : () => '';
  const groupOf = groupKeyFunction(settings, grouping.scope, signature);

  const dedup = (items: readonly T[], lifetime?: Subscription): DedupedBatch<T> | Promise<DedupedBatch<T>> => {
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
    // A user function read above (`text`, `scope`, `key`) may have ended the owner's run (its subscriber left):
    // nothing is embedded for it. Nobody reads this batch any more; every item leads itself.
    if (lifetime?.closed) return base ?? dedupNone(items);
    // A semantic result cache compares every candidate with the cached results: each needs its vector.
    const comparable = probes ? candidates : candidatesSharingAGroup(candidates);
    const distinct = distinctTexts(comparable);
    const texts = distinct.texts;
    const session = lifetime === undefined || lifetime.closed ? undefined : embeddings.sessionOf<T>(lifetime, texts.length === 0);
    // Vectors ready now: embedded ahead for these requests (a miss, the first time), or cached (a hit). The
    // others are in flight (waited for) or missing (embedded now, in one call).
    const vectors = new Map<string, Float32Array>();
    const missing: string[] = [];
    const waitFor = new Set<EmbedCall>();
    let hits = 0;
    let failedAhead: { error: unknown } | undefined;
    for (const text of texts) {
      const ahead = session?.take(text);
      if (ahead !== undefined) {
        if (ahead.vector === undefined) failedAhead ??= ahead;
        else vectors.set(text, ahead.vector);
        if (ahead.used) hits++;
        ahead.used = true;
        continue;
      }
      const cached = cache.get(text);
      if (cached) {
        vectors.set(text, cached);
        hits++;
        continue;
      }
      const running = session?.inFlight.get(text);
      if (running !== undefined && embeddings.joinable(running)) {
        // Counted once per batch: it reads the call's vectors until it finishes (see Embeddings.release).
        if (!waitFor.has(running)) running.holders++;
        waitFor.add(running);
      } else {
        missing.push(text);
      }
    }
    // Batched: what they held for embed-ahead is theirs no more (what they wait for is in `waitFor`).
    if (session) for (const item of items) session.left(item);
    hooks.onEmbedCache?.(hits, texts.length - hits);

    const fallBack = (error: unknown): DedupedBatch<T> => {
      hooks.onFallback?.(error);
      return base ?? dedupExact(items, grouping);
    };
    const finish = (): DedupedBatch<T> => {
      try {
        // Every text missing (no cache, nothing embedded ahead): one call was made, for `texts` in their order,
        // and its vectors are the rows as they are; a Map by text is made only where the rows come from several
        // places, or for the probes.
        let rows: readonly Float32Array[] | undefined;
        for (const call of waitFor) {
          const outcome = call.outcome!;
          if (!outcome.ok) return fallBack(outcome.error);
          if (missing.length === texts.length && !probes) rows = outcome.vectors;
          else call.texts.forEach((text, i) => vectors.set(text, outcome.vectors[i]!));
        }
        rows ??= texts.map((text) => vectors.get(text)!);
        mergeBySimilarity(comparable, distinct, rows, embeddings.dimensions ?? 0, settings.metric, threshold, customGuard, settings.mergeGuard === true, mergedInto);
        const batch = assemble(items, base, representatives, failures, mergedInto);
        return probes ? withProbes(batch, comparable, vectors, mergedInto) : batch;
      } catch (error) {
        return fallBack(error);
      } finally {
        // Done with the vectors: a shared buffer no other batch reads serves the next answer.
        if (settings.metric.kind === 'cosine') for (const call of waitFor) embeddings.release(call);
      }
    };

    // A call made ahead for these requests failed: the batch falls back now, without a second call.
    if (failedAhead !== undefined) return fallBack(failedAhead.error);
    if (missing.length > 0) waitFor.add(embeddings.call(missing, lifetime, session, 1));
    let unsettled = 0;
    for (const call of waitFor) {
      if (call.outcome === undefined) unsettled++;
      // One that failed already decides: the batch does not wait for the others.
      else if (!call.outcome.ok) return fallBack(call.outcome.error);
    }
    if (unsettled === 0) return finish();
    return new Promise<DedupedBatch<T>>((resolve, reject) => {
      // The first failure decides the batch (exact dedup), or the last answer does (similarity).
      let decided = false;
      const onSettled = (call: EmbedCall) => {
        if (decided || (call.outcome!.ok && --unsettled > 0)) return;
        decided = true;
        try {
          resolve(call.outcome!.ok ? finish() : fallBack(call.outcome!.error));
        } catch (error) {
          reject(error); // a defect (finish and fallBack do not throw): the owner surfaces it
        }
      };
      for (const call of waitFor) call.waiters?.push(onSettled);
    });
  };

  /** A request queued in an engine (`batchDedup`, `createBatcher`): its text may be embedded ahead. */
  const arrived = (item: T, lifetime: Subscription): void => {
    // `undefined`: on once the embedder has answered asynchronously; `true`: from the first request.
    if (settings.embedAhead !== true && embeddings.asynchronous !== true) return;
    if (lifetime.closed) return;
    let text: string | undefined;
    let group: string;
    try {
      text = settings.text(item);
      if (text === undefined) return;
      group = groupOf(item, text);
    } catch {
      return; // the batch says what is wrong with it
    }
    embeddings.sessionOf<T>(lifetime)!.arrived(item, text, group);
  };
  // Withdrawals reach the session even with embed-ahead off: requests queued before a configure() turned it off
  // are held there until they leave.
  const left = (item: T, lifetime: Subscription): void => embeddings.sessionOf<T>(lifetime, true)?.left(item);
  const retire = () => embeddings.retire();
  const deduper = settings.embedAhead === false ? Object.assign(dedup, { left, retire }) : Object.assign(dedup, { arrived, left, retire });
  stageEmbeddings.set(deduper, embeddings);
  return deduper;
}

/** The embedder behind each similarity dedup stage, for the stage a live `configure()` puts in its place. */
const stageEmbeddings = new WeakMap<object, Embeddings>();

/**
 * What a stage made by `configure()` takes over from the stage it replaces (`previous`): its embedder's cache,
 * calls in flight and embed-ahead sessions, when it embeds the same way (same `embed`, cache size and buffer
 * sharing), as a text's vector depends on nothing else; `embedTimeoutMs` bounds the calls made from then on.
 * Otherwise the old embedder is retired (it lets go of the queued requests; see `Embeddings.retire`).
 */
function embeddingsAfter<T>(previous: Deduper<T> | undefined, settings: SemanticSettings<T>, shareBuffers: boolean): Embeddings | undefined {
  const before = previous && stageEmbeddings.get(previous);
  if (before === undefined) return undefined;
  if (before.embed === settings.embed && before.cache.capacity === settings.cacheSize && before.shareBuffers === shareBuffers) {
    before.timeoutMs = settings.embedTimeoutMs;
    return before;
  }
  before.retire();
  return undefined;
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

function candidatesSharingAGroup(candidates: readonly Candidate[]): readonly Candidate[] {
  // All in one group (the common case: no scope, one rest of the request, one guard signature): all of them.
  if (candidates.length > 1 && candidates.every((c) => c.group === candidates[0]!.group)) return candidates;
  const sizes = new Map<string, number>();
  for (const c of candidates) sizes.set(c.group, (sizes.get(c.group) ?? 0) + 1);
  return candidates.filter((c) => sizes.get(c.group)! > 1);
}

/** The candidates' distinct texts, in order of first appearance, and the index among them of each one's text. */
function distinctTexts(candidates: readonly Candidate[]): { readonly texts: string[]; readonly rowOf: number[] } {
  const indexOf = new Map<string, number>();
  const texts: string[] = [];
  const rowOf = new Array<number>(candidates.length);
  for (let k = 0; k < candidates.length; k++) {
    const text = candidates[k]!.text;
    let row = indexOf.get(text);
    if (row === undefined) {
      indexOf.set(text, (row = texts.length));
      texts.push(text);
    }
    rowOf[k] = row;
  }
  return { texts, rowOf };
}

/** Records in `mergedInto`, for each comparable candidate's item that merges, the item of its leader. */
function mergeBySimilarity(
  comparable: readonly Candidate[],
  /** The distinct texts of `comparable` and the index of each one's text among them (`distinctTexts`). */
  { rowOf }: { readonly texts: readonly string[]; readonly rowOf: readonly number[] },
  /** The vector of each distinct text, in the order of `texts`. */
  rows: readonly Float32Array[],
  dimensions: number,
  metric: ResolvedMetric,
  threshold: number,
  customGuard: ((a: string, b: string) => boolean) | undefined,
  builtInGuard: boolean,
  mergedInto: Map<number, number>,
): void {
  const allowMerge = customGuard
    ? // Only `true` allows a merge: an answer that is no boolean ('no', 1) is not taken as permission.
      (a: number, b: number) => customGuard(comparable[a]!.text, comparable[b]!.text) === true
    : builtInGuard ? orderGuard(comparable) : undefined;
  const leaders = vectorLeaders(
    comparable.map((c) => c.group),
    rowOf,
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
  // By item (an index into `items`): the index in `unique` of each representative kept.
  const uniqueOf = new Array<number>(items.length);
  for (const item of representatives) {
    if (failures.has(item) || mergedInto.has(item)) continue;
    uniqueOf[item] = unique.length;
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
    leaderOf[i] = uniqueOf[mergedInto.get(representative) ?? representative]!;
  }
  return failures.size > 0 ? { items, unique, leaderOf, failures } : { items, unique, leaderOf };
}
