/**
 * src/dedup/vectorLeaders.ts lines 724-913 (CosineRows from the candidate's picks on: its largest coordinates and
 * the limits of the first checks, `classify`, `score`; MalformedEmbeddingError; `copyVectors`), where the stop-21
 * mutation run found behaviour no test guarded. As in test/mutation-vectorLeaders-s20, the rows are handed over
 * behind a Proxy that counts every coordinate read: most edits there give the same leaders, only with more work
 * (a bound made looser, the picks thrown away), and the leaders must always be the naive all-pairs loop's.
 */
import { similarity } from 'ml-distance';
import { afterEach, describe, expect, it } from 'vitest';
import { allowColumnKernel, copyVectors, MalformedEmbeddingError, setSmallBatch, vectorLeaders } from '../src/dedup/vectorLeaders.js';
import { cosine, counted, lcg, naive, run } from './support-vectorLeaders.js';

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

  // The candidate of the next two: 1 on dimensions 0-3, 0.9 on 4-15 (its 16 largest, all picked), 0.3 on 16-111
  // (not picked); squared norm 22.36. The limits of the checks on its 4, 8 and 16 largest: 0.9 less 0.906, 0.822
  // and 0.621 (the norm of the rest over its norm, and the margins): -0.006, 0.078, 0.279.
  const wide = Array.from({ length: dims }, (_, d) => (d < 4 ? 1 : d < 16 ? 0.9 : d < 112 ? 0.3 : 0));
  /** A leader of the given values on dimensions 0-15, and outside the candidate's dimensions a part of squared norm `w`. */
  function leaderOf(head: (d: number) => number, w: number, seed: number): number[] {
    const random = lcg(seed);
    const v = Array.from({ length: dims }, (_, d) => (d < 16 ? head(d) : d < 112 ? 0 : random()));
    const rest = v.reduce((sum, x, d) => sum + (d >= 112 ? x * x : 0), 0);
    return v.map((x, d) => (d >= 112 ? x * Math.sqrt(w / rest) : x));
  }

  it('the check on the 4 largest refuses by itself: a leader below its limit there, above the next two limits', () => {
    allowed = allowColumnKernel(wasm);
    // -0.1 on 0-3, 1 on 4-15: its sums over the 4, 8 and 16 largest (over both norms) -0.021, 0.169, 0.549
    // (cosine 0.549): refused on the 4 only.
    const special = leaderOf((d) => (d < 4 ? -0.1 : 1), 4, 101);
    expect(similarity.cosine(wide, special)).toBeCloseTo(0.549, 3);
    const leaders = [special, ...fillers(71, dims, 112, 103)];
    expect(leaderReadsOf(leaders, wide, dims, threshold)).toBe(0);
  });

  it('the check on the 8 largest refuses by itself: a leader below its limit there, above the other two limits', () => {
    allowed = allowColumnKernel(wasm);
    // 1 on 8-15 only: its sums over the 4, 8 and 16 largest 0, 0, 0.381 (cosine 0.381): refused on the 8 only.
    const special = leaderOf((d) => (d < 8 ? 0 : 1), 8, 107);
    expect(similarity.cosine(wide, special)).toBeCloseTo(0.381, 3);
    const leaders = [special, ...fillers(71, dims, 112, 109)];
    expect(leaderReadsOf(leaders, wide, dims, threshold)).toBe(0);
  });

  it('a candidate whose norm is all in its 16 largest coordinates: a leader at cosine 0.6 there is refused on them, nothing of its row read', () => {
    allowed = allowColumnKernel(wasm);
    // The rest is 0 (to rounding): the last check's limit is the threshold less the margins, and the leader (the
    // candidate on its 16 dimensions, and as much again and more elsewhere: cosine 0.6) passes the first two checks
    // (0.23 and 0.40 against limits 0.11 and 0.32) and is refused on the third.
    const candidate = Array.from({ length: dims }, (_, d) => (d < 16 ? 1 + d / 16 : 0));
    const sum = candidate.reduce((s, x) => s + x * x, 0);
    const random = lcg(131);
    const outside = Array.from({ length: dims }, (_, d) => (d < 16 ? 0 : random()));
    const w = outside.reduce((s, x) => s + x * x, 0);
    const leader = candidate.map((x, d) => (d < 16 ? x : outside[d]! * Math.sqrt((sum * (1 / 0.36 - 1)) / w)));
    expect(similarity.cosine(candidate, leader)).toBeCloseTo(0.6, 6);
    const leaders = [leader, ...fillers(71, dims, 16, 137)];
    expect(leaderReadsOf(leaders, candidate, dims, threshold)).toBe(0);
  });

  it('a leader just above the limit of the check on the 8 largest is not refused there: it merges, as in the naive loop', () => {
    allowed = allowColumnKernel(wasm);
    // The candidate: 1 on dimensions 0-15 (picked, its 8 largest the first 8), 0.5 on 16-215; squared norm 66. The
    // limit of the check on its 8 largest: 0.9 - sqrt(58 / 66) = -0.037; with a 9th coordinate counted out of the
    // rest, -0.029. The leader: the candidate with -0.25 on dimensions 0-7: its sum over the 8 largest -0.032, in
    // between, and its cosine 0.901: it merges.
    const candidate = Array.from({ length: dims }, (_, d) => (d < 16 ? 1 : d < 216 ? 0.5 : 0));
    const leader = candidate.map((x, d) => (d < 8 ? -0.25 : x));
    expect(similarity.cosine(candidate, leader)).toBeCloseTo(0.901, 3);
    const rows = [leader, ...fillers(71, dims, 216, 113), candidate];
    const leaders = vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), rows, dims, cosine, threshold);
    expect(leaders).toEqual(naive(rows, threshold));
    expect(leaders[72]).toBe(0);
  });
});

