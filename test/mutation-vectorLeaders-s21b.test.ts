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

/**
 * The reads of the leaders' rows that one candidate costs: `leaders` (a multiple of 4 rows, so that the norms'
 * pass, four rows at a time, reads them alike with the candidate or without) searched with and without `candidate`
 * after them. A pair the first checks refuse reads nothing of the leader's row (its column entries were written
 * when it became a leader); a pair they let through reads it (`classify`, then maybe the score).
 */
function leaderReadsOf(leaders: readonly ArrayLike<number>[], candidate: ArrayLike<number>, dims: number, threshold: number): number {
  expect(leaders.length % 4).toBe(0);
  const perRow = (rows: readonly ArrayLike<number>[]): { leaders: number[]; reads: number[] } => {
    const reads = rows.map(() => ({ n: 0 }));
    const watched = rows.map((row, i) => counted([row], reads[i]!)[0]!);
    const got = vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), watched, dims, cosine, threshold);
    expect(got).toEqual(naive(rows, threshold));
    return { leaders: got, reads: reads.map((r) => r.n) };
  };
  const without = perRow(leaders);
  const withIt = perRow([...leaders, candidate]);
  // Each leader leads, and so does the candidate.
  expect(withIt.leaders).toEqual([...leaders, candidate].map((_, i) => i));
  return leaders.reduce((sum, _, i) => sum + withIt.reads[i]! - without.reads[i]!, 0);
}

/** n rows unrelated to each other, in dimensions `from` to `dims` only (orthogonal to anything outside them). */
function fillers(n: number, dims: number, from: number, seed: number): number[][] {
  const random = lcg(seed);
  return Array.from({ length: n }, () => Array.from({ length: dims }, (_, d) => (d < from ? 0 : random())));
}

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s: each of the three first checks refuses what it should', (_scan, wasm) => {
  let allowed: boolean | undefined;
  afterEach(() => {
    if (allowed !== undefined) allowColumnKernel(allowed);
    allowed = undefined;
  });
  const dims = 384;
  const threshold = 0.9;

  it('the check on the 16 largest: a smaller coordinate met after them takes no slot of theirs', () => {
    allowed = allowColumnKernel(wasm);
    // The candidate: 16 coordinates of 1 (dimensions 0-15), then 16 of 0.5 (16-31), all picked; squared norm 20.
    // Its 16 largest leave a rest of 4 / 20: the last check's limit is 0.9 - 0.447. A leader of 1 on dimensions
    // 0-14 and 0 on 15 (cosine 0.433 over those) passes the checks on 4 and 8 and is refused on 16; with a 0.5 in
    // the 16th slot instead of dimension 15 (the rest then 4.75 / 20: limit 0.9 - 0.487), it would pass them all.
    const candidate = Array.from({ length: dims }, (_, d) => (d < 16 ? 1 : d < 32 ? 0.5 : 0));
    const random = lcg(79);
    const special = Array.from({ length: dims }, (_, d) => (d < 15 ? 1 : d < 32 ? 0 : random()));
    const rest = special.reduce((s, x, d) => s + (d >= 32 ? x * x : 0), 0);
    // The part outside the candidate's dimensions scaled to 45: |v|^2 = 60.
    const scaled = special.map((x, d) => (d >= 32 ? x * Math.sqrt(45 / rest) : x));
    expect(similarity.cosine(candidate, scaled)).toBeCloseTo(0.433, 3);
    const leaders = [scaled, ...fillers(71, dims, 32, 83)];
    expect(leaderReadsOf(leaders, candidate, dims, threshold)).toBe(0);
  });

  it('the check on the 4 largest: they are the 4 largest, whatever order the coordinates come in', () => {
    allowed = allowColumnKernel(wasm);
    // The candidate: 2 on dimensions 0-3, 1 on 4-15, 0.5 on 16-31; squared norm 32. A leader of -0.1 on 0-3 and 1
    // on 4-15 (cosine 0.559, |v|^2 12.54) is refused on the 4 largest; on any other 4 of the 16 (where it is
    // positive), it would pass all three checks (the last one's limit 0.9 - 0.354).
    const candidate = Array.from({ length: dims }, (_, d) => (d < 4 ? 2 : d < 16 ? 1 : d < 32 ? 0.5 : 0));
    const random = lcg(89);
    const special = Array.from({ length: dims }, (_, d) => (d < 4 ? -0.1 : d < 16 ? 1 : d < 32 ? 0 : random()));
    const rest = special.reduce((s, x, d) => s + (d >= 32 ? x * x : 0), 0);
    const scaled = special.map((x, d) => (d >= 32 ? x * Math.sqrt(0.5 / rest) : x));
    expect(similarity.cosine(candidate, scaled)).toBeCloseTo(0.559, 3);
    const leaders = [scaled, ...fillers(71, dims, 32, 97)];
    expect(leaderReadsOf(leaders, candidate, dims, threshold)).toBe(0);
  });
});
