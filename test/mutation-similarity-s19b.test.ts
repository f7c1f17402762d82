/**
 * greedyLeaders' scores (similarity.ts, `dedupFunction`), the promises the stop-19 mutation run found unguarded
 * (issue 17, H-MUT6): a score equal to the threshold merges, an item joins the most similar leader and the
 * earliest on a tie, and a score outside [0, 1] (negative, above 1) is no score: the batch falls back to exact
 * dedup, told with a SimilarityError that names the value.
 */
import { describe, expect, it } from 'vitest';
import { createDeduper, resolveDedupOptions } from '../src/dedup/options.js';
import { SimilarityError } from '../src/dedup/similarity.js';
import type { DedupedBatch } from '../src/types.js';

/** A deduper over `dedupFunction` at `threshold`, with the fallbacks it reports. */
function deduper(dedupFunction: (a: string, b: string) => number, threshold = 0.8) {
  const fallbacks: unknown[] = [];
  const dedup = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupFunction, dedupThreshold: threshold }), { onFallback: (e) => fallbacks.push(e) });
  return { dedup: (items: string[]) => dedup(items) as DedupedBatch<string>, fallbacks };
}

/** Scores from a table by unordered pair, 0 for pairs not in it. */
function table(scores: Record<string, number>) {
  return (a: string, b: string) => scores[`${a}|${b}`] ?? scores[`${b}|${a}`] ?? 0;
}

describe('greedyLeaders', () => {
  it('a score equal to the threshold merges', () => {
    const { dedup, fallbacks } = deduper(table({ 'a|b': 0.8 }));
    expect(dedup(['a', 'b']).leaderOf).toEqual([0, 0]);
    expect(fallbacks).toEqual([]);
  });

  it('an item joins the leader it is most similar to, not the last one above the threshold', () => {
    const { dedup } = deduper(table({ 'x|l1': 0.95, 'x|l2': 0.85 }));
    expect(dedup(['l1', 'l2', 'x']).leaderOf).toEqual([0, 1, 0]);
  });

  it('on a tie, the earliest leader', () => {
    const { dedup } = deduper(table({ 'x|l1': 0.9, 'x|l2': 0.9 }));
    expect(dedup(['l1', 'l2', 'x']).leaderOf).toEqual([0, 1, 0]);
  });

  it.each([-0.5, 1.5])('a score of %d falls back to exact dedup, told with a SimilarityError naming it', (score) => {
    const { dedup, fallbacks } = deduper(() => score, 0.5);
    expect(dedup(['a', 'b', 'a']).leaderOf).toEqual([0, 1, 0]);
    expect(fallbacks).toHaveLength(1);
    const error = fallbacks[0] as Error;
    expect(error).toBeInstanceOf(SimilarityError);
    expect(error.name).toBe('SimilarityError');
    expect(error.message).toBe(`dedupFunction(a, b) must return a number in [0, 1], got ${score}`);
  });
});
