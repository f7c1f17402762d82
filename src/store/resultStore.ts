/**
 * A result store shared by several processes (replicas): the second tier of `resultCache`, behind the in-process
 * cache. The pipeline consults it at the execute boundary, for the distinct items of each batch; see
 * docs/replicas.md. Implementations: `keyvStore` (any Keyv instance) and `redisStore` (`rxjs-batch-dedup/redis`,
 * which also coalesces executions in flight across processes through `leases`).
 */

/**
 * Async get and set with a TTL. Keys are strings the pipeline composes from a request's scope and key (see
 * docs/replicas.md); a store adds its own prefix. Values are the results of `execute` as they are: the store
 * serializes them (JSON by default). `undefined` means "no entry", so an `undefined` result is never stored.
 */
export interface ResultStore {
  /** For each key, its stored result, or `undefined` when there is none (or it cannot be read back). */
  get(keys: readonly string[]): PromiseLike<readonly unknown[]>;
  /** Stores fulfilled results for `ttlMs`. */
  set(entries: readonly (readonly [key: string, value: unknown])[], ttlMs: number): PromiseLike<void>;
  /** Coalescing in flight across processes; without it each process executes its own misses. */
  readonly leases?: ResultLeases;
}

/**
 * One execution per key across processes: the first to `claim` a key executes it and stores the result; the
 * others `wait` for that result. A lease that ends with no result (its holder died, or its execution failed and
 * it released the lease) lets one waiter claim the key in turn.
 */
export interface ResultLeases {
  /** How long a lease lasts, ms: a holder that dies is replaced this long after its claim at most. */
  readonly leaseMs: number;
  /** For each key, true when this process now holds its lease (taken only where nobody held it). */
  claim(keys: readonly string[]): PromiseLike<readonly boolean[]>;
  /** Gives up the leases this process holds on `keys` (after storing their results, or after a failure). */
  release(keys: readonly string[]): PromiseLike<void>;
  /**
   * Waits for the results of keys leased by others, at most `timeoutMs`. For each key: its result, or
   * `undefined` when its lease ended with no result or the time ran out (the caller then claims it or executes).
   */
  wait(keys: readonly string[], timeoutMs: number): PromiseLike<readonly unknown[]>;
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
export function resolveSerializer(where: string, options: StoreSerializer | undefined): Required<StoreSerializer> {
  const serialize = options?.serialize === undefined ? jsonSerializer.serialize : options.serialize;
  const deserialize = options?.deserialize === undefined ? jsonSerializer.deserialize : options.deserialize;
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
  try {
    const text = serializer.serialize(value);
    return typeof text === 'string' ? text : undefined;
  } catch {
    return undefined;
  }
}

/** A stored text read back; a text that does not parse counts as no entry. */
export function decodeValue(serializer: Required<StoreSerializer>, text: unknown): unknown {
  if (typeof text !== 'string') return undefined;
  try {
    return serializer.deserialize(text);
  } catch {
    return undefined;
  }
}

/** A prefix option, checked: a string (possibly empty). */
export function resolvePrefix(where: string, prefix: unknown, fallback: string): string {
  if (prefix === undefined) return fallback;
  if (typeof prefix !== 'string') throw new TypeError(`${where}: prefix must be a string, e.g. 'myapp:answers:'`);
  return prefix;
}

/** Whether `value` has the shape of a `ResultStore` (used to check the `resultCache.store` option). */
export function isResultStore(value: unknown): value is ResultStore {
  if (typeof value !== 'object' || value === null) return false;
  const store = value as Partial<ResultStore>;
  if (typeof store.get !== 'function' || typeof store.set !== 'function') return false;
  const leases = store.leases as Partial<ResultLeases> | undefined;
  return (
    leases === undefined ||
    (typeof leases === 'object' &&
      leases !== null &&
      typeof leases.claim === 'function' &&
      typeof leases.release === 'function' &&
      typeof leases.wait === 'function' &&
      typeof leases.leaseMs === 'number' &&
      leases.leaseMs > 0)
  );
}
