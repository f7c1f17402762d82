/**
 * createHttpEmbedder with a scripted fetch, no socket (issue 17, stop 19, H-MUT6): the promises of the HTTP
 * embedder that only test/embed-http.test.ts checked, over real servers and wall-clock time, which the mutation
 * runs leave out (vitest.stryker.config.ts). The retry waits and the timeout are setTimeout calls of the adapter
 * itself (it takes no scheduler), so they run under vitest's fake timers: no real timer here.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHttpEmbedder, parseEmbeddingResponse, type FetchLike, type HttpEmbedderOptions } from '../src/dedup/adapters/http.js';

type Init = Parameters<FetchLike>[1];
type Answer = Awaited<ReturnType<FetchLike>>;
/** What one call of the scripted fetch does: answers, throws, or never settles. */
type Step = (init: Init, texts: string[]) => Answer | Promise<Answer>;

const URL = 'http://emb/v1/embeddings';

function ok(json: unknown, status = 200): Answer {
  return { ok: true, status, json: async () => json };
}
function failed(status: number, json?: unknown): Answer {
  return { ok: false, status, json: async () => (json === undefined ? Promise.reject(new SyntaxError('no body')) : json) };
}
/** A vector per text that names it: [length of the text, index in the request]. */
function vectors(texts: string[]): number[][] {
  return texts.map((text, i) => [text.length, i]);
}
const echo: Step = (_init, texts) => ok(vectors(texts));

/** A fetch that plays `steps` in order (the last one again when they run out) and records every call. */
function scripted(...steps: Step[]) {
  const calls: Array<{ url: string; init: Init; texts: string[]; receiver: unknown }> = [];
  const fetch: FetchLike = function (this: unknown, url, init) {
    const body = JSON.parse(init.body) as { input?: string[]; inputs?: string[] };
    const texts = body.input ?? body.inputs ?? [];
    calls.push({ url, init, texts, receiver: this });
    const step = steps[Math.min(calls.length - 1, steps.length - 1)]!;
    return Promise.resolve().then(() => step(init, texts));
  };
  return { fetch, calls };
}

/** The embedder, as a function answering a Promise (createHttpEmbedder's always does). */
function embedder(fetch: FetchLike, options: Partial<HttpEmbedderOptions> = {}): (texts: string[]) => Promise<ArrayLike<number>[]> {
  const embed = createHttpEmbedder({ url: URL, fetch, ...options });
  return (texts) => Promise.resolve(embed(texts));
}

