/**
 * A result store shared by several processes (replicas): the second tier of `resultCache`, behind the in-process
 * cache. The pipeline consults it at the execute boundary, for the distinct items of each batch; see
 * docs/replicas.md. Implementations: `keyvStore` (any Keyv instance) and `redisStore` (`rxjs-batch-dedup/redis`,
 * which also coalesces executions in flight across processes through `leases`); `sharedStore` turns a
 * `ResultStore` of your own into what `resultCache.store` takes.
 */
import { sharedExecute } from '../internal/sharedExecute.js';

export { perKey } from '../internal/sharedExecute.js';
import type { ResultLeases, ResultStore, SharedStore } from '../internal/sharedTier.js';

export type { ResultLeases, ResultStore, SharedStore } from '../internal/sharedTier.js';

/**
 * What `resultCache.store` takes, from a `ResultStore` of your own (`keyvStore` and `redisStore` return one
 * already): the store, with how a batch runs through it. Only a pipeline given a store bundles that part.
 * @throws TypeError when `store` has no `get` and `set`, or `leases` lacks a method or a positive `leaseMs`
 */
export function sharedStore(store: ResultStore): SharedStore {
  const where = 'sharedStore';
  if (typeof store !== 'object' || store === null || typeof store.get !== 'function' || typeof store.set !== 'function') {
    throw new TypeError(`${where}: expected a ResultStore, an object with get(keys) and set(entries, ttlMs)`);
  }
  const leases: Partial<ResultLeases> | undefined = store.leases;
  if (
    leases !== undefined &&
    (typeof leases !== 'object' ||
      leases === null ||
      typeof leases.claim !== 'function' ||
      typeof leases.release !== 'function' ||
      typeof leases.wait !== 'function' ||
      typeof leases.leaseMs !== 'number' ||
      !(leases.leaseMs > 0))
  ) {
    throw new TypeError(`${where}: leases must have leaseMs (a positive number of ms), claim(keys), release(keys) and wait(keys, timeoutMs)`);
  }
  return {
    get: (keys) => store.get(keys),
    set: (entries, ttlMs) => store.set(entries, ttlMs),
    ...(leases !== undefined && { leases: leases as ResultLeases }),
    sharedExecute,
  };
}

/** Turns a result into what the store holds, and back. JSON by default. */
export interface StoreSerializer {
  serialize?: (value: unknown) => string;
  deserialize?: (text: string) => unknown;
}

export const jsonSerializer: Required<StoreSerializer> = {
  serialize: (value) => JSON.stringify(value),
  deserialize: (text) => JSON.parse(text) as unknown,
};

/**
 * The serialize/deserialize pair of a store's options, checked: each a function when given.
 * @throws TypeError naming the option
 */
export function resolveSerializer(where: string, options: StoreSerializer): Required<StoreSerializer> {
  // `options` is the store's options object, checked by the caller (keyvStore, redisStore): no `?.` to survive.
  const serialize = options.serialize === undefined ? jsonSerializer.serialize : options.serialize;
  const deserialize = options.deserialize === undefined ? jsonSerializer.deserialize : options.deserialize;
  if (typeof serialize !== 'function') throw new TypeError(`${where}: serialize must be a function (value) => string`);
  if (typeof deserialize !== 'function') throw new TypeError(`${where}: deserialize must be a function (text) => value`);
  return { serialize, deserialize };
}

/**
 * A result as the store holds it, or `undefined` when it cannot be (the serializer threw, or returned no string,
 * as JSON does for `undefined`): such a result is simply not shared.
 */
export function encodeValue(serializer: Required<StoreSerializer>, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // A serializer that throws: not shared (the catch is empty: the function then ends, answering undefined).
  try {
    const text = serializer.serialize(value);
    if (typeof text === 'string') return text;
  } catch {}
  return undefined;
}

/** A stored text read back; a text that does not parse counts as no entry. */
export function decodeValue(serializer: Required<StoreSerializer>, text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  // A text that does not parse: no entry (the catch is empty: the function then ends, answering undefined).
  try {
    return serializer.deserialize(text);
  } catch {}
  return undefined;
}

/** A prefix option, checked: a string (possibly empty). */
export function resolvePrefix(where: string, prefix: unknown, fallback: string): string {
  if (prefix === undefined) return fallback;
  if (typeof prefix !== 'string') throw new TypeError(`${where}: prefix must be a string, e.g. 'myapp:answers:'`);
  return prefix;
}
