/**
 * createHttpEmbedder against real HTTP servers on 127.0.0.1 (node:http, port 0) that speak the OpenAI
 * (`/v1/embeddings`), Ollama (`/api/embed`) and Hugging Face TEI (`/embed`) shapes, through Node's own fetch.
 * The servers embed with the built-in lexical embedder, so the vectors mean something and dedup decisions are real.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { createHttpEmbedder, type FetchLike } from '../src/dedup/adapters/http.js';
import { createLexicalEmbedder } from '../src/dedup/lexicalEmbedder.js';
import { until } from './support.js';

interface Seen {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Record<string, unknown>;
  /** Set when the client closed the connection before an answer was sent. */
  aborted: boolean;
}

type Route = (seen: Seen, res: ServerResponse, req: IncomingMessage) => void;

const lexical = createLexicalEmbedder({ dimensions: 64 });
const vectorsOf = (texts: string[]) => (lexical(texts) as Float32Array[]).map((v) => Array.from(v));

const servers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((close) => close()));
});

/** Starts a server answering every POST with `route`; `seen` lists the requests in arrival order. */
async function serve(route: Route): Promise<{ base: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (raw += chunk));
    req.on('end', () => {
      const entry: Seen = { path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) as Record<string, unknown>, aborted: false };
      seen.push(entry);
      res.on('close', () => {
        if (!res.writableFinished) entry.aborted = true;
      });
      route(entry, res, req);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  servers.push(close);
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close };
}

function reply(res: ServerResponse, status: number, json: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(json));
}

/** OpenAI `/v1/embeddings`: `{ input, model }` in, `{ data: [{ embedding, index }] }` out, here in reverse order. */
const openai: Route = (seen, res) => {
  const input = seen.body['input'];
  if (!Array.isArray(input)) return reply(res, 400, { error: { message: "'input' must be an array of strings", type: 'invalid_request_error' } });
  const data = vectorsOf(input as string[]).map((embedding, index) => ({ object: 'embedding', index, embedding }));
  reply(res, 200, { object: 'list', data: data.reverse(), model: seen.body['model'], usage: { prompt_tokens: 1, total_tokens: 1 } });
};

/** Ollama `/api/embed`: `{ model, input }` in, `{ model, embeddings }` out; an unknown model is a 404. */
const ollama: Route = (seen, res) => {
  const { model, input } = seen.body as { model?: string; input?: string[] };
  if (model !== 'nomic-embed-text') return reply(res, 404, { error: `model "${String(model)}" not found, try pulling it first` });
  reply(res, 200, { model, embeddings: vectorsOf(input!) });
};

/** TEI `/embed`: `{ inputs }` in, a bare `number[][]` out; more than 32 inputs is a 413 (`--max-client-batch-size`). */
const tei: Route = (seen, res) => {
  const inputs = seen.body['inputs'] as string[] | undefined;
  if (!Array.isArray(inputs)) return reply(res, 422, { error: 'missing field `inputs`', error_type: 'Validation' });
  if (inputs.length > 32) {
    return reply(res, 413, { error: `batch size ${inputs.length} > maximum allowed batch size 32`, error_type: 'Validation' });
  }
  reply(res, 200, vectorsOf(inputs));
};

const fetch: FetchLike = (url, init) => globalThis.fetch(url, init);

describe('createHttpEmbedder against a real OpenAI-shaped server', () => {
  it('sends one POST per batch with the unique texts, and the batcher merges only true near-duplicates', async () => {
    const { base, seen } = await serve(openai);
    const embed = createHttpEmbedder({ url: `${base}/v1/embeddings`, fetch, model: 'text-embedding-3-small', headers: { authorization: 'Bearer k' } });
    const executed: string[][] = [];
    const batcher = createBatcher<string, string>({
      execute: async (texts) => {
        executed.push(texts);
        return texts.map((t) => `answer to ${t}`);
      },
      dedupStrategy: 'hybrid',
      embed,
      minSize: 4,
      maxSize: 4,
      maxWaitMs: 60_000,
    });
    const texts = ['How do I reset my password?', 'how do i reset my password', 'What does == do in JS?', 'What does === do in JS?'];
    const answers = await Promise.all(texts.map((t) => batcher.process(t)));
    await batcher.close();

    // == and === differ in code, so the guard puts each in a group of its own: only the other two need vectors.
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ path: '/v1/embeddings', body: { input: texts.slice(0, 2), model: 'text-embedding-3-small' } });
    expect(seen[0]!.headers).toMatchObject({ authorization: 'Bearer k', 'content-type': 'application/json' });
    expect(executed).toEqual([[texts[0], texts[2], texts[3]]]);
    expect(answers).toEqual([`answer to ${texts[0]}`, `answer to ${texts[0]}`, `answer to ${texts[2]}`, `answer to ${texts[3]}`]);
  });

  it('puts the vectors back in input order whatever order the server lists them in', async () => {
    const { base } = await serve(openai);
    const texts = ['first text', 'second text', 'third text'];
    const vectors = await createHttpEmbedder({ url: `${base}/v1/embeddings`, fetch })(texts);
    expect(vectors).toEqual(vectorsOf(texts));
  });

  it("reports the server's own message with the status, and does not retry a 400", async () => {
    const { base, seen } = await serve(openai);
    const embed = createHttpEmbedder({ url: `${base}/v1/embeddings`, fetch, body: (texts) => ({ input: texts.join() }), retries: 3, retryDelayMs: 1 });
    await expect(embed(['a', 'b'])).rejects.toThrow(`HTTP embedder: ${base}/v1/embeddings answered 400: 'input' must be an array of strings`);
    expect(seen).toHaveLength(1);
  });
});

