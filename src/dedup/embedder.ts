/**
 * Turns texts into vectors, one per text, in order. Called at most once per batch, with the texts still unique
 * (and not cached). May answer synchronously (then dedup stays in the batch's frame) or with a promise (any
 * thenable); a batch waits for that promise at most `embedTimeoutMs`, then goes on with exact dedup.
 */
export type Embedder = (texts: string[]) => PromiseLike<ArrayLike<number>[]> | ArrayLike<number>[];

/**
 * The default `text(request)`: the request itself when it is a string, else its string `query` field, else its
 * string `text` field. Anything else throws a `TypeError` saying what to pass instead.
 */
export function defaultText(request: unknown): string {
  if (typeof request === 'string') return request;
  const field = defaultTextField(request);
  if (field !== undefined) return (request as Record<string, string>)[field]!;
  const shape =
    typeof request === 'object' && request !== null
      ? `an object with fields ${JSON.stringify(Object.keys(request).slice(0, 8))}`
      : typeof request;
  throw new TypeError(
    `the default text(request) needs a string request or a string 'query' or 'text' field, got ${shape}; pass a text option`,
  );
}

/** The field the default `text` reads, or undefined for a string request or when there is none. */
export function defaultTextField(request: unknown): 'query' | 'text' | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const record = request as Record<string, unknown>;
  if (typeof record['query'] === 'string') return 'query';
  if (typeof record['text'] === 'string') return 'text';
  return undefined;
}
