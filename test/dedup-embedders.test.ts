import { similarity } from 'ml-distance';
import { describe, expect, it } from 'vitest';
import { createHttpEmbedder, parseEmbeddingResponse, type FetchLike } from '../src/dedup/adapters/http.js';
import { fromFeatureExtractor, loadTransformersEmbedder, type FeatureExtractor, type TransformersModule } from '../src/dedup/adapters/transformers.js';
import { createLexicalEmbedder, fnv1a, normalizeText } from '../src/dedup/lexicalEmbedder.js';
import { createDeduper, resolveDedupOptions } from '../src/dedup/options.js';
import type { DedupedBatch } from '../src/types.js';

const embedOne = (text: string, options = {}) => (createLexicalEmbedder(options)([text]) as Float32Array[])[0]!;
const cos = (a: string, b: string) => similarity.cosine(embedOne(a), embedOne(b));

describe('the built-in lexical embedder', () => {
  it('returns one L2-normalised Float32Array per text, of the configured length', () => {
    const vectors = createLexicalEmbedder({ dimensions: 256 })(['hello world', 'another text', '']) as Float32Array[];
    expect(vectors).toHaveLength(3);
    for (const v of vectors.slice(0, 2)) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v.length).toBe(256);
      expect(Math.hypot(...v)).toBeCloseTo(1, 6);
    }
    // An empty text has no feature: a zero vector, similar to nothing.
    expect(Math.hypot(...vectors[2]!)).toBe(0);
  });

  it('is deterministic: same text, same vector, in any batch', () => {
    const text = 'Deterministic across runs?';
    const alone = embedOne(text);
    const inBatch = (createLexicalEmbedder()(['other', text]) as Float32Array[])[1]!;
    expect(Array.from(inBatch)).toEqual(Array.from(alone));
  });

  it('hashes with standard 32-bit FNV-1a (published test vectors), which no platform computes differently', () => {
    const hash = (s: string) => fnv1a(s, 0, s.length, 0x811c9dc5);
    expect(hash('')).toBe(0x811c9dc5);
    expect(hash('a')).toBe(0xe40c292c);
    expect(hash('foobar')).toBe(0xbf9cf968);
  });

  it('matches the snapshot the thresholds in docs/dedup-quality.md were measured with', () => {
    // Recorded when eval:dedup last ran. If this moves, every measured threshold moves: re-run the evaluation.
    const v = embedOne('How do I reset my password?');
    const nonZero = [...v.keys()].filter((i) => v[i] !== 0);
    expect(nonZero.length).toBe(37);
    expect(nonZero.slice(0, 5)).toEqual([9, 74, 75, 84, 141]);
    expect(v[9]).toBeCloseTo(-0.138675, 6);
  });

  it('ignores case, punctuation and spacing; sees spelling and word order', () => {
    expect(cos('How do I reset my password?', 'how do i reset my   password')).toBeCloseTo(1, 6);
    expect(cos('How do I reset my password?', 'How do I reset my passwords?')).toBeGreaterThan(0.85);
    expect(cos('How do I reset my password?', 'What is the capital of France?')).toBeLessThan(0.3);
    // Swapping two words keeps every word and most character n-grams; the word pairs tell them apart.
    expect(cos('a British ship that became a French trader', 'a French ship that became a British trader')).toBeLessThan(0.95);
  });

  it('keeps runs of symbols in code-like tokens as words of their own', () => {
    expect(normalizeText('What does a?.b do with x++, $HOME and ~?')).toBe('what does a ?. b do with x ++ $ home and ~');
    expect(normalizeText('Is C++ (really) hard?')).toBe('is c ++ really hard');
  });

  // Before symbols counted, each of these pairs embedded to the same vector (cosine 1.0) and merged.
  it.each([
    ['What does == do in JS?', 'What does === do in JS?'],
    ['How do I use the && operator in bash scripts?', 'How do I use the || operator in bash scripts?'],
    ['What is the difference between x++ and ++x in C?', 'What is the difference between ++x and x++ in C?'],
    ['What does a.b mean in JavaScript?', 'What does a?.b mean in JavaScript?'],
    ['c++ tutorial for beginners', 'c# tutorial for beginners'],
  ])('rates texts that differ only in symbols below the default threshold: %s / %s', (a, b) => {
    expect(cos(a, b)).toBeLessThan(0.95);
  });

  it('with the guard off, hybrid dedup merges the same operator and not == with ===', () => {
    const out = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'hybrid', mergeGuard: false }))([
      'What does == do in JS?',
      'What does === do in JS?',
      'what does == do in js',
    ]) as DedupedBatch<string>;
    expect(out.unique).toEqual(['What does == do in JS?', 'What does === do in JS?']);
  });

  it('normalises compatibility forms and separators', () => {
    expect(normalizeText('  Ｆｕｌｌ-width,\tTEXT! ')).toBe('full width text');
  });

  it('refuses bad options', () => {
    expect(() => createLexicalEmbedder({ dimensions: 4 })).toThrow(/dimensions must be an integer >= 8/);
    expect(() => createLexicalEmbedder({ ngram: 0 })).toThrow(/ngram must be an integer >= 1/);
    expect(() => createLexicalEmbedder({ wordWeight: 2 })).toThrow(/wordWeight must be within \[0, 1\]/);
  });

  it('is the default embedder of the embedding strategy', () => {
    const out = createDeduper(resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'embedding' }))([
      'How do I reset my password?',
      'how do I reset my password',
    ]);
    expect(out).not.toBeInstanceOf(Promise);
    expect((out as DedupedBatch<string>).unique).toEqual(['How do I reset my password?']);
  });
});

