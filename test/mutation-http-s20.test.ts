/**
 * createHttpEmbedder and parseEmbeddingResponse, the survivors of stop 20's mutation run (issue 17, H-MUT10), with
 * a scripted fetch, no socket and no timer: how texts are cut into requests at the edges (no texts, a multiple of
 * maxBatchSize), and a `data` entry that is not an object named as the others are.
 */
import { describe, expect, it } from 'vitest';
import { createHttpEmbedder, parseEmbeddingResponse, type FetchLike } from '../src/dedup/adapters/http.js';

const URL = 'http://emb/v1/embeddings';

/** A fetch answering one vector per text, [length of the text, index in the request], recording each call's texts. */
function echoing() {
  const calls: string[][] = [];
  const fetch: FetchLike = async (_url, init) => {
    const texts = (JSON.parse(init.body) as { input: string[] }).input;
    calls.push(texts);
    return { ok: true, status: 200, json: async () => texts.map((text, i) => [text.length, i]) };
  };
  return { fetch, calls };
}

describe('createHttpEmbedder: requests at the edges of maxBatchSize', () => {
  it.each([[undefined], [2]])('no texts: answers no vectors and sends no request (maxBatchSize %s)', async (maxBatchSize) => {
    const { fetch, calls } = echoing();
    const embed = createHttpEmbedder({ url: URL, fetch, ...(maxBatchSize === undefined ? {} : { maxBatchSize }) });
    expect(await embed([])).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('a multiple of maxBatchSize texts is that many full requests, none empty', async () => {
    const { fetch, calls } = echoing();
    const out = await createHttpEmbedder({ url: URL, fetch, maxBatchSize: 2 })(['a', 'bb', 'ccc', 'dddd']);
    expect(calls).toEqual([
      ['a', 'bb'],
      ['ccc', 'dddd'],
    ]);
    expect(out).toEqual([
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 1],
    ]);
  });
});

describe('parseEmbeddingResponse: a data entry that is no object', () => {
  it.each([[null], [undefined], [7]])('names data[0] when it is %s', (entry) => {
    expect(() => parseEmbeddingResponse({ data: [entry] })).toThrow(new TypeError('HTTP embedder: data[0].embedding is not an array'));
  });
});

describe('parseEmbeddingResponse: a data entry that is no object, beside others (reliability 153)', () => {
  // The entries are ordered by index first: a null entry there threw "Cannot read properties of null" from the sort.
  it.each([
    [[null, { index: 0, embedding: [1] }], 0],
    [[{ index: 0, embedding: [1] }, null], 1],
  ])('names the entry of %o that is no object', (data, at) => {
    expect(() => parseEmbeddingResponse({ data })).toThrow(new TypeError(`HTTP embedder: data[${at}].embedding is not an array`));
  });
});
