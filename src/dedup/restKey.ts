import { defaultTextField } from './embedder.js';
import { isPlainObject, restEncoding, TEXT_REMOVED } from './keys.js';

/**
 * The canonical encoding of a request with its text taken out: requests are only compared by similarity when
 * these are equal, so two questions with different parameters (model, language, user id) are never merged. The
 * rules are the default key's (docs/keys.md): what it cannot encode rejects the request with a `TypeError`.
 *
 * With the default `text`, the string request or its `query` / `text` field is taken out. With a custom `text`,
 * every string value equal to the extracted text is taken out, at any depth; a text composed from several fields
 * takes out nothing, which makes such requests merge only when those fields are equal (the safe side). What is
 * taken out leaves a mark that no value can forge, so `{ query: 'a' }` and `{ text: 'a' }` stay apart.
 */
export function restKeyOf<T>(where: string, customText: boolean): (request: T, requestText: string) => string {
  if (!customText) {
    return (request) => {
      if (typeof request !== 'object' || request === null) return '';
      const field = defaultTextField(request);
      // A class instance is refused as a whole (its state may hide from its fields), not copied into a plain one.
      if (field === undefined || !isPlainObject(request)) return restEncoding(where, request);
      return restEncoding(where, { ...(request as Record<string, unknown>), [field]: TEXT_REMOVED });
    };
  }
  return (request, requestText) => restEncoding(where, request, requestText);
}