/** A stand-in for a transformers.js pipeline: a tensor of shape [n, 3] whose rows encode the text length. */
function fakeExtractor() {
  const calls: Array<{ texts: string[]; options: unknown }> = [];
  const extractor: FeatureExtractor = async (texts, options) => {
    calls.push({ texts, options });
    const data = new Float32Array(texts.flatMap((t) => [t.length, 1, 0]));
    return { dims: [texts.length, 3], data };
  };
  return { extractor, calls };
}

describe('fromFeatureExtractor (@huggingface/transformers)', () => {
  it('calls the pipeline once per batch with mean pooling and normalisation, and splits the tensor into rows', async () => {
    const { extractor, calls } = fakeExtractor();
    const vectors = await createEmbedder(extractor)(['ab', 'abcd']);
    expect(calls).toEqual([{ texts: ['ab', 'abcd'], options: { pooling: 'mean', normalize: true } }]);
    expect(vectors.map((v) => Array.from(v))).toEqual([
      [2, 1, 0],
      [4, 1, 0],
    ]);
  });

  it('rejects a tensor of the wrong shape (so the batch falls back)', async () => {
    const unpooled: FeatureExtractor = async (texts) => ({ dims: [texts.length, 5, 3], data: new Float32Array(texts.length * 15) });
    await expect(fromFeatureExtractor(unpooled)(['a'])).rejects.toThrow(/shape \[1, 5, 3\], expected \[1, dims\]/);
    const short: FeatureExtractor = async () => ({ dims: [2, 3], data: new Float32Array(5) });
    await expect(fromFeatureExtractor(short)(['a', 'b'])).rejects.toThrow(/5 values for shape \[2, 3\]/);
  });

  it('loads a local model with remote downloads off', async () => {
    const { extractor } = fakeExtractor();
    const loaded: unknown[] = [];
    const module: TransformersModule = {
      env: { allowRemoteModels: true, allowLocalModels: false, localModelPath: '/models/' },
      pipeline: async (task, model, options) => {
        loaded.push({ task, model, options });
        return extractor;
      },
    };
    const embed = await loadTransformersEmbedder({
      model: 'Xenova/all-MiniLM-L6-v2',
      localModelPath: './models',
      pipelineOptions: { dtype: 'q8' },
      importModule: async () => module,
    });
    expect(module.env).toEqual({ allowRemoteModels: false, allowLocalModels: true, localModelPath: './models' });
    expect(loaded).toEqual([{ task: 'feature-extraction', model: 'Xenova/all-MiniLM-L6-v2', options: { local_files_only: true, dtype: 'q8' } }]);
    expect((await embed(['xyz']))[0]).toEqual(new Float32Array([3, 1, 0]));
  });

  it('says what to install when the package is missing', async () => {
    const failing = loadTransformersEmbedder({ model: 'm', localModelPath: '.', importModule: () => Promise.reject(new Error('not found')) });
    await expect(failing).rejects.toThrow(/cannot load @huggingface\/transformers; install it/);
  });
});

