import { describe, expect, it } from 'vitest';
import { createDeduper, resolveDedupOptions, type DedupOptions, type Embedder } from '../src/dedup/options.js';
import type { DedupedBatch } from '../src/types.js';

/** An embedder reading vectors from a table, recording every call. */
function tableEmbedder(table: Record<string, number[]>) {
  const calls: string[][] = [];
  const embed: Embedder = (texts) => {
    calls.push([...texts]);
    return texts.map((t) => {
      const v = table[t];
      if (!v) throw new Error(`no vector for ${t}`);
      return v;
    });
  };
  return { embed, calls };
}

/** Unit vector at `angle` degrees in the plane: cos(a - b) is the cosine of two of them. */
const at = (degrees: number) => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180)];

function dedup<T>(options: DedupOptions<T>, items: T[], hooks = {}): DedupedBatch<T> {
  const out = createDeduper(resolveDedupOptions('dedupBy', options), hooks)(items);
  if (out instanceof Promise) throw new Error('expected a synchronous result');
  return out;
}

async function dedupAsync<T>(options: DedupOptions<T>, items: T[], hooks = {}): Promise<DedupedBatch<T>> {
  return createDeduper(resolveDedupOptions('dedupBy', options), hooks)(items);
}

describe("dedupStrategy 'embedding'", () => {
  it('merges a request into a leader whose cosine reaches the threshold, and not below it', () => {
    // cos(10 deg) = 0.985, cos(20 deg) = 0.940
    const { embed } = tableEmbedder({ a: at(0), b: at(10), c: at(20) });
    const items = ['a', 'b', 'c'];
    expect(dedup({ dedupStrategy: 'embedding', dedupThreshold: 0.98, embed }, items)).toEqual({
      items,
      unique: ['a', 'c'],
      leaderOf: [0, 0, 1],
    });
    expect(dedup({ dedupStrategy: 'embedding', dedupThreshold: 0.99, embed }, items).unique).toEqual(['a', 'b', 'c']);
  });

  it('joins the most similar leader, not the first one above the threshold (greedy, arrival order)', () => {
    // Leaders a (0 deg) and b (30 deg, below 0.9 from a); c at 22 deg: 0.927 to a, 0.990 to b.
    const { embed } = tableEmbedder({ a: at(0), b: at(30), c: at(22) });
    expect(dedup({ dedupStrategy: 'embedding', dedupThreshold: 0.9, embed }, ['a', 'b', 'c']).leaderOf).toEqual([0, 1, 1]);
  });

  it('a follower never becomes a leader: a chain a ~ b ~ c with a !~ c gives two groups', () => {
    const { embed } = tableEmbedder({ a: at(0), b: at(8), c: at(16) });
    // cos 8 = 0.990 >= 0.985, cos 16 = 0.961 < 0.985: c cannot join a; b is not a leader.
    expect(dedup({ dedupStrategy: 'embedding', dedupThreshold: 0.985, embed }, ['a', 'b', 'c']).leaderOf).toEqual([0, 0, 1]);
  });

  it('embeds each distinct text once per batch, in one call', () => {
    const { embed, calls } = tableEmbedder({ a: at(0), b: at(5) });
    dedup({ dedupStrategy: 'embedding', embed }, ['a', 'b', 'a', 'b', 'a']);
    expect(calls).toEqual([['a', 'b']]);
  });

  it('never compares requests of different scopes', () => {
    const { embed } = tableEmbedder({ hi: at(0), 'hi!': at(1) });
    const items = [
      { query: 'hi', user: 'ann' },
      { query: 'hi!', user: 'bob' },
      { query: 'hi!', user: 'ann' },
    ];
    const out = dedup({ dedupStrategy: 'embedding', embed, scope: (r) => r.user }, items);
    expect(out.leaderOf).toEqual([0, 1, 0]);
  });

  it('only compares requests whose fields other than the text are equal', () => {
    const { embed } = tableEmbedder({ hi: at(0), 'hi!': at(1) });
    const items = [
      { query: 'hi', model: 'small', n: 1 },
      { query: 'hi!', model: 'large', n: 1 },
      { n: 1, query: 'hi!', model: 'small' },
    ];
    expect(dedup({ dedupStrategy: 'embedding', embed }, items).leaderOf).toEqual([0, 1, 0]);
  });

  it('with a custom text, removes the extracted text wherever it sits before comparing the rest', () => {
    const { embed } = tableEmbedder({ hi: at(0), 'hi!': at(1) });
    const items = [
      { body: { prompt: 'hi' }, lang: 'en' },
      { body: { prompt: 'hi!' }, lang: 'en' },
      { body: { prompt: 'hi!' }, lang: 'fr' },
    ];
    const out = dedup({ dedupStrategy: 'embedding', embed, text: (r) => r.body.prompt }, items);
    expect(out.leaderOf).toEqual([0, 0, 1]);
  });

  it('reads the text field when there is no query field', () => {
    const { embed, calls } = tableEmbedder({ x: at(0), y: at(1) });
    dedup({ dedupStrategy: 'embedding', embed }, [{ text: 'x' }, { text: 'y' }]);
    expect(calls).toEqual([['x', 'y']]);
  });

  it('deduplicates a request without readable text exactly, never rejecting it (issue 12 item 2)', () => {
    const { embed, calls } = tableEmbedder({ x: at(0) });
    const out = dedup({ dedupStrategy: 'embedding', embed }, [{ id: 'x' }, { id: 'x' }, { id: 'y' }] as unknown[]);
    expect(out.leaderOf).toEqual([0, 0, 1]);
    expect(out.failures).toBeUndefined();
    expect(calls).toEqual([]);
  });

  it('does not embed a request that has nobody to be compared with', () => {
    const { embed, calls } = tableEmbedder({ a: at(0), b: at(1) });
    dedup({ dedupStrategy: 'embedding', embed, scope: (r: { query: string; u: string }) => r.u }, [
      { query: 'a', u: '1' },
      { query: 'b', u: '2' },
    ]);
    expect(calls).toEqual([]);
  });
});