describe('createHttpEmbedder against a real Ollama-shaped server', () => {
  it("sends { model, input } to /api/embed and reads { embeddings }", async () => {
    const { base, seen } = await serve(ollama);
    const embed = createHttpEmbedder({ url: `${base}/api/embed`, fetch, api: 'ollama', model: 'nomic-embed-text' });
    expect(await embed(['why is the sky blue', 'why is grass green'])).toEqual(vectorsOf(['why is the sky blue', 'why is grass green']));
    expect(seen.map((s) => s.body)).toEqual([{ model: 'nomic-embed-text', input: ['why is the sky blue', 'why is grass green'] }]);
  });

  it('a missing model is an error that says so', async () => {
    const { base } = await serve(ollama);
    const embed = createHttpEmbedder({ url: `${base}/api/embed`, fetch, api: 'ollama', model: 'all-minilm' });
    await expect(embed(['x'])).rejects.toThrow(/answered 404: model "all-minilm" not found, try pulling it first/);
  });

  it('refuses to be created without a model', () => {
    expect(() => createHttpEmbedder({ url: 'http://127.0.0.1:1/api/embed', fetch, api: 'ollama' })).toThrow("api 'ollama' needs a model");
  });
});

describe('createHttpEmbedder against a real TEI-shaped server', () => {
  it('sends { inputs } in requests of at most 32 texts and joins the answers in order', async () => {
    const { base, seen } = await serve(tei);
    const texts = Array.from({ length: 70 }, (_, i) => `question number ${i}`);
    const vectors = await createHttpEmbedder({ url: `${base}/embed`, fetch, api: 'tei' })(texts);
    expect(vectors).toEqual(vectorsOf(texts));
    expect(seen.map((s) => (s.body['inputs'] as string[]).length).sort((a, b) => a - b)).toEqual([6, 32, 32]);
    expect(seen.flatMap((s) => s.body['inputs'] as string[]).sort()).toEqual([...texts].sort());
  });

  it("a batch above the server's limit is its 413, not retried", async () => {
    const { base, seen } = await serve(tei);
    const embed = createHttpEmbedder({ url: `${base}/embed`, fetch, api: 'tei', maxBatchSize: 100, retries: 2, retryDelayMs: 1 });
    await expect(embed(Array.from({ length: 40 }, (_, i) => `t${i}`))).rejects.toThrow(/answered 413: batch size 40 > maximum allowed batch size 32/);
    expect(seen).toHaveLength(1);
  });
});

describe('createHttpEmbedder: broken answers and connections', () => {
  it('a body that is not JSON rejects, naming the URL', async () => {
    const { base } = await serve((_, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>gateway</html>');
    });
    await expect(createHttpEmbedder({ url: base, fetch })(['a'])).rejects.toThrow(`HTTP embedder: ${base} answered 200 with a body that is not JSON`);
  });

  it('a count of vectors that is not the count of texts rejects', async () => {
    const { base } = await serve((_, res) => reply(res, 200, [[1, 0]]));
    await expect(createHttpEmbedder({ url: base, fetch })(['a', 'b'])).rejects.toThrow(`HTTP embedder: ${base} answered 1 vectors for 2 texts`);
  });

  it('a refused connection rejects with the URL and the reason', async () => {
    const { base, close } = await serve(openai);
    await close();
    await expect(createHttpEmbedder({ url: base, fetch })(['a'])).rejects.toThrow(/^HTTP embedder: http:\/\/127\.0\.0\.1:\d+ failed: fetch failed: .*ECONNREFUSED/);
  });

  it('calls fetch as a plain function, not as a method of the options (a browser fetch refuses that)', async () => {
    const { base } = await serve(openai);
    const receivers: unknown[] = [];
    const strictFetch: FetchLike = function (this: unknown, url, init) {
      receivers.push(this);
      return globalThis.fetch(url, init);
    };
    await createHttpEmbedder({ url: base, fetch: strictFetch })(['a']);
    expect(receivers).toEqual([undefined]);
  });
});