function createEmbedder(extractor: FeatureExtractor) {
  return async (texts: string[]) => (await fromFeatureExtractor(extractor)(texts)) as Float32Array[];
}

describe('createHttpEmbedder', () => {
  function fakeFetch(reply: unknown, status = 200) {
    const requests: Array<{ url: string; init: Parameters<FetchLike>[1] }> = [];
    const fetch: FetchLike = async (url, init) => {
      requests.push({ url, init });
      return { ok: status >= 200 && status < 300, status, json: async () => reply };
    };
    return { fetch, requests };
  }

  it('POSTs the batch OpenAI-style and orders the vectors by index', async () => {
    const { fetch, requests } = fakeFetch({ data: [{ index: 1, embedding: [0, 1] }, { index: 0, embedding: [1, 0] }] });
    const embed = createHttpEmbedder({ url: 'http://emb/v1/embeddings', fetch, model: 'e5', headers: { authorization: 'Bearer k' } });
    expect(await embed(['a', 'b'])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(requests).toEqual([
      {
        url: 'http://emb/v1/embeddings',
        init: {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer k' },
          body: JSON.stringify({ input: ['a', 'b'], model: 'e5' }),
        },
      },
    ]);
  });

  it('rejects on a non-2xx answer', async () => {
    const { fetch } = fakeFetch({}, 503);
    await expect(createHttpEmbedder({ url: 'http://emb', fetch })(['a'])).rejects.toThrow(/answered 503/);
  });

  it('takes a custom body and parser', async () => {
    const { fetch, requests } = fakeFetch({ vectors: [[3, 4]] });
    const embed = createHttpEmbedder({
      url: 'http://emb',
      fetch,
      body: (texts) => ({ sentences: texts }),
      parse: (json) => (json as { vectors: number[][] }).vectors,
    });
    expect(await embed(['x'])).toEqual([[3, 4]]);
    expect(requests[0]!.init.body).toBe('{"sentences":["x"]}');
  });

  it('reads Ollama and TEI shapes, and refuses others', () => {
    expect(parseEmbeddingResponse({ embeddings: [[1, 2]] })).toEqual([[1, 2]]);
    expect(parseEmbeddingResponse([[1, 2]])).toEqual([[1, 2]]);
    expect(() => parseEmbeddingResponse({ result: [] })).toThrow(/unrecognised response/);
  });

  it('validates its options', () => {
    expect(() => createHttpEmbedder({ url: '', fetch: fakeFetch({}).fetch })).toThrow(/url must be a non-empty string/);
    expect(() => createHttpEmbedder({ url: 'http://x', fetch: undefined as never })).toThrow(/fetch must be a function/);
  });

  it('a failing API makes the batch fall back to exact dedup', async () => {
    const { fetch } = fakeFetch({}, 500);
    const fallbacks: unknown[] = [];
    const deduper = createDeduper(
      resolveDedupOptions<string>('dedupBy', { dedupStrategy: 'hybrid', embed: createHttpEmbedder({ url: 'http://emb', fetch }) }),
      { onFallback: (e) => fallbacks.push(e) },
    );
    const out = await deduper(['a', 'a', 'a!']);
    expect(out.unique).toEqual(['a', 'a!']);
    expect(fallbacks).toHaveLength(1);
  });
});
