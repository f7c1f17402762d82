import type { Embedder } from '../embedder.js';

/** The part of the Fetch API the HTTP embedder uses; pass `globalThis.fetch` or your own client. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/** The request and response shapes `createHttpEmbedder` speaks without a custom `body`. */
export type HttpEmbeddingApi = 'openai' | 'ollama' | 'tei';

export interface HttpEmbedderOptions {
  /** The embeddings endpoint, e.g. `https://api.openai.com/v1/embeddings` or a local TEI / Ollama server. */
  url: string;
  /** The fetch function to call. Required: the library never picks a network client for you. */
  fetch: FetchLike;
  /**
   * The API's request shape: `'openai'` (default, `{ input, model }`, also vLLM, LM Studio, llama.cpp and most
   * gateways), `'ollama'` (`/api/embed`, `{ model, input }`, `model` required) or `'tei'` (Hugging Face Text
   * Embeddings Inference `/embed`, `{ inputs }`). Every response shape is read whatever the `api`.
   */
  api?: HttpEmbeddingApi;
  /** Sent with every request (authorisation, ...). `content-type: application/json` is added. */
  headers?: Record<string, string>;
  /** Sent as `model` in the default body. */
  model?: string;
  /** The JSON body for a batch of texts. Default: by `api`. */
  body?: (texts: string[]) => unknown;
  /** Reads the vectors from the response JSON. Default: see `parseEmbeddingResponse`. */
  parse?: (json: unknown) => ArrayLike<number>[];
  /**
   * At most this many texts per request; a larger batch is split into requests sent together. Default: 32 for
   * `'tei'` (its default `--max-client-batch-size`), otherwise unlimited.
   */
  maxBatchSize?: number;
  /** Each request is aborted (through its `signal`) and fails after this many ms. Default: none. */
  timeoutMs?: number;
  /**
   * How many times a request is tried again after a network error, a timeout, or a 408, 429 or 5xx answer.
   * Other answers (400, 401, 404, an unreadable body, a wrong count of vectors) fail at once. Default 0.
   */
  retries?: number;
  /** The wait before the first retry, doubled before each further one. Default 100 ms. */
  retryDelayMs?: number;
}

/** An attempt that failed, and whether trying again may help. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'Error';
  }
}

const APIS: readonly HttpEmbeddingApi[] = ['openai', 'ollama', 'tei'];
const TEI_MAX_CLIENT_BATCH_SIZE = 32;

/**
 * An `Embedder` over an HTTP embeddings API: one POST per batch with the batch's unique texts (several, sent
 * together, above `maxBatchSize`). A failed request (network error, non-2xx status, unreadable response, a count
 * of vectors that is not the count of texts) rejects with a message naming the URL and, when the server said,
 * why; the batch then falls back to exact dedup. `retries` and `timeoutMs` are off by default: the batch waits for
 * the embedder at most `embedTimeoutMs` in any case, so they decide how hard one call tries within that bound.
 *
 * @param options `url`, `fetch`, `api`, `headers`, `model`, `body`, `parse`, `maxBatchSize`, `timeoutMs`,
 * `retries`, `retryDelayMs`.
 * @return The embedder.
 */
