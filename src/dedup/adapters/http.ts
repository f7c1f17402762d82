import type { Embedder } from '../embedder.js';

/** The part of the Fetch API the HTTP embedder uses; pass `globalThis.fetch` or your own client. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body: string },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface HttpEmbedderOptions {
  /** The embeddings endpoint, e.g. `https://api.openai.com/v1/embeddings` or a local TEI / Ollama server. */
  url: string;
  /** The fetch function to call. Required: the library never picks a network client for you. */
  fetch: FetchLike;
  /** Sent with every request (authorisation, ...). `content-type: application/json` is added. */
  headers?: Record<string, string>;
  /** Sent as `model` in the default body. */
  model?: string;
  /** The JSON body for a batch of texts. Default `{ input: texts, model }` (OpenAI-compatible). */
  body?: (texts: string[]) => unknown;
  /** Reads the vectors from the response JSON. Default: see `parseEmbeddingResponse`. */
  parse?: (json: unknown) => ArrayLike<number>[];
}

/**
 * An `Embedder` over an HTTP embeddings API: one POST per batch with the batch's unique texts.
 * A failed request (network error, non-2xx status, unreadable response) rejects, and the batch falls back to
 * exact dedup; nothing is retried here, so a slow API costs dedup quality, not latency beyond one call.
 *
 * @param options `url`, `fetch`, `headers`, `model`, `body`, `parse`.
 * @return The embedder.
 */
export function createHttpEmbedder(options: HttpEmbedderOptions): Embedder {
  if (typeof options.url !== 'string' || options.url === '') throw new TypeError('createHttpEmbedder: url must be a non-empty string');
  if (typeof options.fetch !== 'function') throw new TypeError('createHttpEmbedder: fetch must be a function');
  const body = options.body ?? ((texts: string[]) => (options.model === undefined ? { input: texts } : { input: texts, model: options.model }));
  const parse = options.parse ?? parseEmbeddingResponse;
  const headers = { 'content-type': 'application/json', ...options.headers };
  return async (texts) => {
    const response = await options.fetch(options.url, { method: 'POST', headers, body: JSON.stringify(body(texts)) });
    if (!response.ok) throw new Error(`HTTP embedder: ${options.url} answered ${response.status}`);
    return parse(await response.json());
  };
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
    const items = record.data as Array<{ embedding?: unknown; index?: unknown }>;
    return [...items]
      .sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0))
      .map((item, i) => {
        if (!Array.isArray(item?.embedding)) throw new TypeError(`HTTP embedder: data[${i}].embedding is not an array`);
        return item.embedding as number[];
      });
  }
  throw new TypeError('HTTP embedder: unrecognised response; pass parse(json) to read it');
}