/** The message copyVectors throws for an answer (a MalformedEmbeddingError), or 'accepted'. */
function refusal(vectors: unknown, count: number, dimensions?: number, shared = false): string {
  try {
    copyVectors(vectors, count, dimensions, shared);
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(MalformedEmbeddingError);
    expect((error as Error).name).toBe('MalformedEmbeddingError');
    return (error as Error).message;
  }
}

describe('copyVectors: what it refuses, and with which words', () => {
  it.each([true, false])('an answer that is not an array is refused as such, even one that looks like an array of vectors (shared %s)', (shared) => {
    expect(refusal({ length: 2, 0: [1, 2], 1: [3, 4] }, 2, undefined, shared)).toBe('malformed embeddings: expected an array of vectors, got object');
    expect(refusal(Float32Array.of(1, 2), 2, undefined, shared)).toBe('malformed embeddings: expected an array of vectors, got object');
    expect(refusal('ab', 2, undefined, shared)).toBe('malformed embeddings: expected an array of vectors, got string');
    expect(refusal(undefined, 0, undefined, shared)).toBe('malformed embeddings: expected an array of vectors, got undefined');
  });

  it.each([true, false])('one vector more or fewer than the texts is refused (shared %s)', (shared) => {
    expect(refusal([[1], [2]], 3, undefined, shared)).toBe('malformed embeddings: expected 3 vectors, got 2');
    expect(refusal([[1], [2]], 1, undefined, shared)).toBe('malformed embeddings: expected 1 vectors, got 2');
    expect(refusal([], 1, undefined, shared)).toBe('malformed embeddings: expected 1 vectors, got 0');
  });

  it.each([true, false])('a vector that is not an array-like of numbers is refused as such (shared %s)', (shared) => {
    for (const bad of ['ab', 12, true, null, undefined, {}, { length: '2', 0: 1, 1: 2 }]) {
      expect(refusal([[1, 2], bad], 2, undefined, shared)).toBe('malformed embeddings: vector 1 is not an array of numbers');
      expect(refusal([bad, [1, 2]], 2, 2, shared)).toBe('malformed embeddings: vector 0 is not an array of numbers');
    }
  });

  it.each([true, false])('a coordinate that is not a finite number is refused, in an array or a typed array (shared %s)', (shared) => {
    expect(refusal([[1, 2], [1, '2']], 2, undefined, shared)).toBe('malformed embeddings: vector 1 has 2 at dimension 1');
    expect(refusal([['1', 2]], 1, undefined, shared)).toBe('malformed embeddings: vector 0 has 1 at dimension 0');
    expect(refusal([[1, , 3]], 1, undefined, shared)).toBe('malformed embeddings: vector 0 has undefined at dimension 1');
    expect(refusal([[1, 2n, 3]], 1, undefined, shared)).toBe('malformed embeddings: vector 0 has 2 at dimension 1');
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      for (let at = 0; at < 9; at++) {
        const row = Array.from({ length: 9 }, (_, d) => (d === at ? bad : d + 1));
        const expected = `malformed embeddings: vector 1 has ${String(bad)} at dimension ${at}`;
        expect(refusal([Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), Float32Array.from(row)], 2, undefined, shared)).toBe(expected);
        expect(refusal([Float64Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), Float64Array.from(row)], 2, undefined, shared)).toBe(expected);
        expect(refusal([[1, 2, 3, 4, 5, 6, 7, 8, 9], row], 2, undefined, shared)).toBe(expected);
      }
    }
  });

  it.each([true, false])('a vector of the wrong length, or of none, is refused (shared %s)', (shared) => {
    expect(refusal([[1, 2], [1, 2, 3]], 2, undefined, shared)).toBe('malformed embeddings: vector 1 has 3 dimensions, expected 2');
    expect(refusal([[1, 2]], 1, 3, shared)).toBe('malformed embeddings: vector 0 has 2 dimensions, expected 3');
    expect(refusal([[], []], 2, undefined, shared)).toBe('malformed embeddings: vector 0 has 0 dimensions, expected 0');
    expect(refusal([[]], 1, 0, shared)).toBe('malformed embeddings: vector 0 has 0 dimensions, expected 0');
    expect(refusal([], 0, undefined, shared)).toBe('accepted');
    expect(copyVectors([], 0, undefined, shared)).toEqual({ length: 0, vectors: [], buffer: undefined });
    expect(copyVectors([], 0, 5, shared)).toEqual({ length: 5, vectors: [], buffer: undefined });
  });

  it('MalformedEmbeddingError names itself and says what was malformed', () => {
    const error = new MalformedEmbeddingError('something');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MalformedEmbeddingError');
    expect(error.message).toBe('malformed embeddings: something');
    expect(String(error)).toBe('MalformedEmbeddingError: malformed embeddings: something');
  });
});