describe('createHttpEmbedder: timeouts and retries', () => {
  it('timeoutMs aborts a request the server holds: the call rejects in time and the connection is closed', async () => {
    const { base, seen } = await serve(() => undefined); // never answers
    const started = performance.now();
    await expect(createHttpEmbedder({ url: base, fetch, timeoutMs: 100 })(['a'])).rejects.toThrow(`HTTP embedder: ${base} did not answer within 100 ms (timeoutMs)`);
    expect(performance.now() - started).toBeLessThan(2_000);
    await until(() => seen[0]?.aborted === true);
    expect(seen[0]!.aborted).toBe(true);
  });

  it('retries 503s and answers once the server recovers', async () => {
    let calls = 0;
    const { base, seen } = await serve((s, res) => (++calls <= 2 ? reply(res, 503, { error: 'loading model' }) : openai(s, res, undefined as never)));
    const vectors = await createHttpEmbedder({ url: base, fetch, retries: 2, retryDelayMs: 5 })(['a b c']);
    expect(vectors).toEqual(vectorsOf(['a b c']));
    expect(seen).toHaveLength(3);
  });

  it('retries a 429, a dropped connection and a timeout', async () => {
    let calls = 0;
    const { base, seen } = await serve((s, res, req) => {
      calls++;
      if (calls === 1) return reply(res, 429, { error: { message: 'Rate limit reached' } });
      if (calls === 2) return req.socket.destroy();
      if (calls === 3) return; // held until the timeout
      openai(s, res, req);
    });
    const vectors = await createHttpEmbedder({ url: base, fetch, retries: 3, retryDelayMs: 5, timeoutMs: 200 })(['x']);
    expect(vectors).toEqual(vectorsOf(['x']));
    expect(seen).toHaveLength(4);
  });

  it('gives up after retries + 1 attempts and says how many it made', async () => {
    const { base, seen } = await serve((_, res) => reply(res, 503, { error: 'overloaded' }));
    await expect(createHttpEmbedder({ url: base, fetch, retries: 2, retryDelayMs: 5 })(['x'])).rejects.toThrow(
      `HTTP embedder: ${base} answered 503: overloaded (after 3 attempts)`,
    );
    expect(seen).toHaveLength(3);
  });

  it('waits retryDelayMs, doubled each time, between attempts', async () => {
    const at: number[] = [];
    const { base } = await serve((_, res) => {
      at.push(performance.now());
      reply(res, 503, {});
    });
    await expect(createHttpEmbedder({ url: base, fetch, retries: 2, retryDelayMs: 100 })(['x'])).rejects.toThrow(/after 3 attempts/);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(95);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(195);
  });
});

describe('a batcher over an embedding server that is down', () => {
  it('falls back to exact dedup for the batch and answers every request', async () => {
    const { base, close } = await serve(openai);
    await close();
    const batcher = createBatcher<string, string>({
      execute: async (texts) => texts.map((t) => t.toUpperCase()),
      dedupStrategy: 'hybrid',
      embed: createHttpEmbedder({ url: base, fetch }),
      minSize: 3,
      maxSize: 3,
      maxWaitMs: 60_000,
    });
    // minSize counts distinct requests: three texts, two of which would merge with vectors.
    const texts = ['How do I reset my password?', 'how do i reset my password', 'b'];
    const answers = await Promise.all(texts.map((t) => batcher.process(t)));
    await batcher.close();
    expect(answers).toEqual(texts.map((t) => t.toUpperCase()));
    expect(batcher.getStats()).toMatchObject({ embedFallbacks: 1, executedItems: 3 });
  });
});

describe('createHttpEmbedder options', () => {
  it.each([
    [{ api: 'cohere' }, /api must be 'openai', 'ollama' or 'tei', got cohere/],
    [{ maxBatchSize: 0 }, /maxBatchSize must be an integer >= 1, got 0/],
    [{ timeoutMs: 0 }, /timeoutMs must be a number > 0, got 0/],
    [{ retries: 1.5 }, /retries must be an integer >= 0, got 1.5/],
    [{ retryDelayMs: -1 }, /retryDelayMs must be a finite number >= 0, got -1/],
  ])('refuses %o', (bad, message) => {
    expect(() => createHttpEmbedder({ url: 'http://127.0.0.1:1', fetch, ...(bad as object) })).toThrow(message);
  });
});
