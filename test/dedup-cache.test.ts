import { describe, expect, it } from 'vitest';
import { EmbeddingCache } from '../src/dedup/embeddingCache.js';
import { createDeduper, resolveDedupOptions, type Embedder } from '../src/dedup/options.js';

const v = (x: number) => new Float32Array([x, 1]);

describe('EmbeddingCache', () => {
  it('evicts the least recently used text when full', () => {
    const cache = new EmbeddingCache(2);
    cache.set('a', v(1));
    cache.set('b', v(2));
    expect(cache.get('a')).toEqual(v(1)); // a is now more recent than b
    cache.set('c', v(3));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toEqual(v(1));
    expect(cache.get('c')).toEqual(v(3));
    expect(cache.size).toBe(2);
  });

  it('re-setting a text refreshes it rather than duplicating it', () => {
    const cache = new EmbeddingCache(2);
    cache.set('a', v(1));
    cache.set('b', v(2));
    cache.set('a', v(9));
    cache.set('c', v(3));
    expect(cache.get('a')).toEqual(v(9));
    expect(cache.get('b')).toBeUndefined();
  });

  it('with capacity 0 keeps nothing', () => {
    const cache = new EmbeddingCache(0);
    cache.set('a', v(1));
    expect(cache.get('a')).toBeUndefined();
  });
});

describe('the embedding cache in a deduper', () => {
  function counting() {
    const calls: string[][] = [];
    const embed: Embedder = (texts) => {
      calls.push([...texts]);
      return texts.map((t) => [t.length, 1]);
    };
    return { embed, calls };
  }

  it('embeds only texts it has not seen, and reports hits and misses once per batch', () => {
    const { embed, calls } = counting();
    const reports: Array<[number, number]> = [];
    const deduper = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'embedding', embed, mergeGuard: false }), {
      onEmbedCache: (hits, misses) => reports.push([hits, misses]),
    });
    deduper(['aa', 'bbb']);
    deduper(['aa', 'bbb', 'cccc']);
    expect(calls).toEqual([['aa', 'bbb'], ['cccc']]);
    expect(reports).toEqual([
      [0, 2],
      [2, 1],
    ]);
  });

  it('is bounded by embedCacheSize', () => {
    const { embed, calls } = counting();
    const deduper = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'embedding', embed, embedCacheSize: 1 }));
    deduper(['a', 'bb']);
    deduper(['a', 'bb']);
    // Only 'bb', the most recent, survived the first batch.
    expect(calls).toEqual([['a', 'bb'], ['a']]);
  });

  it('keeps nothing from a malformed answer', () => {
    let good = false;
    const calls: string[][] = [];
    const embed: Embedder = (texts) => {
      calls.push([...texts]);
      return texts.map(() => (good ? [1, 0] : [NaN, 0]));
    };
    const deduper = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'embedding', embed }));
    deduper(['a', 'b']);
    good = true;
    deduper(['a', 'b']);
    expect(calls).toEqual([['a', 'b'], ['a', 'b']]);
  });
});
