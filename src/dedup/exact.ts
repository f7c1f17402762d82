import type { DedupedBatch } from '../types.js';
import {
  checkedKey,
  checkedScope,
  customSlotKey,
  defaultSlotKey,
  isEncoded,
  type DedupScope,
} from './keys.js';

export { describeThrow, stableKey } from './keys.js';

/** How requests are grouped for exact dedup: by scope, then by key. */
export interface Grouping<T> {
  /** The raw key of an item: what the user's `key` returned (a throw names it), or the request itself by default. */
  readonly key: (item: T) => unknown;
  /**
   * Checks a raw key and turns it into a map key: a primitive as it is, an array or object as its canonical
   * encoding (kept in tables apart from primitives, see `isEncoded`). Throws a `TypeError` naming what is wrong.
   * Default: the rules for a user's key.
   */
  readonly slotKey?: (key: unknown) => unknown;
  /** The item's scope, checked (a throw or a value of the wrong type names `scope`); undefined: no scopes. */
  readonly scope: ((item: T) => DedupScope) | undefined;
}

const sameRequest = <T>(request: T): unknown => request;
const defaultCustomSlotKey = /* @__PURE__ */ customSlotKey('dedupBy');

/** The grouping of `key` and `scope` options: the default key when `key` is undefined. */
export function groupingOf<T>(
  where: string,
  key: ((request: T) => unknown) | undefined,
  scope: ((request: T) => unknown) | undefined,
): Grouping<T> {
  return {
    key: key ? checkedKey(where, key) : sameRequest,
    slotKey: key ? customSlotKey(where) : defaultSlotKey(where),
    scope: scope && checkedScope(where, scope),
  };
}

/**
 * The same grouping over wrappers of requests (`batchDedup`'s envelopes): `key` and `scope` read
 * `unwrap(wrapper)`, and `scopeOf(wrapper)`, when defined, overrides `scope`.
 */
export function mapGrouping<T, U>(
  grouping: Grouping<T>,
  unwrap: (wrapper: U) => T,
  scopeOf: (wrapper: U) => DedupScope,
): Grouping<U> {
  const { key, scope } = grouping;
  return {
    key: (u) => key(unwrap(u)),
    slotKey: grouping.slotKey,
    scope: scope ? (u) => scopeOf(u) ?? scope(unwrap(u)) : scopeOf,
  };
}

type KeyTable = Map<unknown, number>;

/**
 * The key tables of one batch: one per scope for primitive keys and, apart from those, one per scope for the
 * encodings of array and object keys, so keys of different scopes never collide and no string can pose as an
 * encoding. A Map keeps `'1'`, `1` and `1n` apart, as scopes and as keys. Most batches need one table only, so
 * the lookup by scope is made when a second one is asked for.
 */
class KeyTables {
  /** The table asked for first; the only one in most batches. */
  first: KeyTable | undefined;
  private firstScope: DedupScope;
  private firstEncoded: boolean | undefined;
  /** Every table by scope, primitive keys apart from encodings: made when a second table is asked for. */
  private all: { readonly plain: Map<DedupScope, KeyTable>; readonly encoded: Map<DedupScope, KeyTable> } | undefined;

  /** The table of a scope and kind of key. (The caller asks again only when these change from item to item.) */
  get(scope: DedupScope, encoded: boolean): KeyTable {
    if (this.first === undefined) {
      this.firstScope = scope;
      this.firstEncoded = encoded;
      return (this.first = new Map());
    }
    if (this.all === undefined) {
      this.all = { plain: new Map(), encoded: new Map() };
      (this.firstEncoded ? this.all.encoded : this.all.plain).set(this.firstScope, this.first);
    }
    const tables = encoded ? this.all.encoded : this.all.plain;
    let table = tables.get(scope);
    if (!table) tables.set(scope, (table = new Map()));
    return table;
  }

  /** How many distinct keys the tables hold. */
  // Stryker disable next-line BlockStatement: a count below the true one only sends a batch without duplicates down the slow path, which gives the same answer.
  get distinct(): number {
    // Stryker disable next-line ConditionalExpression,EqualityOperator,LogicalOperator: a count below the true one (the first table's alone, or 0) only sends a batch without duplicates down the slow path, which gives the same answer.
    if (this.all === undefined) return this.first?.size ?? 0;
    let distinct = 0;
    // Stryker disable next-line AssignmentOperator: a count below the true one only sends a batch without duplicates down the slow path, which gives the same answer.
    for (const table of this.all.plain.values()) distinct += table.size;
    // Stryker disable next-line AssignmentOperator: a count below the true one only sends a batch without duplicates down the slow path, which gives the same answer.
    for (const table of this.all.encoded.values()) distinct += table.size;
    return distinct;
  }
}