describe("dedupStrategy 'hybrid'", () => {
  it('merges exact duplicates by key first, then their leaders by similarity', () => {
    const { embed, calls } = tableEmbedder({ Hello: at(0), 'hello!': at(3), bye: at(90) });
    const items = ['Hello', 'HELLO', 'hello!', 'bye'];
    const out = dedup({ dedupStrategy: 'hybrid', embed, key: (s) => s.toLowerCase() }, items);
    expect(out).toEqual({ items, unique: ['Hello', 'bye'], leaderOf: [0, 0, 0, 1] });
    // 'HELLO' was merged exactly: it is never embedded.
    expect(calls).toEqual([['Hello', 'hello!', 'bye']]);
  });

  it('keeps exact merges that the embedding strategy would refuse', () => {
    // Orthogonal vectors for case variants: only the exact key can merge them.
    const { embed } = tableEmbedder({ A: at(0), a: at(90) });
    const key = (s: string) => s.toLowerCase();
    expect(dedup({ dedupStrategy: 'hybrid', embed, key }, ['A', 'a']).unique).toEqual(['A']);
    expect(dedup({ dedupStrategy: 'embedding', embed, key }, ['A', 'a']).unique).toEqual(['A', 'a']);
  });

  it('carries key failures through, and merges the rest', () => {
    const { embed } = tableEmbedder({ a: at(0), 'a.': at(1) });
    const items = ['a', 'boom', 'a.'];
    const out = dedup(
      {
        dedupStrategy: 'hybrid',
        embed,
        key: (s) => {
          if (s === 'boom') throw new Error('bad');
          return s;
        },
      },
      items,
    );
    expect(out.leaderOf).toEqual([0, -1, 0]);
    expect(String(out.failures?.get(1))).toMatch(/key\(request\) threw: bad/);
  });
});

