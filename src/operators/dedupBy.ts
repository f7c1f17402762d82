import { Observable, Subscription, type OperatorFunction } from 'rxjs';
import { describeGiven } from '../base/describeGiven.js';
import { describeThrown } from '../base/describeValue.js';
import { createDeduper, resolveDedupWith, type Deduper, type DedupOptions, type SimilarityDedup } from '../dedup/strategy.js';
import * as check from '../base/validate.js';
import { subscribeSource } from '../internal/subscribeSource.js';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { DedupedBatch } from '../types.js';

export interface DedupByOptions<T> extends DedupOptions<T> {
  /** Counts deduplicated requests and fallbacks. */
  stats?: BatchStatsRecorder;
}

const DEDUP_BY_OPTIONS: Readonly<Record<keyof DedupByOptions<unknown>, true>> = {
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
  embedAhead: true,
  scheduler: true,
  stats: true,
};

/**
 * Maps each batch to its unique items and, for every item, the unique item that stands for it.
 *
 * <span class="informal">N requests in, fewer than N to execute: `unique[leaderOf[i]]` answers `items[i]`.</span>
 *
 * ```
 * source: --[a, b, a']--|        (a' equal to a)
 * result: --{ unique: [a, b], leaderOf: [0, 1, 0] }--|
 * ```
 *
 * Strategies (`dedupStrategy`):
 * - `'exact'` (default): equal when a stable key is equal (canonical JSON, or your `key`).
 * - `'embedding'`: cosine (or any `ml-distance` `metric`) of `embed(text(request))` at or above `dedupThreshold`;
 *   greedy in arrival order, each item joining the most similar earlier leader; only requests equal in everything
 *   but their text, and of one scope, are compared; the `mergeGuard` refuses merges of texts whose numbers,
 *   negations or polar words differ. The default embedder is built in (no model, no network).
 * - `'hybrid'`: exact first, then embedding among the remaining leaders (one `embed` call per batch).
 * - `dedupFunction(a, b)`: your similarity in [0, 1], compared against `dedupThreshold`.
 *
 * Requests of different `scope`s are never merged. One output per non-empty input batch, always (an empty one, as
 * `bufferTime` emits, has nothing to execute and is dropped): an item whose `key`,
 * `scope` or `text` throws is carried in `failures` instead of being dropped; an embedder that fails, or has not
 * answered within `embedTimeoutMs`, makes that batch fall back to exact dedup (counted in `embedFallbacks`). Completion and errors wait for batches still
 * being deduplicated (embedding is asynchronous when the embedder is).
 *
 * ## Example
 * ```ts
 * batches$.pipe(dedupBy({ key: (r) => r.query.trim().toLowerCase(), scope: (r) => r.tenantId }));
 * ```
 *
 * This is the function of `rxjs-batch-dedup/lite`, without similarity dedup: `dedupStrategy: 'embedding'` or
 * `'hybrid'`, and the options only they read, are refused at creation with a `TypeError` that names the entry
 * point that has them (`rxjs-batch-dedup`, whose dedupBy is the same function with similarity dedup wired in).
 *
 * @param options `dedupStrategy`, `dedupThreshold`, `dedupFunction`, `key`, `scope`, `text`, `embed`, `metric`,
 * `mergeGuard`, `embedCacheSize`, `embedTimeoutMs` (5000), `scheduler`, `enableDedup`, `stats`.
 * @return A function that returns an Observable of `DedupedBatch`es, one per non-empty source batch.
 */
export function dedupBy<T>(options: DedupByOptions<T> = {}): OperatorFunction<readonly T[], DedupedBatch<T>> {
  return dedupByWith(options, undefined);
}

/**
 * @internal `dedupBy` with the given similarity dedup (`'embedding'`, `'hybrid'`), or none. The one above (of
 * `rxjs-batch-dedup/lite`) has none; the main and operators entry points' wire it in (./withSimilarity.ts).
 */
