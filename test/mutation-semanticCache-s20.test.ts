/**
 * The semantic cache index's pruning bound (src/dedup/semanticCache.ts, issue 17, stop 20, H-MUT10): the bound is
 * rounded up so that it never refuses a pair the batch would merge, even where Cauchy-Schwarz is tight. Tight means:
 * the query lies wholly in the entry's coordinates outside its TOP (eight) largest, so its cosine with the entry
 * is exactly the norm of the entry's rest, which is all the bound has. With the threshold set to that very score,
 * the entry must be found; a bound rounded down (by 1e-9 outside the square root, or by 1e-12 inside it when the
 * rest is small) refuses it.
 */
import { describe, expect, it } from 'vitest';
import { SemanticIndex, type Probe } from '../src/dedup/semanticCache.js';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { runFor } from './support.js';

const probe = (text: string, vector: number[]): Probe => ({ group: 'g', text, vector: new Float32Array(vector) });

/** The score the batch (and the index) gives the pair: the same sums in the same order, on the Float32 values. */
function batchScore(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let p = 0;
  let q = 0;
  for (let d = 0; d < a.length; d++) dot += a[d]! * b[d]!;
  for (let d = 0; d < a.length; d++) p += a[d]! * a[d]!;
  for (let d = 0; d < b.length; d++) q += b[d]! * b[d]!;
  return dot / Math.sqrt(p * q);
}

describe("SemanticIndex: the bound where Cauchy-Schwarz is tight finds a pair scoring exactly the threshold", () => {
  it.each([
    ['a rest of about 0.23', 1],
    ['a rest of about 1e-4', 4.2426e-4],
  ])('%s', (_name, last) => {
    // Nine dimensions: the top eight are the entry's first eight; the query is the ninth axis alone.
    const cached = probe('cached', [1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, 1.5, last]);
    const query = probe('query', [0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const score = batchScore(cached.vector, query.vector);
    expect(score).toBeGreaterThan(0);
    const index = new SemanticIndex<string>({ kind: 'cosine' }, score, false);
    index.add('x', cached);
    expect(index.nearest([query], () => true)).toBe('x');
    // Just above the score: not found (so the pair is really at the edge).
    const above = new SemanticIndex<string>({ kind: 'cosine' }, score + 1e-15, false);
    above.add('x', cached);
    expect(above.nearest([query], () => true)).toBeUndefined();
  });
});

describe('SemanticIndex: the bound reads unit vectors, whatever the lengths of the two', () => {
  it('a long entry and a short query in one direction are found', () => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.9, false);
    index.add('x', probe('cached', [2, 0.1]));
    expect(index.nearest([probe('query', [0.1, 0])], () => true)).toBe('x');
  });
});

describe('dedupThreshold 0: the cache finds what the batch merges (reliability 154)', () => {
  // At threshold 0 every pair merges in a batch (a negative cosine counts as 0), so every entry of the group is
  // near: the pruning bound, negative for opposite vectors, refused them.
  it('the index finds an entry opposite the query', () => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0, false);
    index.add('x', probe('cached', [1, 0]));
    expect(index.nearest([probe('query', [-1, 0])], () => true)).toBe('x');
  });

  it('a request opposite a cached one is answered from it, as it is when both are in one batch', async () => {
    const clock = virtualClock();
    const vectors: Record<string, number[]> = { p: [1, 0], n: [-1, 0] };
    const executed: string[][] = [];
    const batcher = createBatcher<string, string>({
      execute: (qs: string[]) => (executed.push([...qs]), qs.map((q) => `${q}!`)),
      dedupStrategy: 'embedding',
      dedupThreshold: 0,
      mergeGuard: false,
      embed: (texts) => texts.map((t) => vectors[t]!),
      windowMs: 5,
      scheduler: clock.scheduler,
      resultCache: { ttlMs: 1_000, semantic: true },
    });
    const together = batcher.processAll(['p', 'n']);
    await runFor(clock, 10);
    await expect(together).resolves.toEqual(['p!', 'p!']);
    const later = batcher.process('n');
    await runFor(clock, 10);
    await expect(later).resolves.toBe('p!');
    expect(executed).toEqual([['p']]);
  });
});
