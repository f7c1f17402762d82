import fc from 'fast-check';
import { similarity } from 'ml-distance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricByName } from '../src/dedup/metric.js';
import { MalformedEmbeddingError, setSmallBatch, vectorLeaders } from '../src/dedup/vectorLeaders.js';

/**
 * The small-batch path of vectorLeaders.ts (every pair checked on its head of coordinates, then scored; no leader
 * columns), held to the specification: the naive all-pairs loop over ml-distance's cosine, greedy in arrival
 * order, the earliest leader on a tie, the guard asked for the same pairs in the same order.
 */
const cosine = metricByName('cosine')!;

function naiveLeaders(groups: readonly string[], vectors: readonly ArrayLike<number>[], threshold: number, allow?: (l: number, c: number) => boolean): number[] {
  const leaderOf: number[] = [];
  const leaders: number[] = [];
  vectors.forEach((v, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (const l of leaders) {
      if (groups[l] !== groups[i]) continue;
      const raw = similarity.cosine(Array.from(vectors[l]!), Array.from(v));
      const s = Number.isNaN(raw) ? 0 : Math.min(1, Math.max(0, raw));
      if (s >= threshold && s > bestScore && (!allow || allow(l, i))) {
        best = l;
        bestScore = s;
      }
    }
    if (best === -1) leaders.push(i);
    leaderOf.push(best === -1 ? i : best);
  });
  return leaderOf;
}

function search(groups: readonly string[], vectors: readonly ArrayLike<number>[], dims: number, threshold: number, allow?: (l: number, c: number) => boolean): number[] {
  return vectorLeaders(groups, vectors.map((_, i) => i), vectors, dims, cosine, threshold, allow);
}

/** The vector as the semantic deduper hands it over (32-bit), or as numbers rounded to 32 bits. */
function rowOf(f32: boolean, v: number[]): ArrayLike<number> {
  return f32 ? Float32Array.from(v) : Array.from(Float32Array.from(v));
}

/** The next double above (up = 1) or below (up = -1) x, for x > 0. */
function nextDouble(x: number, up: 1 | -1): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + BigInt(up));
  return view.getFloat64(0);
}

/**
 * A batch near a threshold: fresh random directions, and near copies of earlier vectors at noise levels that put
 * their cosine from about 0.9 to 0.99999, some exact copies and some scaled copies.
 */
const nearBatch = fc.record({
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
  size: fc.integer({ min: 2, max: 64 }),
  dims: fc.constantFrom(16, 17, 48, 100, 384),
  f32: fc.boolean(),
  twoGroups: fc.boolean(),
});

function buildNear({ seed, size, dims, f32, twoGroups }: { seed: number; size: number; dims: number; f32: boolean; twoGroups: boolean }) {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
  const raw: number[][] = [];
  for (let i = 0; i < size; i++) {
    const r = (random() + 1) / 2;
    const earlier = i > 0 ? raw[Math.floor(((random() + 1) / 2) * i) % i]! : undefined;
    let v: number[];
    if (!earlier || r < 0.35) v = Array.from({ length: dims }, random);
    else if (r < 0.45) v = [...earlier];
    else if (r < 0.5) v = earlier.map((x) => x * 3);
    else {
      const noise = [0.003, 0.01, 0.03, 0.08, 0.15, 0.25][Math.floor(((random() + 1) / 2) * 6) % 6]!;
      v = earlier.map((x) => x + noise * random());
    }
    raw.push(v);
  }
  const vectors = raw.map((v) => rowOf(f32, v));
  const groups = vectors.map((_, i) => (twoGroups && i % 3 === 0 ? 'g2' : 'g1'));
  return { vectors, groups };
}