/**
 * Exact dedup: items with equal scope and equal key share one leader, the first of them to arrive.
 * An item whose key or scope throws, or returns what a key or scope may not be, is not lost: it is reported in
 * `failures` (a `TypeError` naming the problem) with `leaderOf[i] === -1`.
 *
 * Most batches hold no duplicate at all, so the table is filled backwards, one `set` per item: each key ends up
 * mapped to its first item, and when the tables hold as many keys as there are items every item leads itself.
 * Only a batch with duplicates pays a second pass that reads each item's leader back.
 */
export function dedupExact<T>(items: readonly T[], grouping: Grouping<T>): DedupedBatch<T> {
  const { key, scope } = grouping;
  const slotKey = grouping.slotKey ?? defaultCustomSlotKey;
  const n = items.length;
  // Stryker disable next-line ArrayDeclaration: sized up front for speed only; every slot read is written first.
  const keys = new Array<unknown>(n);
  const keyTables = new KeyTables();
  // The table of each item, made when a second table (or a failed item) shows up; until then it is the first.
  let tables: (KeyTable | undefined)[] | undefined;
  let failures: Map<number, unknown> | undefined;
  // Consecutive items usually share a scope and a kind of key: remember the last table looked up.
  let lastScope: DedupScope;
  let lastEncoded: boolean | undefined;
  let lastTable: KeyTable | undefined;
  const perItem = (i: number) => (tables = new Array<KeyTable | undefined>(n).fill(keyTables.first, 0, i));
  for (let i = 0; i < n; i++) {
    const item = items[i]!;
    let itemScope: DedupScope;
    let itemKey: unknown;
    let encoded = false;
    try {
      itemScope = scope === undefined ? undefined : scope(item);
      const raw = key(item);
      // A string, the common key, is its own map key; anything else is checked (and objects encoded).
      // Stryker disable next-line ConditionalExpression,StringLiteral: without this fast path a string goes through slotKey, which returns it as it is, and isEncoded, false for it: the same key in the same table.
      if (typeof raw === 'string') itemKey = raw;
      else {
        itemKey = slotKey(raw);
        encoded = isEncoded(raw);
      }
    } catch (error) {
      (failures ??= new Map()).set(i, error);
      (tables ?? perItem(i))[i] = undefined;
      continue;
    }
    // (`lastEncoded` starts undefined, so the first item looks its table up.)
    // Stryker disable next-line ConditionalExpression: looking the table up for every item finds the same table.
    if (itemScope !== lastScope || encoded !== lastEncoded) {
      lastTable = keyTables.get(itemScope, encoded);
      lastScope = itemScope;
      lastEncoded = encoded;
    }
    keys[i] = itemKey;
    if (tables) tables[i] = lastTable;
    else {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: per-item tables made while there is one table (or from the first item on) hold the same tables: the same answer, slower.
      if (lastTable !== keyTables.first) perItem(i)[i] = lastTable;
    }
  }
  const firstTable = keyTables.first;
  if (tables) {
    // Stryker disable next-line ArithmeticOperator: starting at n + 1 first reads tables[n + 1] and tables[n], past the end: undefined, which `?.` skips.
    for (let i = n - 1; i >= 0; i--) tables[i]?.set(keys[i], i);
  } else {
    // No failure and one table: every item looked it up, so there is one (or no item at all).
    for (let i = n - 1; i >= 0; i--) firstTable!.set(keys[i], i);
  }
  // Stryker disable next-line ArrayDeclaration: sized up front for speed only; every entry is written before it is read.
  const leaderOf = new Array<number>(n);
  // A failed item adds no key, so with failures there are fewer keys than items.
  // Stryker disable next-line ConditionalExpression,BlockStatement: the loop below gives every item of a batch without duplicates its own leader too, and unique equal to items (the block emptied sends every batch down it).
  if (keyTables.distinct === n) {
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