export function createHttpEmbedder(options: HttpEmbedderOptions): Embedder {
  if (typeof options.url !== 'string' || options.url === '') throw new TypeError('createHttpEmbedder: url must be a non-empty string');
  if (typeof options.fetch !== 'function') throw new TypeError('createHttpEmbedder: fetch must be a function');
  const api = options.api ?? 'openai';
  if (!APIS.includes(api)) throw new TypeError(`createHttpEmbedder: api must be 'openai', 'ollama' or 'tei', got ${String(api)}`);
  if (api === 'ollama' && options.body === undefined && typeof options.model !== 'string') {
    throw new TypeError("createHttpEmbedder: api 'ollama' needs a model");
  }
  const maxBatchSize = options.maxBatchSize ?? (api === 'tei' ? TEI_MAX_CLIENT_BATCH_SIZE : Infinity);
  if (maxBatchSize !== Infinity && !(Number.isInteger(maxBatchSize) && maxBatchSize >= 1)) {
    throw new RangeError(`createHttpEmbedder: maxBatchSize must be an integer >= 1, got ${String(options.maxBatchSize)}`);
  }
  const timeoutMs = options.timeoutMs ?? Infinity;
  if (!(timeoutMs > 0)) throw new RangeError(`createHttpEmbedder: timeoutMs must be a number > 0, got ${String(options.timeoutMs)}`);
  const retries = options.retries ?? 0;
  if (!(Number.isInteger(retries) && retries >= 0)) {
    throw new RangeError(`createHttpEmbedder: retries must be an integer >= 0, got ${String(options.retries)}`);
  }
  const retryDelayMs = options.retryDelayMs ?? 100;
  if (!(retryDelayMs >= 0 && retryDelayMs < Infinity)) {
    throw new RangeError(`createHttpEmbedder: retryDelayMs must be a finite number >= 0, got ${String(options.retryDelayMs)}`);
  }
  const body = options.body ?? defaultBody(api, options.model);
  const parse = options.parse ?? parseEmbeddingResponse;
  const headers = { 'content-type': 'application/json', ...options.headers };
  // Called as a plain function: a browser's fetch throws "Illegal invocation" when called as a method of `options`.
  const fetch = options.fetch;
  const where = `HTTP embedder: ${options.url}`;

  const attempt = async (texts: string[]): Promise<ArrayLike<number>[]> => {
    const controller = timeoutMs === Infinity ? undefined : new AbortController();
    const init = { method: 'POST', headers, body: JSON.stringify(body(texts)), ...(controller && { signal: controller.signal }) };
    const call = (async () => {
      let response: Awaited<ReturnType<FetchLike>>;
      try {
        response = await fetch(options.url, init);
      } catch (error) {
        throw new AttemptError(`${where} failed: ${describe(error)}`, true, { cause: error });
      }
      if (!response.ok) {
        const said = await response.json().then(serverMessage, () => undefined);
        const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
        throw new AttemptError(`${where} answered ${response.status}${said ? `: ${said}` : ''}`, retryable);
      }
      let json: unknown;
      try {
        json = await response.json();
      } catch (error) {
        throw new AttemptError(`${where} answered ${response.status} with a body that is not JSON`, false, { cause: error });
      }
      const vectors = parse(json);
      if (!Array.isArray(vectors) || vectors.length !== texts.length) {
        const count = Array.isArray(vectors) ? `${vectors.length} vectors` : 'no array of vectors';
        throw new AttemptError(`${where} answered ${count} for ${texts.length} texts`, false);
      }
      return vectors;
    })();
    if (!controller) return call;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new AttemptError(`${where} did not answer within ${timeoutMs} ms (timeoutMs)`, true));
      }, timeoutMs);
    });
    call.catch(() => undefined); // lost to the timeout: its rejection (the abort) is expected
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };

  const withRetries = async (texts: string[]): Promise<ArrayLike<number>[]> => {
    for (let tried = 0; ; tried++) {
      try {
        return await attempt(texts);
      } catch (error) {
        if (!(error instanceof AttemptError) || !error.retryable || tried >= retries) {
          throw tried > 0 && error instanceof Error ? new Error(`${error.message} (after ${tried + 1} attempts)`, { cause: error }) : error;
        }
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * 2 ** tried));
      }
    }
  };

  // One request per chunk of at most maxBatchSize texts (one chunk when it is Infinity); no texts, no request.
  return async (texts) => {
    const chunks: string[][] = [];
    for (let start = 0; start < texts.length; start += maxBatchSize) chunks.push(texts.slice(start, start + maxBatchSize));
    return (await Promise.all(chunks.map(withRetries))).flat();
  };
}

/**
 * The body is only ever sent through JSON.stringify, which leaves out `model: undefined`; Ollama's
 * `{ model, input }` is the same JSON object as OpenAI's `{ input, model }`.
 */
function defaultBody(api: HttpEmbeddingApi, model: string | undefined): (texts: string[]) => unknown {
  return api === 'tei' ? (texts) => ({ inputs: texts }) : (texts) => ({ input: texts, model });
}

/** What an error answer says, in the shapes of OpenAI (`{ error: { message } }`), Ollama and TEI (`{ error }`). */
function serverMessage(json: unknown): string | undefined {
  const error = (json as { error?: unknown } | null)?.error;
  const message = typeof error === 'string' ? error : (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message.slice(0, 200) : undefined;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // Node's fetch puts the reason (ECONNREFUSED, ...) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${cause}`;
}

/**
 * Reads the common response shapes: OpenAI-compatible `{ data: [{ embedding, index }] }` (ordered by `index`),
 * `{ embeddings: number[][] }` (Ollama `/api/embed`) and a bare `number[][]` (Hugging Face TEI `/embed`).
 *
 * @param json The parsed response body.
 * @return One vector per input text; throws a `TypeError` on any other shape.
 */
export function parseEmbeddingResponse(json: unknown): ArrayLike<number>[] {
  if (Array.isArray(json)) return json as ArrayLike<number>[];
  const record = json as { data?: unknown; embeddings?: unknown } | null;
  if (record && Array.isArray(record.embeddings)) return record.embeddings as ArrayLike<number>[];
  if (record && Array.isArray(record.data)) {
    // An entry may be anything (null, a number): the check below names it, so the sort must not throw on it.
    const items = record.data as Array<{ embedding?: unknown; index?: unknown } | null | undefined>;
    return [...items]
      .sort((a, b) => Number(a?.index ?? 0) - Number(b?.index ?? 0))
      .map((item, i) => {
        if (!Array.isArray(item?.embedding)) throw new TypeError(`HTTP embedder: data[${i}].embedding is not an array`);
        return item.embedding as number[];
      });
  }
  throw new TypeError('HTTP embedder: unrecognised response; pass parse(json) to read it');
}
