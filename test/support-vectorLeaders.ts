/**
 * What the tests of src/dedup/vectorLeaders.ts share (test/mutation-vectorLeaders-*): the naive all-pairs
 * specification, rows behind a Proxy that counts coordinate reads (the work the search promises to spare), and
 * seeded vectors.
 */
import { similarity } from 'ml-distance';
import { metricByName } from '../src/dedup/metric.js';
import { vectorLeaders } from '../src/dedup/vectorLeaders.js';

export const cosine = metricByName('cosine')!;

export function lcg(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

/** The rows behind proxies that count the coordinates read (`reads.n`); `length` is not counted. */
export function counted<T extends ArrayLike<number>>(rows: readonly T[], reads: { n: number }): T[] {
  return rows.map(
    (row) =>
      new Proxy(row, {
        get(target, key) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads.n++;
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      }),
  );
}

/** n vectors, each with 8 large coordinates at random dimensions and small noise elsewhere: unrelated pairs. */
export function peaked(n: number, dims: number, seed: number, scale = 1): number[][] {
  const random = lcg(seed);
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: dims }, () => 0.01 * random() * scale);
    for (let k = 0; k < 8; k++) v[Math.floor(((random() + 1) / 2) * dims) % dims] = (1 + 0.5 * random()) * scale;
    return v;
  });
}

/** The specification: every pair (of a group) with ml-distance's cosine, greedy in arrival order. */
export function naive(vectors: readonly ArrayLike<number>[], threshold: number, groups?: readonly string[]): number[] {
  const leaderOf: number[] = [];
  const leaders: number[] = [];
  const arrays = vectors.map((v) => Array.from(v));
  arrays.forEach((v, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (const l of leaders) {
      if (groups && groups[l] !== groups[i]) continue;
      const raw = similarity.cosine(arrays[l]!, v);
      const s = Number.isNaN(raw) ? 0 : Math.min(1, Math.max(0, raw));
      if (s >= threshold && s > bestScore) {
        best = l;
        bestScore = s;
      }
    }
    if (best === -1) leaders.push(i);
    leaderOf.push(best === -1 ? i : best);
  });
  return leaderOf;
}

/** One group, the rows counted: the leaders and the coordinates read per coordinate of the batch. */
export function run(
  vectors: readonly ArrayLike<number>[],
  dims: number,
  threshold: number,
  groups: readonly string[] = vectors.map(() => 'g'),
  leadersOf: typeof vectorLeaders = vectorLeaders,
): { leaders: number[]; readsPerCoordinate: number } {
  const reads = { n: 0 };
  const leaders = leadersOf(groups, vectors.map((_, i) => i), counted(vectors, reads), dims, cosine, threshold);
  return { leaders, readsPerCoordinate: reads.n / (vectors.length * dims) };
}
