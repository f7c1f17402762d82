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
