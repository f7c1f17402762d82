import fc from 'fast-check';
import { similarity } from 'ml-distance';
import { describe, expect, it } from 'vitest';
import { metricByName } from '../src/dedup/metric.js';
import { vectorLeaders } from '../src/dedup/vectorLeaders.js';

/** The specification, written the obvious way: all pairs with ml-distance's cosine, greedy in arrival order. */
function naiveLeaders(groups: string[], vectors: number[][], threshold: number): number[] {
  const leaderOf: number[] = [];
  const leaders: number[] = [];
  vectors.forEach((v, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (const l of leaders) {
      if (groups[l] !== groups[i]) continue;
      const raw = similarity.cosine(vectors[l], v);
      const score = Number.isNaN(raw) ? 0 : Math.min(1, Math.max(0, raw));
      if (score >= threshold && score > bestScore) {
        best = l;
        bestScore = score;
      }
    }
    if (best === -1) leaders.push(i);
    leaderOf.push(best === -1 ? i : best);
  });
  return leaderOf;
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
