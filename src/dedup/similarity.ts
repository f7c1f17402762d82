import { describeValue } from '../base/describeValue.js';
import type { DedupedBatch } from '../types.js';
import type { Grouping } from './exact.js';


/**
 * Greedy leader assignment over a pairwise similarity, in arrival order: each item joins the most similar
 * existing leader of its group whose score is at least `threshold` (the earliest leader on a tie), or becomes
 * a leader itself. Items are only compared within the same group (`groupOf`: scope plus whatever else must be
 * equal). `similarity(i, j)` compares items by index.
 *
 * Returns the batch, or throws `SimilarityError` when the similarity returned something that is not a score.
 */
export function greedyLeaders<T>(
  items: readonly T[],
  groupOf: (item: T) => unknown,
  similarity: (i: number, j: number) => number,
  threshold: number,
): DedupedBatch<T> {
  const unique: T[] = [];
  // Pushed in item order (each item gets exactly one entry): a presized array was an equivalent mutant.
  const leaderOf: number[] = [];
  let failures: Map<number, unknown> | undefined;
  const leadersByGroup = new Map<unknown, number[]>();
  for (let i = 0; i < items.length; i++) {
    let group: unknown;
    try {
      group = groupOf(items[i]!);
    } catch (error) {
      // groupOf names the user function that threw (see describeThrow).
      (failures ??= new Map()).set(i, error);
      leaderOf.push(-1);
      continue;
    }
    let leaders = leadersByGroup.get(group);
    if (!leaders) leadersByGroup.set(group, (leaders = []));
    let best = -1;
    let bestScore = -Infinity;
    for (const leader of leaders) {
      const score = similarity(leader, i);
      // A number only: '0.99', true, [1] or 1n would be coerced by the comparisons.
      if (typeof score !== 'number' || !(score >= 0 && score <= 1)) throw new SimilarityError(score);
      if (score >= threshold && score > bestScore) {
        best = leader;
        bestScore = score;
      }
    }
    if (best === -1) {
      leaders.push(i);
      leaderOf.push(unique.length);
      unique.push(items[i]!);
    } else {
      leaderOf.push(leaderOf[best]!);
    }
  }
  return failures ? { items, unique, leaderOf, failures } : { items, unique, leaderOf };
}

/** A similarity returned something other than a number in [0, 1] (NaN, a string); the batch falls back to exact dedup. */
export class SimilarityError extends Error {
  override readonly name = 'SimilarityError';
  constructor(score: unknown) {
    super(`dedupFunction(a, b) must return a number in [0, 1], got ${describeValue(score)}`);
  }
}

/**
 * A grouping function of scope alone. A grouping's `scope` is checked already (`checkedScope`: a throw names
 * `scope`), so it is used as it is: a wrapper that named its throws again passed them on unchanged.
 */
export function scopeGroup<T>({ scope }: Pick<Grouping<T>, 'scope'>): (item: T) => unknown {
  return scope ?? (() => undefined);
}
