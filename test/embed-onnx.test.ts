/**
 * The real model path: `loadTransformersEmbedder` loads a tiny ONNX model (test/support-onnx.ts, written to a
 * temporary folder by the test) through the real `@huggingface/transformers` and `onnxruntime-node`, from local files
 * only, and the pipeline deduplicates with it. Nothing is downloaded: remote models are switched off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { loadTransformersEmbedder, type TransformersModule } from '../src/dedup/adapters/transformers.js';
import type { Embedder } from '../src/dedup/embedder.js';
import { createLexicalEmbedder } from '../src/dedup/lexicalEmbedder.js';
import { writeTinyModel, type TinyModel } from './support-onnx.js';

let tiny: TinyModel;
let embed: Embedder;

beforeAll(async () => {
  tiny = writeTinyModel();
  embed = await loadTransformersEmbedder({ model: tiny.model, localModelPath: tiny.root });
}, 60_000);
afterAll(() => tiny?.remove());

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return dot; // the pipeline normalises
};

const RESET = 'How do I reset my password?';
const CHANGE = 'How can I change my passcode?';
const DELETE = 'How do I delete my account?';
const REMOVE = 'How can I remove my profile?';

function batcherOver(strategy: 'embedding' | 'hybrid', size: number, extra: object = {}) {
  const executed: string[][] = [];
  const batcher = createBatcher<string, string>({
    execute: async (texts) => {
      executed.push(texts);
      return texts.map((t) => `answer to ${t}`);
    },
    dedupStrategy: strategy,
    embed,
    dedupThreshold: 0.95,
    minSize: size,
    maxSize: size,
    maxWaitMs: 60_000,
    ...extra,
  });
  return { batcher, executed };
}

describe('loadTransformersEmbedder with a real ONNX model from local files', () => {
  it('loads through @huggingface/transformers with remote models off, and embeds by the words the model knows', async () => {
    const transformers = (await import('@huggingface/transformers')) as unknown as TransformersModule;
    expect(transformers.env).toMatchObject({ allowRemoteModels: false, allowLocalModels: true, localModelPath: tiny.root });
    const [reset, change, del] = (await embed([RESET, CHANGE, DELETE])) as Float32Array[];
    expect(reset).toBeInstanceOf(Float32Array);
    expect(reset!.length).toBe(9);
    expect(Math.hypot(...reset!)).toBeCloseTo(1, 5);
    // Synonyms share their embeddings: the model sees the paraphrase that the lexical embedder cannot.
    expect(cosine(reset!, change!)).toBeCloseTo(1, 5);
    expect(cosine(reset!, del!)).toBeLessThan(0.5);
    const lexical = createLexicalEmbedder()([RESET, CHANGE]) as Float32Array[];
    expect(cosine(lexical[0]!, lexical[1]!)).toBeLessThan(0.8);
  });

  it('runs onnxruntime-node, not the WebAssembly build', async () => {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(`${tiny.root}/${tiny.model}/onnx/model.onnx`);
    expect(session.inputNames).toEqual(['input_ids', 'attention_mask']);
    const ids = new ort.Tensor('int64', BigInt64Array.from([2n, 5n, 3n]), [1, 3]);
    const mask = new ort.Tensor('int64', BigInt64Array.from([1n, 1n, 1n]), [1, 3]);
    const out = await session.run({ input_ids: ids, attention_mask: mask });
    expect(out['last_hidden_state']!.dims).toEqual([1, 3, 9]);
    await session.release();
  });

  it("'embedding' dedup merges the paraphrases the model knows and keeps the rest apart", async () => {
    const { batcher, executed } = batcherOver('embedding', 4);
    const answers = await Promise.all([RESET, CHANGE, DELETE, REMOVE].map((t) => batcher.process(t)));
    await batcher.close();
    expect(executed).toEqual([[RESET, DELETE]]);
    expect(answers).toEqual([`answer to ${RESET}`, `answer to ${RESET}`, `answer to ${DELETE}`, `answer to ${DELETE}`]);
    expect(batcher.getStats()).toMatchObject({ embedFallbacks: 0, embedCacheMisses: 4 });
  });

  it("'hybrid' dedup: the model rates two refunds of different orders alike, and the merge guard keeps them apart", async () => {
    const refunds = ['Can I refund order 1234?', 'Can I return order 1243?'];
    const [a, b] = (await embed(refunds)) as Float32Array[];
    expect(cosine(a!, b!)).toBeCloseTo(1, 5); // both numbers are [UNK] to this model
    const { batcher, executed } = batcherOver('hybrid', 4);
    await Promise.all([RESET, CHANGE, ...refunds].map((t) => batcher.process(t)));
    await batcher.close();
    expect(executed).toEqual([[RESET, ...refunds]]);
  });

  it('the result cache answers a repeat, and the embedding cache spares a text embedded before another call', async () => {
    const WEATHER = 'What is the weather today?';
    const { batcher, executed } = batcherOver('hybrid', 2, { resultCache: { ttlMs: 60_000, maxEntries: 100 } });
    await Promise.all([RESET, CHANGE].map((t) => batcher.process(t)));
    expect(batcher.getStats()).toMatchObject({ embedCacheHits: 0, embedCacheMisses: 2, cacheHits: 0 });
    // RESET is answered from the result cache, so CHANGE and WEATHER form the next batch; CHANGE's vector is cached.
    const answers = await Promise.all([RESET, CHANGE, WEATHER].map((t) => batcher.process(t)));
    await batcher.close();
    expect(answers).toEqual([`answer to ${RESET}`, `answer to ${CHANGE}`, `answer to ${WEATHER}`]);
    expect(executed).toEqual([[RESET], [CHANGE, WEATHER]]);
    expect(batcher.getStats()).toMatchObject({ cacheHits: 1, embedCacheHits: 1, embedCacheMisses: 3, embedFallbacks: 0 });
  });
});

describe('the optional peers of the model path', () => {
  /** `^x.y.z`: same major, at least x.y.z (what npm means by a caret range with a non-zero major). */
  const caretContains = (range: string, version: string) => {
    const [min, got] = [range.replace(/^\^/, ''), version].map((v) => v.split('.').map(Number)) as [number[], number[]];
    if (!range.startsWith('^') || got[0] !== min[0]) return false;
    for (let i = 1; i < 3; i++) if (got[i] !== min[i]) return got[i]! > min[i]!;
    return true;
  };

  it.each(['@huggingface/transformers', 'onnxruntime-node'])('%s is an optional peer whose range holds the version npm test ran', async (name) => {
    const { readFileSync } = await import('node:fs');
    const { createRequire } = await import('node:module');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    // The package's folder from its resolved entry (transformers does not export its package.json).
    const entry = createRequire(import.meta.url).resolve(name);
    const folder = entry.slice(0, entry.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
    const installed = JSON.parse(readFileSync(`${folder}package.json`, 'utf8')) as { version: string };
    expect(pkg.peerDependenciesMeta[name]).toEqual({ optional: true });
    expect(caretContains(pkg.peerDependencies[name]!, installed.version)).toBe(true);
  });
});