describe('copyVectors: one pass over each vector the embedder answered', () => {
  it.each([true, false])('a 32-bit vector of finite numbers is read once, whatever its length (shared %s)', (shared) => {
    for (let length = 1; length <= 9; length++) {
      const reads = { n: 0 };
      const rows = Array.from({ length: 3 }, (_, i) => Float32Array.from({ length }, (_, d) => i * 10 + d + 0.5));
      const { vectors } = copyVectors(counted(rows, reads), 3, undefined, shared);
      expect(vectors.map((v) => Array.from(v))).toEqual(rows.map((v) => Array.from(v)));
      expect(reads.n).toBe(3 * length);
    }
  });

  it.each([true, false])('an array of numbers is read once too (shared %s)', (shared) => {
    const reads = { n: 0 };
    const rows = Array.from({ length: 3 }, (_, i) => Array.from({ length: 7 }, (_, d) => i - d / 3));
    const { vectors } = copyVectors(counted(rows, reads), 3, 7, shared);
    expect(vectors.map((v) => Array.from(v))).toEqual(rows.map((v) => Array.from(Float32Array.from(v))));
    expect(reads.n).toBe(3 * 7);
  });
});

describe.each([
  ['the small batch\'s way (every pair to classify)', 64],
  ['the leader columns', 0],
])('vectorLeaders, %s: no coordinate past a row\'s length is read', (_path, limit) => {
  it('near copies in 5 to 80 dimensions: every pair read to the end, never past it', () => {
    const was = setSmallBatch(limit);
    try {
      for (let dims = 5; dims <= 80; dims += 3) {
        const random = lcg(dims);
        const originals = Array.from({ length: 6 }, () => Array.from({ length: dims }, random));
        // Near copies (merge), copies scaled (cosine 1 to rounding: scored to the end) and opposites.
        const rows = [...originals, ...originals.map((v) => v.map((x) => x + 0.01 * random())), ...originals.map((v) => v.map((x) => -2 * x))];
        const past: string[] = [];
        const watched = rows.map(
          (row) =>
            new Proxy(row, {
              get(target, key) {
                if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) >= dims) past.push(key);
                return Reflect.get(target, key, target) as unknown;
              },
            }),
        );
        const leaders = vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), watched, dims, cosine, 0.9);
        expect(leaders).toEqual(naive(rows, 0.9));
        expect(past).toEqual([]);
      }
    } finally {
      setSmallBatch(was);
    }
  });
});

describe('vectorLeaders, small batch: a pair `classify` reads to the end and finds below the threshold is not scored', () => {
  it('16 rows at cosine about 0.8 to each other, threshold 0.9: each pair read once, to a checkpoint or the end, and no score', () => {
    const random = lcg(139);
    const dims = 64;
    const base = Array.from({ length: dims }, random);
    // Each row the base plus noise half its size: cosine about 0.8 between rows, too far to merge, and many pairs
    // too close for a checkpoint to refuse.
    const rows = Array.from({ length: 16 }, () => base.map((x) => x + 0.5 * random()));
    const { leaders, readsPerCoordinate } = run(rows, dims, 0.9);
    expect(leaders).toEqual(naive(rows, 0.9));
    expect(leaders).toEqual(rows.map((_, i) => i));
    // Norms 1, the 120 pairs each read to a checkpoint or to the end (both rows): about 11.6 in all. Scoring the
    // pairs read to the end as well: about 6 more.
    expect(readsPerCoordinate).toBeLessThan(14);
  });
});
