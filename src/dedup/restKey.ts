import { stableKey } from './exact.js';
import { defaultTextField } from './embedder.js';

/**
 * The stable key of a request with its text removed: requests are only compared by similarity when these are
 * equal, so two questions with different parameters (model, language, user id) are never merged.
 *
 * With the default `text`, the string request or its `query` / `text` field is removed. With a custom `text`,
 * every string value equal to the extracted text is removed, at any depth; a text composed from several fields
 * removes nothing, which makes such requests merge only when those fields are equal (the safe side).
 */
export function restKeyOf<T>(customText: boolean): (request: T, requestText: string) => string {
  if (!customText) {
    return (request) => {
      if (typeof request !== 'object' || request === null) return '';
      const field = defaultTextField(request);
      const rest: Record<string, unknown> = { ...(request as Record<string, unknown>) };
      if (field !== undefined) delete rest[field];
      return stableKey(rest);
    };
  }
  return (request, requestText) => stableKey(withoutText(request, requestText, new Set()));
}

const REMOVED = '\u0000text';

function withoutText(value: unknown, text: string, path: Set<object>): unknown {
  if (value === text) return REMOVED;
  if (typeof value !== 'object' || value === null) return value;
  // Dates and other JSON-aware objects: compare what the key would see.
  const json = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof json === 'function') return withoutText(json.call(value), text, path);
  if (path.has(value)) throw new TypeError('request has a circular reference');
  path.add(value);
  try {
    if (Array.isArray(value)) return value.map((element) => withoutText(element, text, path));
    const copy: Record<string, unknown> = {};
    for (const [field, element] of Object.entries(value)) {
      if (element !== text) copy[field] = withoutText(element, text, path);
    }
    return copy;
  } finally {
    path.delete(value);
  }
}