export function dedupByWith<T>(
  options: DedupByOptions<T>,
  similarity: SimilarityDedup | undefined,
): OperatorFunction<readonly T[], DedupedBatch<T>> {
  const where = 'dedupBy';
  const raw = check.optionsObject(where, options);
  check.optionNames(where, raw, DEDUP_BY_OPTIONS);
  check.statsRecorder(where, raw.stats);
  const resolved = resolveDedupWith(where, raw, similarity);
  const { stats } = raw;
  const dedup = createDeduper(resolved, {
    onFallback: () => stats?.recordEmbedFallback(),
    onEmbedCache: (hits, misses) => stats?.recordEmbedCache(hits, misses),
    onTextUnreadable: (requests) => stats?.recordTextUnreadable(requests),
  });
  return dedupWith(() => dedup, stats);
}

/** @internal `dedupBy` over a deduper read at every batch, so `configure()` can replace it. */
export function dedupWith<T>(
  current: () => Deduper<T>,
  stats: BatchStatsRecorder | undefined,
): OperatorFunction<readonly T[], DedupedBatch<T>> {
  return (source) =>
    new Observable<DedupedBatch<T>>((subscriber) => {
      let pending = 0;
      /** Ends the dedup step's timers (`embedTimeoutMs`) with the subscription. */
      const lifetime = new Subscription();
      let ending: { error: unknown } | 'complete' | undefined;
      const emit = (batch: DedupedBatch<T>) => {
        stats?.recordDedup(batch);
        subscriber.next(batch);
      };
      const finishIfIdle = () => {
        if (pending > 0 || !ending) return;
        // Before the ending is told: an embed call that no batch waits for any more (its batch fell back when
        // another call failed) would otherwise keep its timer until the teardown that follows the ending.
        lifetime.unsubscribe();
        if (ending === 'complete') subscriber.complete();
        else subscriber.error(ending.error);
      };
      subscribeSource(
        subscriber,
        source,
        {
          next: (items) => {
            // Set by something that is not a batch: the rest of the source is ignored.
            if (ending) return;
            let isArray: boolean;
            try {
              isArray = Array.isArray(items);
            } catch (error) {
              // A revoked proxy: not even its kind can be read. Not a batch, as below.
              ending = { error: unreadable(error) };
              finishIfIdle();
              return;
            }
            if (!isArray) {
              // Its error follows the batches still being deduplicated, as in fanOut.
              ending = { error: new TypeError(`dedupBy: expected an array of requests, got ${describeGiven(items)}`) };
              finishIfIdle();
              return;
            }
            if (items.length === 0) return;
            let out: ReturnType<Deduper<T>>;
            try {
              out = current()(withoutHoles(items), lifetime);
            } catch (error) {
              // An entry that throws when read (a getter, a proxy): not a batch; the dedupers catch what user
              // functions throw. The rest of the source is ignored, as above.
              ending = { error: unreadable(error) };
              finishIfIdle();
              return;
            }
            if (!(out instanceof Promise)) {
              emit(out);
              return;
            }
            pending++;
            out.then(
              (batch) => {
                pending--;
                if (!subscriber.closed) emit(batch);
                finishIfIdle();
              },
              // The deduper falls back instead of rejecting; reaching here is a bug, so surface it.
              (error: unknown) => subscriber.error(error),
            );
          },
          error: (error) => {
            ending ??= { error };
            finishIfIdle();
          },
          complete: () => {
            ending ??= 'complete';
            finishIfIdle();
          },
        },
        () => lifetime.unsubscribe(),
      );
    });
}

/** The error for a batch that throws when read (a getter, a proxy): the thrown value is its `cause`. */
function unreadable(error: unknown): TypeError {
  return new TypeError(`dedupBy: a batch could not be read (${describeThrown(error)})`, { cause: error });
}

/**
 * A sparse array (`['a', , 'b']`) as a dense one, its holes the request `undefined`; a dense one as it is. Each
 * entry is read here, so one that throws (a getter, a proxy) throws here, before any deduper reads it.
 */
function withoutHoles<T>(items: readonly T[]): readonly T[] {
  for (let i = 0; i < items.length; i++) {
    if (!(i in items)) return Array.from(items);
    void items[i];
  }
  return items;
}
