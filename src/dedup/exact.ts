import stableStringify from 'fast-json-stable-stringify';
import type { DedupedBatch } from '../types.js';
import { describeThrown } from '../internal/describeValue.js';

/** The default exact key: canonical JSON, so `{ a: 1, b: 2 }` and `{ b: 2, a: 1 }` are equal. */
export function stableKey(request: unknown): string {
  // Primitives stringify the same either way; the native JSON.stringify is much faster for them.
  const key = typeof request === 'object' && request !== null ? stableStringify(request) : JSON.stringify(request);
  // Both return undefined for undefined and functions; keep those distinct from every string.
  return key ?? `\u0000${typeof request}`;
}

/** Names the user function that threw, keeping the original as `cause`. */
export function describeThrow(fnName: string, error: unknown): TypeError {
  // describeThrown never throws (String() of a null-prototype object would, and fail the whole batch).
  return new TypeError(`dedupBy: ${fnName}(request) threw: ${describeThrown(error)}`, { cause: error });
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

type KeyTable = Map<unknown, number>;

/**
 * The key tables of one batch: one per scope, and apart from those one per scope for raw strings, so keys of
 * different scopes never collide and no string can pose as another key's JSON. Most batches need one table
 * only, so the lookup by scope is made when a second one is asked for.
 */
class KeyTables {
  /** The table asked for first; the only one in most batches. */
  first: KeyTable | undefined;
  private firstScope: string | undefined;
  private firstStrings = false;
  private byScope: Map<string | undefined, KeyTable> | undefined;
  private stringsByScope: Map<string | undefined, KeyTable> | undefined;

  get(scope: string | undefined, strings: boolean): KeyTable {
    if (this.first === undefined) {
      this.firstScope = scope;
      this.firstStrings = strings;
      return (this.first = new Map());
    }
    if (scope === this.firstScope && strings === this.firstStrings) return this.first;
    if (!this.byScope || !this.stringsByScope) {
      this.byScope = new Map();
      this.stringsByScope = new Map();
      (this.firstStrings ? this.stringsByScope : this.byScope).set(this.firstScope, this.first);
    }
    const tables = strings ? this.stringsByScope : this.byScope;
    let table = tables.get(scope);
    if (!table) tables.set(scope, (table = new Map()));
    return table;
  }

  /** How many distinct keys the tables hold. */
  get distinct(): number {
    if (!this.byScope || !this.stringsByScope) return this.first?.size ?? 0;
    let distinct = 0;
    for (const table of this.byScope.values()) distinct += table.size;
    for (const table of this.stringsByScope.values()) distinct += table.size;
    return distinct;
  }
}

/**
 * Exact dedup: items with equal scope and equal key share one leader, the first of them to arrive.
 * An item whose key or scope throws is not lost: it is reported in `failures` with `leaderOf[i] === -1`.
 *
 * Most batches hold no duplicate at all, so the table is filled backwards, one `set` per item: each key ends up
 * mapped to its first item, and when the tables hold as many keys as there are items every item leads itself.
 * Only a batch with duplicates pays a second pass that reads each item's leader back.
 */
export function dedupExact<T>(items: readonly T[], { key, scope, rawRequest }: Grouping<T>): DedupedBatch<T> {
  const n = items.length;
  const keys = new Array<unknown>(n);
  const keyTables = new KeyTables();
  // The table of each item, made when a second table (or a failed item) shows up; until then it is the first.
  let tables: (KeyTable | undefined)[] | undefined;
  let failures: Map<number, unknown> | undefined;
  // Consecutive items usually share a scope and a kind of key: remember the last table looked up.
  let lastScope: string | undefined;
  let lastStrings: boolean | undefined;
  let lastTable: KeyTable | undefined;
  const perItem = (i: number) => {
    tables = new Array<KeyTable | undefined>(n);
    for (let j = 0; j < i; j++) tables[j] = keyTables.first;
    return tables;
  };
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    let itemScope: string | undefined;
    let itemKey: unknown;
    let strings = false;
    try {
      itemScope = scope?.(item);
    } catch (error) {
      (failures ??= new Map()).set(i, describeThrow('scope', error));
      (tables ?? perItem(i))[i] = undefined;
      continue;
    }
    try {
      if (rawRequest) {
        const request = rawRequest(item);
        if (typeof request === 'string') {
          itemKey = request;
          strings = true;
        } else {
          // A number keys by value (a number never equals a string key); anything else by its JSON.
          itemKey = typeof request === 'number' && Number.isFinite(request) ? request : stableKey(request);
        }
      } else {
        itemKey = key(item);
      }
    } catch (error) {
      (failures ??= new Map()).set(i, describeThrow('key', error));
      (tables ?? perItem(i))[i] = undefined;
      continue;
    }
    if (lastTable === undefined || itemScope !== lastScope || strings !== lastStrings) {
      lastTable = keyTables.get(itemScope, strings);
      lastScope = itemScope;
      lastStrings = strings;
    }
    keys[i] = itemKey;
    if (tables) tables[i] = lastTable;
    else if (lastTable !== keyTables.first) perItem(i)[i] = lastTable;
  }
  const firstTable = keyTables.first;
  if (tables) {
    for (let i = n - 1; i >= 0; i--) tables[i]?.set(keys[i], i);
  } else if (firstTable) {
    for (let i = n - 1; i >= 0; i--) firstTable.set(keys[i], i);
  }
  const leaderOf = new Array<number>(n);
  if (!failures && keyTables.distinct === n) {
    for (let i = 0; i < n; i++) leaderOf[i] = i;
    return { items, unique: items, leaderOf };
  }
  const unique: T[] = [];
  for (let i = 0; i < n; i++) {
    const table = tables ? tables[i] : firstTable;
    if (table === undefined) {
      leaderOf[i] = -1;
      continue;
    }
    const first = table.get(keys[i])!;
    if (first === i) {
      leaderOf[i] = unique.length;
      unique.push(items[i]!);
    } else {
      leaderOf[i] = leaderOf[first]!;
    }
  }
  return failures ? { items, unique, leaderOf, failures } : { items, unique, leaderOf };
}

/** No dedup: every item is its own leader. */
export function dedupNone<T>(items: readonly T[]): DedupedBatch<T> {
  return { items, unique: items, leaderOf: items.map((_, i) => i) };
}
