/**
 * The semantic cache index's pruning (src/dedup/semanticCache.ts, issue 17, stop 21): a cached entry far from the
 * query is refused on the bound over the entry's TOP largest coordinates, without a full dot product. Stop 20's
 * run left such "same answer, more work" mutants alive (the bound weakened, or never applied): the answer is the
 * same, only the cost grows with every entry of the group. Here the entry's vector is handed in behind a Proxy
 * that counts its coordinate reads, so a lookup that scores the pair in full shows.
 */
import { describe, expect, it } from 'vitest';
import { SemanticIndex, type Probe } from '../src/dedup/semanticCache.js';

const DIMENSIONS = 384;

/** A vector behind a Proxy that counts reads of its coordinates. */
function counted(values: number[]): { vector: Float32Array; reads: () => number; reset: () => void } {
  let reads = 0;
  const proxy = new Proxy(values, {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) reads++;
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
  return { vector: proxy as unknown as Float32Array, reads: () => reads, reset: () => void (reads = 0) };
}

/** Mass on eight coordinates from `from` (1 each), a little (0.01 by default) on every other. */
function concentrated(from: number, little = 0.01): number[] {
  return Array.from({ length: DIMENSIONS }, (_, d) => (d >= from && d < from + 8 ? 1 : little));
}

const probe = (text: string, vector: Float32Array): Probe => ({ group: 'g', text, vector });

describe('SemanticIndex: an entry far from the query is refused on the bound', () => {
  it.each([
    ['its mass on its first coordinates', 0, 200],
    ['its mass in the middle', 150, 20],
    ['its mass on its last coordinates', DIMENSIONS - 8, 40],
  ])('%s: not found, and none of its coordinates read', (_name, from, queryFrom) => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.98, false);
    const cached = counted(concentrated(from));
    index.add('x', probe('cached', cached.vector));
    cached.reset();
    const query = new Float32Array(concentrated(queryFrom));
    expect(index.nearest([probe('query', query)], () => true)).toBeUndefined();
    expect(cached.reads()).toBe(0);
  });

  it('an entry near the query is scored in full, once, and found', () => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.98, false);
    const cached = counted(concentrated(150));
    index.add('x', probe('cached', cached.vector));
    cached.reset();
    const near = concentrated(150);
    near[151] = 0.99;
    expect(index.nearest([probe('query', new Float32Array(near))], () => true)).toBe('x');
    expect(cached.reads()).toBe(DIMENSIONS);
  });

  it('the bound is as tight as the top coordinates make it: a pair at 0.91 is refused at a threshold of 0.95', () => {
    // Both vectors on the same eight coordinates, the query tilted: cosine about 0.91, and the entry's rest (its
    // coordinates outside the eight) weighs about 0.007, so the bound is about 0.92, below 0.95: nothing is read.
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.95, false);
    const cached = counted(concentrated(100, 0.001));
    index.add('x', probe('cached', cached.vector));
    cached.reset();
    const tilted = concentrated(100, 0.001);
    for (let d = 100; d < 104; d++) tilted[d] = 0.4;
    const query = new Float32Array(tilted);
    expect(index.nearest([probe('query', query)], () => true)).toBeUndefined();
    expect(cached.reads()).toBe(0);
  });
});

describe('SemanticIndex: zero vectors', () => {
  it.each([
    ['a zero entry, a query', true],
    ['an entry, a zero query', false],
  ])('%s: not found, at any threshold above 0', (_name, zeroEntry) => {
    const zero = new Float32Array(DIMENSIONS);
    const other = new Float32Array(concentrated(0));
    for (const threshold of [1e-9, 0.5, 0.98, 1]) {
      const index = new SemanticIndex<string>({ kind: 'cosine' }, threshold, false);
      index.add('x', probe('cached', zeroEntry ? zero : other));
      expect(index.nearest([probe('query', zeroEntry ? other : zero)], () => true)).toBeUndefined();
      expect(index.nearest([probe('query', zero)], () => true)).toBeUndefined();
    }
  });
});

describe('SemanticIndex.remove', () => {
  it("drops a group with its last entry (groups that come and go leave nothing behind)", () => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.9, false);
    const groups = (index as unknown as { groups: Map<string, unknown> }).groups;
    index.add('x', { group: 'g1', text: 'a', vector: new Float32Array([1, 0]) });
    index.add('y', { group: 'g1', text: 'b', vector: new Float32Array([0, 1]) });
    index.add('z', { group: 'g2', text: 'c', vector: new Float32Array([1, 1]) });
    index.remove('x');
    expect([...groups.keys()]).toEqual(['g1', 'g2']);
    index.remove('z');
    expect([...groups.keys()]).toEqual(['g1']);
    index.remove('y');
    expect(groups.size).toBe(0);
    index.remove('y'); // twice: nothing
    expect(groups.size).toBe(0);
  });
});
