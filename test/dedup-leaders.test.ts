import fc from 'fast-check';
import { similarity } from 'ml-distance';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricByName } from '../src/dedup/metric.js';
import { allowColumnKernel, columnKernelInUse, copyVectors, MalformedEmbeddingError, setSmallBatch, vectorLeaders } from '../src/dedup/vectorLeaders.js';

/** The specification, written the obvious way: all pairs with ml-distance's cosine, greedy in arrival order. */
function naiveLeaders(groups: string[], vectors: number[][], threshold: number): number[] {
  return naiveWith((a, b) => similarity.cosine(a, b), groups, vectors, threshold);
}

describe('vectorLeaders (cosine with early exit)', () => {
  it('assigns exactly the leaders the naive all-pairs loop assigns', () => {
    const dims = 16;
    // Vectors near a few centres, so that merges happen at the thresholds tried.
    const vector = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.array(fc.double({ min: -0.3, max: 0.3, noNaN: true }), { minLength: dims, maxLength: dims }));
    fc.assert(
      fc.property(
        fc.array(vector, { minLength: 1, maxLength: 40 }),
        fc.constantFrom(0.5, 0.9, 0.95, 0.99, 1),
        fc.array(fc.constantFrom('g1', 'g2'), { minLength: 40, maxLength: 40 }),
        (specs, threshold, groupPool) => {
          const vectors = specs.map(([centre, noise]) => noise.map((x, d) => x + (d % 4 === centre ? 1 : 0)));
          const groups = vectors.map((_, i) => groupPool[i]!);
          const rows = vectors.map((_, i) => i);
          const fast = vectorLeaders(groups, rows, vectors, dims, metricByName('cosine')!, threshold);
          expect(fast).toEqual(naiveLeaders(groups, vectors, threshold));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('computes cosine as ml-distance does (scores at the threshold boundary merge)', () => {
    const a = [0.3, 0.4, 0.5, 0.1];
    const b = [0.31, 0.38, 0.52, 0.12];
    const exact = similarity.cosine(a, b);
    const merged = vectorLeaders(['g', 'g'], [0, 1], [a, b], 4, metricByName('cosine')!, exact);
    const apart = vectorLeaders(['g', 'g'], [0, 1], [a, b], 4, metricByName('cosine')!, exact + 1e-6);
    expect(merged).toEqual([0, 0]);
    expect(apart).toEqual([0, 1]);
  });

  it('treats a zero vector as similar to nothing', () => {
    expect(vectorLeaders(['g', 'g'], [0, 1], [[0, 0], [0, 0]], 2, metricByName('cosine')!, 0.5)).toEqual([0, 1]);
  });
});

/** The vectors rounded to 32 bits (as numbers, for the naive loop) when `f32`, else as they are. */
function as32(f32: boolean, vectors: number[][]): number[][] {
  return f32 ? vectors.map((v) => Array.from(Float32Array.from(v))) : vectors;
}

/** The naive loop for any metric: every (leader, candidate) pair of a group scored with it, clamped to [0, 1]. */
function naiveWith(score: (a: number[], b: number[]) => number, groups: string[], vectors: number[][], threshold: number, allow?: (l: number, c: number) => boolean): number[] {
  const leaderOf: number[] = [];
  const leaders: number[] = [];
  vectors.forEach((v, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (const l of leaders) {
      if (groups[l] !== groups[i]) continue;
      const raw = score(vectors[l]!, v);
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

/**
 * Hostile batches for the pruned search (vectorLeaders.ts): each vector is a zero vector, a copy of an earlier
 * one, its opposite, a near copy (within the thresholds tried), or fresh; scaled by 1e-76 to 1e75 (rows outside
 * the range the bounds hold for are scored in full); 1 to 40 dimensions, or many.
 */
function hostileBatch(maxDims: number) {
  return fc.integer({ min: 1, max: maxDims }).chain((dims) =>
    fc.record({
      dims: fc.constant(dims),
      specs: fc.array(
        fc.record({
          kind: fc.constantFrom('fresh', 'fresh', 'near', 'near', 'copy', 'opposite', 'zero'),
          of: fc.nat(),
          scale: fc.constantFrom(1, 1, 1, 1e-3, 1e3, 1e-76, 1e75),
          noise: fc.constantFrom(0, 1e-9, 1e-4, 1e-2, 0.1),
          // 0 or at least 1e-3 in magnitude: products of subnormal numbers round to 0, where ml-distance's formula
          // gives 0/0 (the library calls that malformed, the naive loop here a score of 0).
          seed: fc.array(fc.double({ min: -1, max: 1, noNaN: true }).map((x) => (Math.abs(x) < 1e-3 ? 0 : x)), { minLength: dims, maxLength: dims }),
          sparse: fc.boolean(),
        }),
        { minLength: 1, maxLength: 30 },
      ),
      threshold: fc.constantFrom(0, 1e-12, 0.3, 0.9, 0.98, 0.999, 1 - 1e-12, 1),
      groupPool: fc.array(fc.constantFrom('g1', 'g2'), { minLength: 30, maxLength: 30 }),
    }),
  );
}

function buildVectors(dims: number, specs: { kind: string; of: number; scale: number; noise: number; seed: number[]; sparse: boolean }[]): number[][] {
  const vectors: number[][] = [];
  for (const spec of specs) {
    const earlier = vectors.length > 0 ? vectors[spec.of % vectors.length]! : undefined;
    let v: number[];
    if (spec.kind === 'zero') v = new Array<number>(dims).fill(0);
    else if (spec.kind === 'copy' && earlier) v = [...earlier];
    else if (spec.kind === 'opposite' && earlier) v = earlier.map((x) => -x);
    else if (spec.kind === 'near' && earlier) {
      // Noise relative to the largest coordinate: a near copy of a zero vector is a zero vector.
      const size = Math.max(...earlier.map(Math.abs));
      v = earlier.map((x, d) => x + spec.noise * spec.seed[d]! * size);
    }
    else v = spec.seed.map((x, d) => (spec.sparse && d % 3 !== 0 ? 0 : x));
    // Only a fresh vector is scaled: scales compounding down a chain of near copies would reach subnormal numbers.
    vectors.push(spec.kind === 'fresh' || !earlier ? v.map((x) => x * spec.scale) : v);
  }
  return vectors;
}

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s: identical to the naive loop on hostile batches (the pruning of vectorLeaders.ts)', (_scan, wasm) => {
  const cosine = metricByName('cosine')!;
  let allowed = true;
  let small = 0;
  beforeAll(() => {
    allowed = allowColumnKernel(wasm);
    // Every batch through the leader columns, however small (test/dedup-small.test.ts checks the small-batch path).
    small = setSmallBatch(0);
  });
  afterAll(() => {
    allowColumnKernel(allowed);
    setSmallBatch(small);
  });

  it('runs the scan it says it checks (WebAssembly SIMD is there in Node 20)', () => {
    expect(columnKernelInUse()).toBe(wasm);
  });

  it('cosine with several leaders above the threshold per candidate, across blocks of 64 and partial groups of 8', () => {
    // Candidates near a few centres: each meets several leaders at or near the threshold, so the scan restarts
    // after each leader it returns (mid-block, mid-group of 8), in groups whose sizes are not multiples of 8. As
    // numbers or as Float32Array rows (whose candidates are picked, and leaders written, by the WebAssembly kernel).
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 60, max: 150 }), fc.integer({ min: 3, max: 24 }), fc.constantFrom(0.8, 0.9, 0.95), fc.boolean(), (seed, size, dims, threshold, f32) => {
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        const centres = Array.from({ length: 6 }, () => Array.from({ length: dims }, random));
        const vectors = as32(f32, Array.from({ length: size }, () => centres[Math.floor(((random() + 1) / 2) * centres.length) % centres.length]!.map((x) => x + 0.4 * random())));
        const groups = vectors.map((_, i) => (i % 5 === 0 ? 'g2' : 'g1'));
        const fast = vectorLeaders(groups, vectors.map((_, i) => i), f32 ? vectors.map((v) => Float32Array.from(v)) : vectors, dims, cosine, threshold);
        expect(fast).toEqual(naiveLeaders(groups, vectors, threshold));
      }),
      { numRuns: 40 },
    );
  });

  it('cosine, any threshold from 0 to 1: zeros, copies, opposites, near copies, tiny and huge scales, 1 to 40 dimensions', () => {
    fc.assert(
      fc.property(hostileBatch(40), ({ dims, specs, threshold, groupPool }) => {
        const vectors = buildVectors(dims, specs);
        const groups = vectors.map((_, i) => groupPool[i]!);
        const fast = vectorLeaders(groups, vectors.map((_, i) => i), vectors, dims, cosine, threshold);
        expect(fast).toEqual(naiveLeaders(groups, vectors, threshold));
      }),
      { numRuns: 600 },
    );
  });

  it('cosine on Float32Array rows (as the semantic deduper passes them), rows shared by several candidates', () => {
    fc.assert(
      fc.property(hostileBatch(24), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), ({ dims, specs, threshold, groupPool }, picks) => {
        const rowsData = buildVectors(dims, specs).map((v) => Float32Array.from(v));
        // Finite after the cast to 32 bits (1e75 overflows it): as validateVectors would require.
        fc.pre(rowsData.every((v) => v.every((x) => Number.isFinite(x))));
        const rows = picks.map((p) => p % rowsData.length);
        const groups = rows.map((_, i) => groupPool[i % groupPool.length]!);
        const fast = vectorLeaders(groups, rows, rowsData, dims, cosine, threshold);
        const asArrays = rows.map((r) => Array.from(rowsData[r]!));
        expect(fast).toEqual(naiveLeaders(groups, asArrays, threshold));
      }),
      { numRuns: 300 },
    );
  });

  it('cosine in many dimensions (1,000 to 5,000), with near copies at the edge of the threshold, as numbers or Float32Array rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 5000 }), fc.integer({ min: 1, max: 1_000_000 }), fc.constantFrom(0.9, 0.98, 0.999), fc.boolean(), (dims, seed, threshold, f32) => {
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        const vectors: number[][] = [];
        for (let i = 0; i < 12; i++) {
          const base = i > 0 && i % 2 === 0 ? vectors[i - 1]! : Array.from({ length: dims }, random);
          // Noise picked so that some pairs land just above and some just below the threshold.
          const noise = [0, 0.05, 0.1, 0.15, 0.2, 0.3][i % 6]!;
          vectors.push(as32(f32, [base.map((x) => x + noise * random())])[0]!);
        }
        const groups = vectors.map(() => 'g');
        const fast = vectorLeaders(groups, vectors.map((_, i) => i), f32 ? vectors.map((v) => Float32Array.from(v)) : vectors, dims, cosine, threshold);
        expect(fast).toEqual(naiveLeaders(groups, vectors, threshold));
      }),
      { numRuns: 25 },
    );
  });

  it('cosine with hundreds of leaders in one group (more than any table block or batch of pending leaders), near copies among them, as numbers or Float32Array rows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 200, max: 600 }), fc.integer({ min: 2, max: 64 }), fc.constantFrom(0.5, 0.9, 0.98), fc.boolean(), (seed, size, dims, threshold, f32) => {
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        const vectors: number[][] = [];
        for (let i = 0; i < size; i++) {
          // One in four a near copy of an earlier vector (some merge, some just miss), the others fresh: most lead.
          const original = i > 0 && random() > 0.5 ? vectors[Math.floor(((random() + 1) / 2) * i)] : undefined;
          vectors.push(as32(f32, [original ? original.map((x) => x + 0.05 * random()) : Array.from({ length: dims }, random)])[0]!);
        }
        const groups = vectors.map((_, i) => (i % 7 === 0 ? 'g2' : 'g1'));
        const fast = vectorLeaders(groups, vectors.map((_, i) => i), f32 ? vectors.map((v) => Float32Array.from(v)) : vectors, dims, cosine, threshold);
        expect(fast).toEqual(naiveLeaders(groups, vectors, threshold));
      }),
      { numRuns: 12 },
    );
  });

  it('cosine with a merge guard: the same leaders, and the guard asked for the same pairs in the same order', () => {
    fc.assert(
      fc.property(hostileBatch(12), fc.integer({ min: 2, max: 5 }), ({ dims, specs, threshold, groupPool }, modulus) => {
        const vectors = buildVectors(dims, specs);
        const groups = vectors.map((_, i) => groupPool[i]!);
        const asked: string[] = [];
        const naiveAsked: string[] = [];
        const guard = (log: string[]) => (l: number, c: number) => {
          log.push(`${l}-${c}`);
          return (l + c) % modulus !== 0;
        };
        const fast = vectorLeaders(groups, vectors.map((_, i) => i), vectors, dims, cosine, threshold, guard(asked));
        expect(fast).toEqual(naiveWith(similarity.cosine, groups, vectors, threshold, guard(naiveAsked)));
        expect(asked).toEqual(naiveAsked);
      }),
      { numRuns: 300 },
    );
  });

  it('cosine with a guard that runs another search from inside this one: both get the naive loop\'s leaders', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 20, max: 90 }), fc.integer({ min: 4, max: 24 }), fc.constantFrom(0.8, 0.9, 0.95), (seed, size, dims, threshold) => {
        let state = seed;
        const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
        // Outside: candidates near a few centres, so the guard is asked often, between scans of one candidate.
        const centres = Array.from({ length: 4 }, () => Array.from({ length: dims }, random));
        const vectors = Array.from({ length: size }, () => centres[Math.floor(((random() + 1) / 2) * centres.length) % centres.length]!.map((x) => x + 0.4 * random()));
        const groups = vectors.map(() => 'g');
        // Inside: as many unrelated vectors, all leaders, whose columns would land where the outer search's are.
        const inner = Array.from({ length: size }, () => Array.from({ length: dims }, random));
        const innerGroups = inner.map(() => 'g');
        const innerExpected = naiveLeaders(innerGroups, inner, 0.98);
        const guard = () => {
          expect(vectorLeaders(innerGroups, inner.map((_, i) => i), inner, dims, cosine, 0.98)).toEqual(innerExpected);
          return true;
        };
        const fast = vectorLeaders(groups, vectors.map((_, i) => i), vectors, dims, cosine, threshold, guard);
        expect(fast).toEqual(naiveLeaders(groups, vectors, threshold));
      }),
      { numRuns: 40 },
    );
  });

  it('any other metric is called on every pair, as the naive loop does (no bound is assumed for it)', () => {
    const metrics = ['dice', 'tanimoto', 'kumarHassebrook', 'squaredChord'];
    fc.assert(
      fc.property(hostileBatch(8), fc.constantFrom(...metrics), ({ dims, specs, threshold, groupPool }, name) => {
        // Non-negative vectors without zeros: the domain these similarities are defined on.
        const vectors = buildVectors(dims, specs).map((v) => v.map((x) => Math.abs(x) + 0.01));
        const groups = vectors.map((_, i) => groupPool[i]!);
        const metric = metricByName(name)!;
        const calls = { n: 0 };
        const counted = { kind: 'function' as const, name, score: (a: ArrayLike<number>, b: ArrayLike<number>) => (calls.n++, metric.kind === 'function' ? metric.score(a, b) : 0) };
        const fast = vectorLeaders(groups, vectors.map((_, i) => i), vectors, dims, counted, threshold);
        const score = (similarity as unknown as Record<string, (a: number[], b: number[]) => number>)[name]!;
        expect(fast).toEqual(naiveWith(score, groups, vectors, threshold));
        // Each candidate met every leader of its group before it.
        let expected = 0;
        const leadersSoFar = new Map<string, number>();
        fast.forEach((leader, i) => {
          expected += leadersSoFar.get(groups[i]!) ?? 0;
          if (leader === i) leadersSoFar.set(groups[i]!, (leadersSoFar.get(groups[i]!) ?? 0) + 1);
        });
        expect(calls.n).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it("follows ml-distance's formula where it is not the cosine (a squared norm that underflows): no bound is used there", () => {
    // The product of the squared norms underflows to 0, so the formula gives a positive dot product over 0:
    // Infinity, clamped to 1. The cosine is about 0.32, which any bound would refuse at 0.9.
    const a = [1e-79, 1e-79];
    const b = [1e-160, -0.5e-160];
    expect(similarity.cosine(a, b)).toBe(Infinity);
    expect(vectorLeaders(['g', 'g'], [0, 1], [a, b], 2, cosine, 0.9)).toEqual([0, 0]);
    expect(vectorLeaders(['g', 'g'], [0, 1], [b, a], 2, cosine, 0.9)).toEqual([0, 0]);
  });

  it('merges at threshold 0 everything a zero vector meets, and at threshold 1 only exact directions', () => {
    const zero = [0, 0, 0];
    const v = [1, 2, 3];
    const opposite = [-1, -2, -3];
    const scaled = [2, 4, 6];
    expect(vectorLeaders(['g', 'g', 'g'], [0, 1, 2], [v, zero, opposite], 3, cosine, 0)).toEqual([0, 0, 0]);
    expect(vectorLeaders(['g', 'g', 'g'], [0, 1, 2], [v, scaled, opposite], 3, cosine, 1)).toEqual(naiveLeaders(['g', 'g', 'g'], [v, scaled, opposite], 1));
  });
});

describe('dedupExact (backward fill)', () => {
  /** The specification: forward, the first request of each (scope, key) leads; a throwing key or scope fails. */
  function naiveExact(items: { key: string; scope?: string; bad?: boolean }[]) {
    const unique: number[] = [];
    const leaderOf: number[] = [];
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      if (item.bad) {
        leaderOf.push(-1);
        return;
      }
      const slot = JSON.stringify([item.scope ?? null, item.key]);
      const known = seen.get(slot);
      if (known !== undefined) leaderOf.push(known);
      else {
        seen.set(slot, unique.length);
        leaderOf.push(unique.length);
        unique.push(i);
      }
    });
    return { unique, leaderOf };
  }

  it('picks the same leaders as the forward specification, with scopes and failing keys', async () => {
    const { dedupExact } = await import('../src/dedup/exact.js');
    const item = fc.record({
      key: fc.constantFrom('a', 'b', 'c', '1', 'd'),
      scope: fc.option(fc.constantFrom('t1', 't2'), { nil: undefined }),
      bad: fc.nat(9).map((n) => n === 0),
    });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 40 }), (items) => {
        const batch = dedupExact(items, {
          key: (x) => {
            if (x.bad) throw new Error('no key');
            return x.key;
          },
          scope: (x) => x.scope,
        });
        const expected = naiveExact(items);
        expect(batch.leaderOf).toEqual(expected.leaderOf);
        expect(batch.unique).toEqual(expected.unique.map((i) => items[i]));
        expect(batch.failures?.size ?? 0).toBe(items.filter((x) => x.bad).length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('copyVectors (the check and copy of an embedder\'s answer)', () => {
  /** The specification: the first fault, vector by vector and dimension by dimension; else 32-bit copies. */
  function reference(vectors: unknown, count: number, dimensions: number | undefined): { length: number; vectors: number[][] } | string {
    if (!Array.isArray(vectors)) return `malformed embeddings: expected an array of vectors, got ${typeof vectors}`;
    if (vectors.length !== count) return `malformed embeddings: expected ${count} vectors, got ${vectors.length}`;
    let length = dimensions;
    for (let i = 0; i < vectors.length; i++) {
      const v = vectors[i] as ArrayLike<unknown> | null;
      if (v === null || typeof v !== 'object' || typeof v.length !== 'number') return `malformed embeddings: vector ${i} is not an array of numbers`;
      length ??= v.length;
      if (v.length !== length || length === 0) return `malformed embeddings: vector ${i} has ${v.length} dimensions, expected ${length}`;
      for (let d = 0; d < length; d++) {
        const x = v[d];
        if (typeof x !== 'number' || !Number.isFinite(x)) return `malformed embeddings: vector ${i} has ${String(x)} at dimension ${d}`;
      }
    }
    return { length: length ?? 0, vectors: vectors.map((v: ArrayLike<number>) => Array.from(Float32Array.from(v))) };
  }

  const value = fc.oneof(
    { weight: 20, arbitrary: fc.double({ min: -1e3, max: 1e3, noNaN: true }) },
    { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e300, -0, '1' as unknown as number, undefined as unknown as number) },
  );
  const answer = fc.record({
    dims: fc.integer({ min: 0, max: 9 }),
    kinds: fc.array(fc.constantFrom('f32', 'f64', 'array', 'short', 'null'), { minLength: 0, maxLength: 6 }),
    values: fc.array(value, { minLength: 60, maxLength: 60 }),
    known: fc.boolean(),
    extra: fc.integer({ min: -1, max: 1 }),
  });

  it('refuses exactly what the specification refuses, with the same message, and copies the rest to 32 bits, shared or not', () => {
    fc.assert(
      fc.property(answer, ({ dims, kinds, values, known, extra }) => {
        const vectors = kinds.map((kind, i) => {
          const numbers = values.slice(i * dims, i * dims + dims);
          if (kind === 'f32') return Float32Array.from(numbers);
          if (kind === 'f64') return Float64Array.from(numbers);
          if (kind === 'short') return numbers.slice(1);
          if (kind === 'null') return null;
          return numbers;
        });
        // Now and then one vector more or fewer than the texts.
        const count = Math.max(0, vectors.length + extra);
        const expected = reference(vectors, count, known ? dims : undefined);
        for (const shared of [true, false]) {
          let got: unknown;
          try {
            const { length, vectors: copies } = copyVectors(vectors, count, known ? dims : undefined, shared);
            got = { length, vectors: copies.map((c) => Array.from(c)) };
            // Each copy is its own array, of its own length, whether or not they share a buffer.
            copies.forEach((c) => expect(c.length).toBe(length));
          } catch (error) {
            expect(error).toBeInstanceOf(MalformedEmbeddingError);
            got = (error as Error).message;
          }
          expect(got).toEqual(expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('shares one buffer only when asked, and never the embedder\'s own arrays', () => {
    const answer = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
    const shared = copyVectors(answer, 2, undefined, true).vectors;
    const separate = copyVectors(answer, 2, undefined, false).vectors;
    expect(shared[0]!.buffer).toBe(shared[1]!.buffer);
    expect(separate[0]!.buffer).not.toBe(separate[1]!.buffer);
    for (const copies of [shared, separate]) {
      expect(copies.map((c) => c.buffer)).not.toContain(answer[0]!.buffer);
      answer[0]![0] = 99; // the embedder reuses its array: the copies keep what it answered
      expect(Array.from(copies[0]!)).toEqual([1, 2]);
      answer[0]![0] = 1;
    }
  });
});