/** The rejection of `promise`, which must reject. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(result).toBeInstanceOf(Error);
  return result as Error;
}

describe('createHttpEmbedder refuses bad options, naming them', () => {
  const fetch = scripted(echo).fetch;
  it.each([
    [{ url: 42 }, 'createHttpEmbedder: url must be a non-empty string'],
    [{ url: undefined }, 'createHttpEmbedder: url must be a non-empty string'],
    [{ api: 'cohere' }, "createHttpEmbedder: api must be 'openai', 'ollama' or 'tei', got cohere"],
    [{ api: 'ollama' }, "createHttpEmbedder: api 'ollama' needs a model"],
    [{ maxBatchSize: 0 }, 'createHttpEmbedder: maxBatchSize must be an integer >= 1, got 0'],
    [{ maxBatchSize: -3 }, 'createHttpEmbedder: maxBatchSize must be an integer >= 1, got -3'],
    [{ maxBatchSize: 2.5 }, 'createHttpEmbedder: maxBatchSize must be an integer >= 1, got 2.5'],
    [{ timeoutMs: 0 }, 'createHttpEmbedder: timeoutMs must be a number > 0, got 0'],
    [{ timeoutMs: Number.NaN }, 'createHttpEmbedder: timeoutMs must be a number > 0, got NaN'],
    [{ retries: -1 }, 'createHttpEmbedder: retries must be an integer >= 0, got -1'],
    [{ retries: 1.5 }, 'createHttpEmbedder: retries must be an integer >= 0, got 1.5'],
    [{ retryDelayMs: -1 }, 'createHttpEmbedder: retryDelayMs must be a finite number >= 0, got -1'],
    [{ retryDelayMs: Infinity }, 'createHttpEmbedder: retryDelayMs must be a finite number >= 0, got Infinity'],
    [{ retryDelayMs: Number.NaN }, 'createHttpEmbedder: retryDelayMs must be a finite number >= 0, got NaN'],
  ])('refuses %o', (bad, message) => {
    expect(() => embedder(fetch, bad as Partial<HttpEmbedderOptions>)).toThrow(message);
  });

  it.each([
    [{ maxBatchSize: 1 }],
    [{ maxBatchSize: Infinity }],
    [{ retries: 0 }],
    [{ retryDelayMs: 0 }],
    [{ timeoutMs: 1 }],
    [{ api: 'ollama', model: 'm' }],
    [{ api: 'ollama', body: (texts: string[]) => ({ input: texts }) }],
    [{ api: 'tei' }],
  ])('accepts the edge value %o', async (good) => {
    const { fetch, calls } = scripted(echo);
    expect(await embedder(fetch, good as Partial<HttpEmbedderOptions>)(['a'])).toEqual([[1, 0]]);
    expect(calls).toHaveLength(1);
  });
});

describe('createHttpEmbedder: the request it sends', () => {
  it.each([
    ['openai', undefined, { input: ['a', 'b'] }],
    ['openai', 'e5', { input: ['a', 'b'], model: 'e5' }],
    ['ollama', 'nomic', { model: 'nomic', input: ['a', 'b'] }],
    ['tei', undefined, { inputs: ['a', 'b'] }],
  ] as const)("api '%s' with model %s sends %o", async (api, model, body) => {
    const { fetch, calls } = scripted(echo);
    await embedder(fetch, { api, ...(model === undefined ? {} : { model }) })(['a', 'b']);
    expect(JSON.parse(calls[0]!.init.body)).toEqual(body);
    expect(calls[0]!.init.method).toBe('POST');
  });

  it('sends no signal when there is no timeoutMs', async () => {
    const { fetch, calls } = scripted(echo);
    await embedder(fetch)(['a']);
    expect(Object.keys(calls[0]!.init).sort()).toEqual(['body', 'headers', 'method']);
  });

  it('calls fetch as a plain function, not as a method of the options', async () => {
    const { fetch, calls } = scripted(echo);
    await embedder(fetch)(['a']);
    expect(calls[0]!.receiver).toBeUndefined();
  });

  it("splits a batch above 'tei''s default of 32 texts, and keeps the order of the answers", async () => {
    const { fetch, calls } = scripted(echo);
    const texts = Array.from({ length: 33 }, (_, i) => 'x'.repeat(i + 1));
    const out = await embedder(fetch, { api: 'tei' })(texts);
    expect(calls.map((c) => c.texts.length)).toEqual([32, 1]);
    expect(out.map((v) => v[0])).toEqual(texts.map((t) => t.length));
  });

  it('sends any number of texts in one request by default for the other apis', async () => {
    const { fetch, calls } = scripted(echo);
    await embedder(fetch, { api: 'ollama', model: 'm' })(Array.from({ length: 100 }, (_, i) => `t${i}`));
    expect(calls.map((c) => c.texts.length)).toEqual([100]);
  });

  it('maxBatchSize splits the texts into consecutive chunks and joins the vectors in input order', async () => {
    const { fetch, calls } = scripted(echo);
    const out = await embedder(fetch, { maxBatchSize: 2 })(['a', 'bb', 'ccc', 'dddd', 'eeeee']);
    expect(calls.map((c) => c.texts)).toEqual([['a', 'bb'], ['ccc', 'dddd'], ['eeeee']]);
    expect(out).toEqual([
      [1, 0],
      [2, 1],
      [3, 0],
      [4, 1],
      [5, 0],
    ]);
  });

  it('a batch of exactly maxBatchSize texts is one request', async () => {
    const { fetch, calls } = scripted(echo);
    await embedder(fetch, { maxBatchSize: 3 })(['a', 'b', 'c']);
    expect(calls.map((c) => c.texts)).toEqual([['a', 'b', 'c']]);
  });
});

describe('createHttpEmbedder: failed answers name the URL and what went wrong', () => {
  it('an error status with no readable body gives the status alone, as a plain Error', async () => {
    const { fetch } = scripted(() => failed(404));
    const error = await rejection(embedder(fetch)(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered 404`);
    expect(error.name).toBe('Error');
  });

  it.each([
    [{ error: { message: 'bad input' } }, 'bad input'],
    [{ error: 'model not found' }, 'model not found'],
    [{ error: { code: 3 } }, undefined],
    [{ detail: 'x' }, undefined],
    [null, undefined],
  ])("reads the server's message from %o", async (json, said) => {
    const { fetch } = scripted(() => failed(400, json));
    const error = await rejection(embedder(fetch)(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered 400${said === undefined ? '' : `: ${said}`}`);
  });

  it("keeps at most 200 characters of the server's message", async () => {
    const { fetch } = scripted(() => failed(400, { error: 'y'.repeat(300) }));
    const error = await rejection(embedder(fetch)(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered 400: ${'y'.repeat(200)}`);
  });

  it('a fetch that throws is named with its reason and the reason of its cause, kept as cause', async () => {
    const thrown = new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:1') });
    const { fetch } = scripted(() => Promise.reject(thrown));
    const error = await rejection(embedder(fetch)(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} failed: fetch failed: connect ECONNREFUSED 127.0.0.1:1`);
    expect(error.cause).toBe(thrown);
  });

  it('a thrown Error whose cause is not an Error is named by its own message', async () => {
    const { fetch } = scripted(() => Promise.reject(new Error('offline', { cause: 'wifi' })));
    const error = await rejection(embedder(fetch)(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} failed: offline`);
  });

  it('a thrown value that is not an Error is named as a string', async () => {
    const { fetch } = scripted(() => Promise.reject('socket hang up'));
    const error = await rejection(embedder(fetch)(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} failed: socket hang up`);
  });

  it('a body that is not JSON names the status, keeps the parse error as cause, and is not retried', async () => {
    const parseError = new SyntaxError('Unexpected token <');
    const { fetch, calls } = scripted(() => ({ ok: true, status: 200, json: () => Promise.reject(parseError) }));
    const error = await rejection(embedder(fetch, { retries: 2 })(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered 200 with a body that is not JSON`);
    expect(error.cause).toBe(parseError);
    expect(calls).toHaveLength(1);
  });

  it('a count of vectors that is not the count of texts is refused and not retried', async () => {
    const { fetch, calls } = scripted(() => ok([[1, 0]]));
    const error = await rejection(embedder(fetch, { retries: 2 })(['a', 'b']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered 1 vectors for 2 texts`);
    expect(calls).toHaveLength(1);
  });

  it('a parse that returns no array is refused, saying so', async () => {
    const { fetch } = scripted(() => ok({ v: 1 }));
    const error = await rejection(embedder(fetch, { parse: () => ({ length: 1 }) as never })(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered no array of vectors for 1 texts`);
  });
});

describe('createHttpEmbedder: what is retried', () => {
  it.each([408, 429, 500, 503, 599])('retries a %i answer', async (status) => {
    const { fetch, calls } = scripted(() => failed(status, {}), echo);
    expect(await embedder(fetch, { retries: 1, retryDelayMs: 0 })(['abc'])).toEqual([[3, 0]]);
    expect(calls).toHaveLength(2);
  });

  it.each([400, 401, 404, 409, 499])('does not retry a %i answer', async (status) => {
    const { fetch, calls } = scripted(() => failed(status, {}), echo);
    const error = await rejection(embedder(fetch, { retries: 3, retryDelayMs: 0 })(['abc']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered ${status}`);
    expect(calls).toHaveLength(1);
  });

  it('retries a fetch that threw', async () => {
    const { fetch, calls } = scripted(() => Promise.reject(new Error('reset')), echo);
    expect(await embedder(fetch, { retries: 1, retryDelayMs: 0 })(['ab'])).toEqual([[2, 0]]);
    expect(calls).toHaveLength(2);
  });

  it('does not retry an error thrown by parse (not an attempt that failed)', async () => {
    const { fetch, calls } = scripted(echo);
    const thrown = new TypeError('bad shape');
    const error = await rejection(embedder(fetch, { retries: 2, retryDelayMs: 0, parse: () => { throw thrown; } })(['a']));
    expect(error).toBe(thrown);
    expect(calls).toHaveLength(1);
  });

  it('gives up after retries + 1 attempts, saying how many, the last failure kept as cause', async () => {
    const { fetch, calls } = scripted(() => failed(503, { error: 'overloaded' }));
    const error = await rejection(embedder(fetch, { retries: 2, retryDelayMs: 0 })(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered 503: overloaded (after 3 attempts)`);
    expect((error.cause as Error).message).toBe(`HTTP embedder: ${URL} answered 503: overloaded`);
    expect(calls).toHaveLength(3);
  });

  it('without retries the first failure is thrown as it is', async () => {
    const { fetch, calls } = scripted(() => failed(503, { error: 'overloaded' }));
    const error = await rejection(embedder(fetch)(['a']));
    expect(error.message).toBe(`HTTP embedder: ${URL} answered 503: overloaded`);
    expect(error.cause).toBeUndefined();
    expect(calls).toHaveLength(1);
  });
});

describe('createHttpEmbedder: retry waits and timeoutMs (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits retryDelayMs before the first retry, then twice as long before the next', async () => {
    const { fetch, calls } = scripted(() => failed(503, {}), () => failed(503, {}), echo);
    const out = embedder(fetch, { retries: 2, retryDelayMs: 100 })(['a']);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
    expect(await out).toEqual([[1, 0]]);
  });

  it('timeoutMs aborts the request through its signal and rejects naming the limit', async () => {
    const signals: AbortSignal[] = [];
    const { fetch } = scripted((init) => {
      signals.push(init.signal!);
      return new Promise<Answer>(() => undefined);
    });
    const out = rejection(embedder(fetch, { timeoutMs: 50 })(['a']));
    await vi.advanceTimersByTimeAsync(49);
    expect(signals[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signals[0]!.aborted).toBe(true);
    expect((await out).message).toBe(`HTTP embedder: ${URL} did not answer within 50 ms (timeoutMs)`);
  });

  it('a timeout is retried', async () => {
    const { fetch, calls } = scripted(() => new Promise<Answer>(() => undefined), echo);
    const out = embedder(fetch, { timeoutMs: 50, retries: 1, retryDelayMs: 10 })(['ab']);
    await vi.advanceTimersByTimeAsync(60);
    expect(calls).toHaveLength(2);
    expect(await out).toEqual([[2, 0]]);
  });

  it('an answer within timeoutMs leaves no timer behind', async () => {
    const { fetch } = scripted(echo);
    const out = await embedder(fetch, { timeoutMs: 50 })(['a']);
    expect(out).toEqual([[1, 0]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a slow answer without timeoutMs is waited for, whatever it takes', async () => {
    const { fetch } = scripted(() => new Promise<Answer>((resolve) => setTimeout(() => resolve(ok([[9]])), 60_000)));
    let settled: unknown;
    const out = embedder(fetch)(['a']).then((v: unknown) => (settled = v), (e: unknown) => (settled = e));
    await vi.advanceTimersByTimeAsync(60_000);
    await out;
    expect(settled).toEqual([[9]]);
  });
});

describe('parseEmbeddingResponse', () => {
  it("orders OpenAI's data by index, a missing index counting as 0", () => {
    expect(parseEmbeddingResponse({ data: [{ index: 2, embedding: [2] }, { embedding: [0] }, { index: 1, embedding: [1] }] })).toEqual([[0], [1], [2]]);
  });

  it('names the entry whose embedding is not an array', () => {
    expect(() => parseEmbeddingResponse({ data: [{ index: 0, embedding: [0] }, { index: 1, embedding: 'x' }] })).toThrow(
      new TypeError('HTTP embedder: data[1].embedding is not an array'),
    );
  });

  it('refuses null and other shapes', () => {
    expect(() => parseEmbeddingResponse(null)).toThrow(new TypeError('HTTP embedder: unrecognised response; pass parse(json) to read it'));
    expect(() => parseEmbeddingResponse({ embeddings: 'x', data: 'y' })).toThrow(/unrecognised response/);
  });
});