describe('vectorLeaders, small-batch path: identical to the naive loop', () => {
  let was = 0;
  beforeAll(() => {
    was = setSmallBatch(Number.MAX_SAFE_INTEGER); // every batch takes the small path
  });
  afterAll(() => {
    setSmallBatch(was);
  });

  it('random vectors and near copies around thresholds from 0.5 to 0.999 (16 to 384 dimensions)', () => {
    fc.assert(
      fc.property(nearBatch, fc.constantFrom(0.5, 0.9, 0.95, 0.98, 0.99, 0.999), (spec, threshold) => {
        const { vectors, groups } = buildNear(spec);
        expect(search(groups, vectors, spec.dims, threshold)).toEqual(naiveLeaders(groups, vectors, threshold));
      }),
      { numRuns: 200 },
    );
  });

  it('a threshold exactly at a pair\'s score, or one double above or below it: the pair merges exactly when the naive loop merges it', () => {
    fc.assert(
      fc.property(nearBatch, fc.nat(), fc.nat(), fc.constantFrom(0, 1, -1), (spec, i, j, step) => {
        const { vectors, groups } = buildNear(spec);
        const a = i % vectors.length;
        const b = j % vectors.length;
        const score = similarity.cosine(Array.from(vectors[a]!), Array.from(vectors[b]!));
        fc.pre(score > 1e-6 && score < 1);
        const threshold = step === 0 ? score : nextDouble(score, step as 1 | -1);
        expect(search(groups, vectors, spec.dims, threshold)).toEqual(naiveLeaders(groups, vectors, threshold));
      }),
      { numRuns: 300 },
    );
  });

  it('exact ties (small integer coordinates, so equal scores are equal to the bit): the earliest leader wins, and the guard is asked the same pairs in the same order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 40 }).chain((dims) =>
          fc.record({
            dims: fc.constant(dims),
            vectors: fc.array(fc.array(fc.integer({ min: -1, max: 1 }), { minLength: dims, maxLength: dims }), { minLength: 2, maxLength: 40 }),
          }),
        ),
        fc.nat(),
        fc.nat(),
        fc.integer({ min: 2, max: 4 }),
        ({ dims, vectors }, i, j, modulus) => {
          const groups = vectors.map(() => 'g');
          // At the score of one of the batch's pairs: many pairs of such vectors share it exactly.
          const threshold = Math.max(1e-3, similarity.cosine(vectors[i % vectors.length]!, vectors[j % vectors.length]!) || 0);
          const asked: string[] = [];
          const naiveAsked: string[] = [];
          const guard = (log: string[]) => (l: number, c: number) => {
            log.push(`${l}-${c}`);
            return (l + c) % modulus !== 0;
          };
          expect(search(groups, vectors, dims, threshold, guard(asked))).toEqual(naiveLeaders(groups, vectors, threshold, guard(naiveAsked)));
          expect(asked).toEqual(naiveAsked);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('zero vectors, exact copies, opposites and tiny or huge scales (rows outside the bounds\' range are scored in full)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 16, max: 64 }),
        fc.array(
          fc.record({
            kind: fc.constantFrom('fresh', 'copy', 'opposite', 'zero', 'near'),
            of: fc.nat(),
            scale: fc.constantFrom(1, 1e-3, 1e3, 1e-76, 1e75),
            seed: fc.integer({ min: 1, max: 2 ** 30 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.constantFrom(0, 1e-12, 0.3, 0.9, 0.98, 1 - 1e-12, 1),
        (dims, specs, threshold) => {
          const vectors: number[][] = [];
          for (const spec of specs) {
            let state = spec.seed;
            const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
            const earlier = vectors.length > 0 ? vectors[spec.of % vectors.length]! : undefined;
            let v: number[];
            if (spec.kind === 'zero') v = new Array<number>(dims).fill(0);
            else if (spec.kind === 'copy' && earlier) v = [...earlier];
            else if (spec.kind === 'opposite' && earlier) v = earlier.map((x) => -x);
            else if (spec.kind === 'near' && earlier) v = earlier.map((x) => x * (1 + 0.01 * random()));
            else v = Array.from({ length: dims }, () => random() * spec.scale);
            vectors.push(v);
          }
          const groups = vectors.map(() => 'g');
          expect(search(groups, vectors, dims, threshold)).toEqual(naiveLeaders(groups, vectors, threshold));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('one search started from inside another (a guard that deduplicates): both get the naive loop\'s leaders', () => {
    fc.assert(
      fc.property(nearBatch, nearBatch, (outer, inner) => {
        const a = buildNear(outer);
        const b = buildNear(inner);
        const innerExpected = naiveLeaders(b.groups, b.vectors, 0.95);
        const guard = () => {
          expect(search(b.groups, b.vectors, inner.dims, 0.95)).toEqual(innerExpected);
          return true;
        };
        expect(search(a.groups, a.vectors, outer.dims, 0.9, guard)).toEqual(naiveLeaders(a.groups, a.vectors, 0.9));
      }),
      { numRuns: 40 },
    );
  });

  it('batches of every size and length one after another (the numbers kept from one search serve the next)', () => {
    fc.assert(
      fc.property(fc.array(nearBatch, { minLength: 2, maxLength: 6 }), (specs) => {
        for (const spec of specs) {
          const { vectors, groups } = buildNear(spec);
          expect(search(groups, vectors, spec.dims, 0.98)).toEqual(naiveLeaders(groups, vectors, 0.98));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a row with a non-finite coordinate is refused as the column path refuses it (MalformedEmbeddingError: the score is NaN)', () => {
    const dims = 32;
    const good = Array.from({ length: dims }, (_, d) => Math.sin(d + 1));
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const row = [...good];
      row[5] = bad;
      const vectors = [good, row];
      expect(() => search(['g', 'g'], vectors, dims, 0.9)).toThrow(MalformedEmbeddingError);
      const was = setSmallBatch(0);
      try {
        expect(() => search(['g', 'g'], vectors, dims, 0.9)).toThrow(MalformedEmbeddingError);
      } finally {
        setSmallBatch(was);
      }
    }
  });
});

describe('vectorLeaders at its default small-batch limit', () => {
  it('batches on both sides of the limit (1 to 130 candidates) get the naive loop\'s leaders', () => {
    fc.assert(
      fc.property(nearBatch, fc.integer({ min: 1, max: 130 }), (spec, size) => {
        const { vectors, groups } = buildNear({ ...spec, size, dims: 48 });
        expect(search(groups, vectors, 48, 0.95)).toEqual(naiveLeaders(groups, vectors, 0.95));
      }),
      { numRuns: 60 },
    );
  });

  it('setSmallBatch returns the setting it replaces, and undefined restores the default', () => {
    const was = setSmallBatch(7);
    expect(setSmallBatch(undefined)).toBe(7);
    expect(setSmallBatch(was)).toBe(was);
  });
});
