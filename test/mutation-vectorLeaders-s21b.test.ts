/**
 * src/dedup/vectorLeaders.ts lines 724-913 (CosineRows from the candidate's picks on: its largest coordinates and
 * the limits of the first checks, `classify`, `score`; MalformedEmbeddingError; `copyVectors`), where the stop-21
 * mutation run found behaviour no test guarded. As in test/mutation-vectorLeaders-s20, the rows are handed over
 * behind a Proxy that counts every coordinate read: most edits there give the same leaders, only with more work
 * (a bound made looser, the picks thrown away), and the leaders must always be the naive all-pairs loop's.
 */
import { similarity } from 'ml-distance';
import { afterEach, describe, expect, it } from 'vitest';
import { metricByName } from '../src/dedup/metric.js';
import { allowColumnKernel, setSmallBatch, vectorLeaders } from '../src/dedup/vectorLeaders.js';

const cosine = metricByName('cosine')!;

function lcg(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

/** The rows behind proxies that count the coordinates read (`reads.n`); `length` is not counted. */
function counted<T extends ArrayLike<number>>(rows: T[], reads: { n: number }): T[] {
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

/** The specification: every pair with ml-distance's cosine, greedy in arrival order. */
function naive(vectors: readonly ArrayLike<number>[], threshold: number): number[] {
  const leaderOf: number[] = [];
  const leaders: number[] = [];
  vectors.forEach((v, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (const l of leaders) {
      const raw = similarity.cosine(Array.from(vectors[l]!), Array.from(v));
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
function run(vectors: readonly ArrayLike<number>[], dims: number, threshold: number): { leaders: number[]; readsPerCoordinate: number } {
  const reads = { n: 0 };
  const leaders = vectorLeaders(vectors.map(() => 'g'), vectors.map((_, i) => i), counted([...vectors], reads), dims, cosine, threshold);
  return { leaders, readsPerCoordinate: reads.n / (vectors.length * dims) };
}

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s, rows of numbers (picked in JavaScript): the candidate\'s largest coordinates', (_scan, wasm) => {
  let allowed: boolean | undefined;
  afterEach(() => {
    if (allowed !== undefined) allowColumnKernel(allowed);
    allowed = undefined;
  });

  it('a coordinate whose square is exactly the pick floor is picked: 8 of them are enough, the rest is not read again', () => {
    allowed = allowColumnKernel(wasm);
    const random = lcg(71);
    const dims = 32;
    // 8 coordinates of +-1 at random dimensions, zeros elsewhere: squared norm 8, floor 8 * 4 / 32 = 1, exactly
    // each coordinate's square. Unrelated pairs (cosine at most 0.75 for distinct sets of dimensions).
    const rows = Array.from({ length: 100 }, () => {
      const v = new Array<number>(dims).fill(0);
      for (let k = 0; k < 8; ) {
        const d = Math.floor(((random() + 1) / 2) * dims) % dims;
        if (v[d] === 0) {
          v[d] = random() < 0 ? -1 : 1;
          k++;
        }
      }
      return v;
    });
    const { leaders, readsPerCoordinate } = run(rows, dims, 0.9);
    expect(leaders).toEqual(naive(rows, 0.9));
    // Norms 1, picks 1, the 8 picked and their values 0.5, the leaders' columns 1: 3.5. Without the picks, every
    // coordinate is looked at again (1 more) and 16 values read (0.25 more).
    expect(readsPerCoordinate).toBeLessThan(3.75);
  });

  it('a candidate with fewer than 8 picks looks at every coordinate for its largest (uniform random rows at 0.98: none picked)', () => {
    allowed = allowColumnKernel(wasm);
    const random = lcg(73);
    const dims = 384;
    const rows = Array.from({ length: 200 }, () => Array.from({ length: dims }, random));
    const { leaders, readsPerCoordinate } = run(rows, dims, 0.98);
    expect(leaders).toEqual(naive(rows, 0.98));
    // Norms 1, the floor's pass 1, every coordinate for the largest 1, the leaders' columns 1: about 4, the pairs
    // nearly all refused on the 16 largest. With the 16 largest taken among no picks, nothing is refused before
    // `classify`, which reads 24 coordinates of each pair at least: about 6 more.
    expect(readsPerCoordinate).toBeLessThan(5);
  });
});
