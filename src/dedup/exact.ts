import stableStringify from 'fast-json-stable-stringify';
import type { DedupedBatch } from '../types.js';

/** The default exact key: canonical JSON, so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` are equal. */
export function stableKey(request: unknown): string {
  // Primitives stringify the same either way; the native JSON.stringify is much faster for them.
  const key = typeof request === 'object' && request !== null ? stableStringify(request) : JSON.stringify(request);
  // Both return undefined for undefined and functions; keep those distinct from every string.
  return key ?? `\u0000${typeof request}`;
}

/** Names the user function that threw, keeping the original as `cause`. */
export function describeThrow(fnName: string, error: unknown): TypeError {
  const message = error instanceof Error ? error.message : String(error);
  return new TypeError(`dedupBy: ${fnName}(request) threw: ${message}`, { cause: error });
}

export interface Grouping<T> {
  readonly key: (request: T) => unknown;
  readonly scope: ((request: T) => string | undefined) | undefined;
  /**
   * Set when `key` is the default `stableKey`: the request itself (through any wrapper). Exact dedup then keys
   * strings and numbers by their own value, in maps apart from the JSON keys, which is equivalent to comparing
   * their JSON and costs no string per request.
   */
  readonly rawRequest?: ((item: T) => unknown) | undefined;
}

/**
 * Exact dedup: items with equal scope and equal key share one leader, the first of them to arrive.
 * An item whose key or scope throws is not lost: it is reported in `failures` with `leaderOf[i] === -1`.
 */
export function dedupExact<T>(items: readonly T[], { key, scope, rawRequest }: Grouping<T>): DedupedBatch<T> {
  const unique: T[] = [];
  const leaderOf: number[] = new Array<number>(items.length);
  let failures: Map<number, unknown> | undefined;
  // One map per scope: keys of different scopes can never collide, whatever characters they contain.
  const byScope = new Map<string | undefined, Map<unknown, number>>();
  // Raw string requests (default key only) in maps of their own, so no string can pose as another key's JSON.
  const stringsByScope = new Map<string | undefined, Map<unknown, number>>();
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    let itemScope: string | undefined;
    let itemKey: unknown;
    try {
      itemScope = scope?.(item);
    } catch (error) {
      (failures ??= new Map()).set(i, describeThrow('scope', error));
      leaderOf[i] = -1;
      continue;
    }
    let maps = byScope;
    try {
      if (rawRequest) {
        const request = rawRequest(item);
        if (typeof request === 'string') {
          itemKey = request;
          maps = stringsByScope;
        } else {
          // A number keys by value (a number never equals a string key); anything else by its JSON.
          itemKey = typeof request === 'number' && Number.isFinite(request) ? request : stableKey(request);
        }
      } else {
        itemKey = key(item);
      }
    } catch (error) {
      (failures ??= new Map()).set(i, describeThrow('key', error));
      leaderOf[i] = -1;
      continue;
    }
    let leaders = maps.get(itemScope);
    if (!leaders) maps.set(itemScope, (leaders = new Map()));
    const leader = leaders.get(itemKey);
    if (leader === undefined) {
      leaders.set(itemKey, unique.length);
      leaderOf[i] = unique.length;
      unique.push(item);
    } else {
      leaderOf[i] = leader;
    }
  }
  return failures ? { items, unique, leaderOf, failures } : { items, unique, leaderOf };
}

/** No dedup: every item is its own leader. */
export function dedupNone<T>(items: readonly T[]): DedupedBatch<T> {
  return { items, unique: items.slice(), leaderOf: items.map((_, i) => i) };
}