describe('merge guard', () => {
  const twoFa = { 'enable 2FA': at(0), 'disable 2FA': at(0), 'turn on 2FA': at(0) };

  it('refuses a merge of texts with a flipped meaning, even at similarity 1', () => {
    const { embed } = tableEmbedder(twoFa);
    const items = ['enable 2FA', 'disable 2FA'];
    expect(dedup({ dedupStrategy: 'embedding', embed }, items).unique).toEqual(items);
  });

  it('can be turned off', () => {
    const { embed } = tableEmbedder(twoFa);
    expect(dedup({ dedupStrategy: 'embedding', embed, mergeGuard: false }, ['enable 2FA', 'disable 2FA']).unique).toEqual([
      'enable 2FA',
    ]);
  });

  it('takes a custom guard over the two texts', () => {
    const { embed } = tableEmbedder(twoFa);
    const seen: string[][] = [];
    const mergeGuard = (a: string, b: string) => {
      seen.push([a, b]);
      return !b.startsWith('turn');
    };
    const out = dedup({ dedupStrategy: 'embedding', embed, mergeGuard }, ['enable 2FA', 'turn on 2FA', 'disable 2FA']);
    expect(out.leaderOf).toEqual([0, 1, 0]);
    expect(seen).toContainEqual(['enable 2FA', 'turn on 2FA']);
  });

  it('refuses names and numbers swapped between otherwise equal texts', () => {
    const same = at(0);
    const { embed } = tableEmbedder({ 'flights from Paris to Rome': same, 'flights from Rome to Paris': same });
    const items = ['flights from Paris to Rome', 'flights from Rome to Paris'];
    expect(dedup({ dedupStrategy: 'embedding', embed }, items).unique).toEqual(items);
  });

  it('is not applied to exact merges in hybrid', () => {
    const { embed } = tableEmbedder({});
    const out = dedup({ dedupStrategy: 'hybrid', embed, key: () => 'same' }, ['enable 2FA', 'disable 2FA']);
    expect(out.unique).toEqual(['enable 2FA']);
  });
});

describe('fallback to exact dedup', () => {
  const malformed: Array<[string, Embedder]> = [
    ['throws', () => { throw new Error('down'); }],
    ['returns NaN', (texts) => texts.map(() => [NaN, 1])],
    ['returns Infinity', (texts) => texts.map(() => [Infinity, 1])],
    ['returns too few vectors', (texts) => texts.slice(1).map(() => [1, 0])],
    ['returns vectors of different lengths', (texts) => texts.map((_, i) => (i === 0 ? [1, 0] : [1, 0, 0]))],
    ['returns empty vectors', (texts) => texts.map(() => [])],
    ['returns something else', () => 'vectors' as unknown as number[][]],
  ];
  it.each(malformed)('when embed %s: every request kept, exact merges only, counted', (_, embed) => {
    const fallbacks: unknown[] = [];
    const items = ['x', 'x', 'x.'];
    const out = dedup({ dedupStrategy: 'embedding', embed }, items, { onFallback: (e: unknown) => fallbacks.push(e) });
    expect(out).toEqual({ items, unique: ['x', 'x.'], leaderOf: [0, 0, 1] });
    expect(fallbacks).toHaveLength(1);
  });

  it('when embed rejects: the promise resolves to the exact dedup', async () => {
    const fallbacks: unknown[] = [];
    const items = ['x', 'x', 'x.'];
    const out = await dedupAsync({ dedupStrategy: 'hybrid', embed: async () => Promise.reject(new Error('503')) }, items, {
      onFallback: (e: unknown) => fallbacks.push(e),
    });
    expect(out).toEqual({ items, unique: ['x', 'x.'], leaderOf: [0, 0, 1] });
    expect(String(fallbacks[0])).toMatch(/503/);
  });

  it('when a later batch has vectors of another length than the first', () => {
    let dims = 2;
    const embed: Embedder = (texts) => texts.map(() => new Array<number>(dims).fill(1));
    const fallbacks: unknown[] = [];
    const deduper = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'embedding', embed }), {
      onFallback: (e) => fallbacks.push(e),
    });
    expect((deduper(['a', 'b']) as DedupedBatch<string>).unique).toEqual(['a']);
    dims = 3;
    expect((deduper(['c', 'd']) as DedupedBatch<string>).unique).toEqual(['c', 'd']);
    expect(String(fallbacks[0])).toMatch(/3 dimensions, expected 2/);
  });

  it('when the metric returns NaN', () => {
    const { embed } = tableEmbedder({ a: at(0), b: at(1) });
    const fallbacks: unknown[] = [];
    const out = dedup({ dedupStrategy: 'embedding', embed, metric: () => NaN }, ['a', 'b'], {
      onFallback: (e: unknown) => fallbacks.push(e),
    });
    expect(out.unique).toEqual(['a', 'b']);
    expect(fallbacks).toHaveLength(1);
  });
});

