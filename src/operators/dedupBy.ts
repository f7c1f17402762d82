import { Observable, type OperatorFunction } from 'rxjs';
import { createDeduper, resolveDedupOptions, type Deduper, type DedupOptions } from '../dedup/options.js';
import * as check from '../internal/validate.js';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { DedupedBatch } from '../types.js';

export interface DedupByOptions<T> extends DedupOptions<T> {
  /** Counts deduplicated requests and fallbacks. */
  stats?: BatchStatsRecorder;
}

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
 * Requests of different `scope`s are never merged. One output per input batch, always: an item whose `key`,
 * `scope` or `text` throws is carried in `failures` instead of being dropped; an embedder that fails, or has not
 * answered within `embedTimeoutMs`, makes that batch fall back to exact dedup (counted in `embedFallbacks`). Completion and errors wait for batches still
 * being deduplicated (embedding is asynchronous when the embedder is).
 *
 * ## Example
 * ```ts
 * batches$.pipe(dedupBy({ key: (r) => r.query.trim().toLowerCase(), scope: (r) => r.tenantId }));
 * ```
 *
 * @param options `dedupStrategy`, `dedupThreshold`, `dedupFunction`, `key`, `scope`, `text`, `embed`, `metric`,
 * `mergeGuard`, `embedCacheSize`, `embedTimeoutMs` (5000), `scheduler`, `enableDedup`, `stats`.
 * @return A function that returns an Observable of `DedupedBatch`es, one per source batch.
 */
export function dedupBy<T>(options: DedupByOptions<T> = {}): OperatorFunction<readonly T[], DedupedBatch<T>> {
  const where = 'dedupBy';
  const raw = check.optionsObject(where, options);
  const resolved = resolveDedupOptions(where, raw);
  const { stats } = raw;
  const dedup = createDeduper(resolved, {
    onFallback: () => stats?.recordEmbedFallback(),
    onEmbedCache: (hits, misses) => stats?.recordEmbedCache(hits, misses),
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
      /** Dedups waiting for `embed`, stopped (their bound's timer too) on unsubscription. */
      const pending = new Set<() => void>();
      let ending: { error: unknown } | 'complete' | undefined;
      const emit = (batch: DedupedBatch<T>) => {
        stats?.recordDedup(batch);
        subscriber.next(batch);
      };
      const finishIfIdle = () => {
        if (pending.size > 0 || !ending) return;
        if (ending === 'complete') subscriber.complete();
        else subscriber.error(ending.error);
      };
      const subscription = source.subscribe({
        next: (items) => {
          if (items.length === 0) return;
          const out = current()(items);
          if (!(out instanceof Promise)) {
            emit(out);
            return;
          }
          const cancel = (out as { cancel?: () => void }).cancel ?? (() => undefined);
          pending.add(cancel);
          out.then(
            (batch) => {
              pending.delete(cancel);
              if (!subscriber.closed) emit(batch);
              finishIfIdle();
            },
            // The deduper falls back instead of rejecting; reaching here is a bug, so surface it.
            (error: unknown) => subscriber.error(error),
          );
        },
        error: (error: unknown) => {
          ending = { error };
          finishIfIdle();
        },
        complete: () => {
          ending = 'complete';
          finishIfIdle();
        },
      });
      return () => {
        subscription.unsubscribe();
        for (const cancel of pending) cancel();
      };
    });
}
