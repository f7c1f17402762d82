import { textSource } from './embedder.js';
import { isPlainObject, restEncoding, TEXT_REMOVED } from './keys.js';

/**
 * The canonical encoding of a request with its text taken out: requests are only compared by similarity when
 * these are equal, so two questions with different parameters (model, language, user id) are never merged. The
 * rules are the default key's (docs/keys.md): what it cannot encode rejects the request with a `TypeError`.
 *
 * With the default `text`, exactly what it read is taken out: the string request, its `query` / `text` /
 * `prompt` / `input` field, or the content of its last chat message (each text part's `text`, the parts' other
 * fields and the message's role kept), so two chats differing in anything but that text (model, system prompt,
 * earlier turns, roles) stay apart. With a custom `text`, every string value equal to the extracted text is
 * taken out, at any depth; a text composed from several fields takes out nothing, which makes such requests
 * merge only when those fields are equal (the safe side). What is taken out leaves a mark that no value can
 * forge, so `{ query: 'a' }` and `{ text: 'a' }` stay apart.
 *
 * Called only for requests whose text was read (a request without text is deduplicated exactly instead).
 */
export function restKeyOf<T>(where: string, customText: boolean): (request: T, requestText: string) => string {
  if (!customText) {
    // The default text is read only from a string or an object (defaultText): nothing else gets here.
    return (request) => {
      // A string request is all text: what is left of it is the mark alone.
      if (typeof request === 'string') return restEncoding(where, TEXT_REMOVED);
      // A class instance is refused as a whole (its state may hide from its fields), not copied into a plain one.
      if (!isPlainObject(request as object)) return restEncoding(where, request);
      const source = textSource(request);
      // None: a getter that gave the text when it was read and nothing now. The request is encoded whole.
      if (source === undefined) return restEncoding(where, request);
      const record = request as Record<string, unknown>;
      const removed = source === 'messages' ? withoutLastMessageText(record['messages'] as unknown[]) : TEXT_REMOVED;
      return restEncoding(where, { ...record, [source]: removed });
    };
  }
  return (request, requestText) => restEncoding(where, request, requestText);
}

/**
 * A copy of `messages` whose last message has its text contents replaced by the mark. `textSource` returned
 * `'messages'`, so the last message is a plain object and its content a string or an array of plain text parts.
 */
function withoutLastMessageText(messages: readonly unknown[]): unknown[] {
  const last = messages.length - 1;
  const message = messages[last] as { content: string | Record<string, unknown>[] };
  const content = message.content;
  // The earlier messages as they are, then the last one's copy (a loop into a presized array had equivalent mutants).
  return [
    ...messages.slice(0, last),
    { ...message, content: typeof content === 'string' ? TEXT_REMOVED : content.map((part) => ({ ...part, text: TEXT_REMOVED })) },
  ];
}