describe('async embedders', () => {
  it('resolve to the same batch a synchronous one gives', async () => {
    const { embed } = tableEmbedder({ a: at(0), b: at(5), c: at(60) });
    const items = ['a', 'b', 'c'];
    const asyncEmbed: Embedder = async (texts) => embed(texts);
    const sync = dedup({ dedupStrategy: 'embedding', embed }, items);
    const deduper = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'embedding', embed: asyncEmbed }));
    const pending = deduper(items);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual(sync);
  });
});

describe('metric', () => {
  it('takes any ml-distance similarity by name', () => {
    const { embed } = tableEmbedder({ a: [1, 2, 3], b: [1, 2, 3.1], c: [3, 0, 1] });
    const items = ['a', 'b', 'c'];
    const out = dedup({ dedupStrategy: 'embedding', embed, metric: 'tanimoto', dedupThreshold: 0.95 }, items);
    expect(out.leaderOf).toEqual([0, 0, 1]);
  });

  it('clamps scores of unbounded similarities into [0, 1]', () => {
    // 'intersection' is a sum of minima: 6 for [1, 2, 3] with itself, clamped to 1.
    const { embed } = tableEmbedder({ a: [1, 2, 3], b: [1, 2, 3] });
    expect(dedup({ dedupStrategy: 'embedding', embed, metric: 'intersection' }, ['a', 'b']).unique).toEqual(['a']);
  });
});

describe('validation at creation', () => {
  const bad: Array<[string, DedupOptions<unknown>, RegExp]> = [
    ['threshold above 1', { dedupStrategy: 'embedding', dedupThreshold: 1.5 }, /dedupBy: dedupThreshold must be within \[0, 1\]/],
    ['threshold below 0', { dedupStrategy: 'hybrid', dedupThreshold: -0.1 }, /dedupThreshold must be within \[0, 1\]/],
    ['unknown metric', { dedupStrategy: 'embedding', metric: 'cosinus' }, /dedupBy: metric must be a function or one of .*'cosine'.*got "cosinus"/],
    ['non-function embed', { dedupStrategy: 'embedding', embed: 'openai' as unknown as Embedder }, /dedupBy: embed must be a function/],
    ['non-function text', { dedupStrategy: 'embedding', text: 'query' as never }, /dedupBy: text must be a function/],
    ['negative cache size', { dedupStrategy: 'embedding', embedCacheSize: -1 }, /dedupBy: embedCacheSize must be >= 0/],
    ['fractional cache size', { dedupStrategy: 'embedding', embedCacheSize: 1.5 }, /embedCacheSize must be an integer/],
    ['bad mergeGuard', { dedupStrategy: 'embedding', mergeGuard: 'yes' as never }, /dedupBy: mergeGuard must be true, false or a function/],
    ['typo under exact strategy', { metric: 'cosinus' }, /metric must be/],
  ];
  it.each(bad)('%s throws', (_, options, message) => {
    expect(() => resolveDedupOptions('dedupBy', options)).toThrow(message);
  });
});
