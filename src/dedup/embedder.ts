/**
 * Turns texts into vectors, one per text, in order. Called at most once per batch, with the texts still unique
 * (and not cached). May answer synchronously (then dedup stays in the batch's frame) or with a promise (any
 * thenable); a batch waits for that promise at most `embedTimeoutMs`, then goes on with exact dedup.
 */
export type Embedder = (texts: string[]) => PromiseLike<ArrayLike<number>[]> | ArrayLike<number>[];

import { isPlainObject } from './keys.js';

/** The string fields the default `text(request)` reads, the first string one wins. */
export const TEXT_FIELDS = ['query', 'text', 'prompt', 'input'] as const;

/**
 * Where the default `text(request)` reads a request's text: `'request'` for a string request, one of
 * `TEXT_FIELDS`, or `'messages'` for the last message of a chat. The rest key (restKey.ts) takes out exactly what
 * was read from there: `textSource` and `defaultText` follow the same steps (the property tests check they agree).
 */
export type TextSource = 'request' | (typeof TEXT_FIELDS)[number] | 'messages';

/**
 * The default `text(request)`, or undefined when the request holds no text it can read (that request is then
 * deduplicated exactly). In this order:
 * - a string request: itself;
 * - the first of the fields `query`, `text`, `prompt`, `input` that holds a string;
 * - a chat request's `messages` array (OpenAI and Anthropic style): the content of its **last** message, when it
 *   is a plain object whose `content` is a string, or a non-empty array of text parts `{ type: 'text', text }`
 *   (their texts joined by newlines). Earlier messages are not read: they stay in the rest of the request, which
 *   is compared exactly, so two conversations are compared only when everything but their last message's text
 *   is equal (same model, system prompt, history, roles).
 * Anything else (a last message holding an image, audio or tool call, an `input` array, no such field) has no
 * text. Never throws.
 */
export function defaultText(request: unknown): string | undefined {
  if (typeof request === 'string') return request;
  // Stryker disable next-line ConditionalExpression,LogicalOperator: without it a primitive has none of the fields and no messages (undefined below), and null throws on the first read, which the catch answers with undefined: the same.
  if (typeof request !== 'object' || request === null) return undefined;
  const record = request as Record<string, unknown>;
  try {
    for (const field of TEXT_FIELDS) {
      const value = record[field];
      if (typeof value === 'string') return value;
    }
    return lastMessageText(record['messages']);
  } catch {
    // A getter that threw: no text (the exact key says what is wrong with the request, if anything). Nothing in
    // this block: a `return undefined` here was the same as none (an emptied block was an equivalent mutant).
  }
  return undefined;
}

/** Where the default `text` reads `request`'s text, or undefined when it has none (see `defaultText`). */
export function textSource(request: unknown): TextSource | undefined {
  if (typeof request === 'string') return 'request';
  if (typeof request !== 'object' || request === null) return undefined;
  const record = request as Record<string, unknown>;
  for (const field of TEXT_FIELDS) if (typeof record[field] === 'string') return field;
  return lastMessageText(record['messages']) === undefined ? undefined : 'messages';
}

/**
 * The text of a chat's last message, or undefined. Only plain objects count (a class instance may hide state, and
 * the rest key refuses to copy one), and only text parts: a message that is not all text cannot be compared by
 * its text alone.
 */
function lastMessageText(messages: unknown): string | undefined {
  // No check for an empty array or content here: `at(-1)` of [] is undefined (no text), and a loop over no part
  // leaves `text` undefined (those checks were equivalent mutants).
  if (!Array.isArray(messages)) return undefined;
  const last: unknown = messages.at(-1);
  if (typeof last !== 'object' || last === null || Array.isArray(last) || !isPlainObject(last)) return undefined;
  const content = (last as { content?: unknown }).content;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let text: string | undefined;
  for (const part of content as unknown[]) {
    if (!isTextPart(part)) return undefined;
    text = text === undefined ? part.text : `${text}\n${part.text}`;
  }
  return text;
}

/** `{ type: 'text', text: string }`, a plain object, any other fields (they stay in the rest key). */
export function isTextPart(part: unknown): part is { type: 'text'; text: string } {
  if (typeof part !== 'object' || part === null || Array.isArray(part) || !isPlainObject(part)) return false;
  const { type, text } = part as { type?: unknown; text?: unknown };
  return type === 'text' && typeof text === 'string';
}
