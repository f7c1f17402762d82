import { decodeValue, encodeValue, perKey, resolvePrefix, resolveSerializer, sharedStore, type SharedStore, type StoreSerializer } from './resultStore.js';

/**
 * What `keyvStore` needs of a Keyv instance (structural: the core imports nothing of keyv). Keyv 4 and 5 have it,
 * and so has anything built the same way.
 */
export interface KeyvLike {
  get(key: string): PromiseLike<unknown>;
  set(key: string, value: unknown, ttl?: number): PromiseLike<unknown>;
  /** Used when present (Keyv 5): one round trip for a batch's keys. */
  getMany?(keys: string[]): PromiseLike<readonly unknown[]>;
}

export interface KeyvStoreOptions extends StoreSerializer {
  /** Put before every key, after Keyv's own namespace. Default `'rbd:'`. One prefix per kind of request. */
  prefix?: string;
}

/**
 * A `ResultStore` on any Keyv instance: `@keyv/redis`, Valkey, SQLite, Postgres, the in-memory Map, configured as
 * for `cache-manager`. Values go through `serialize`/`deserialize` (JSON by default) before Keyv's own, so each
 * caller gets a copy of its own. It shares results across processes; it does not coalesce executions in flight
 * (that needs leases: `redisStore` from `rxjs-batch-dedup/redis`).
 */
export function keyvStore(keyv: KeyvLike, options: KeyvStoreOptions = {}): SharedStore {
  const where = 'keyvStore';
  if (typeof keyv !== 'object' || keyv === null || typeof keyv.get !== 'function' || typeof keyv.set !== 'function') {
    throw new TypeError(`${where}: expected a Keyv instance (an object with get(key) and set(key, value, ttl)), e.g. new Keyv(new KeyvRedis(url))`);
  }
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where}: options must be an object`);
  const serializer = resolveSerializer(where, options);
  const prefix = resolvePrefix(where, options.prefix, 'rbd:');
  return sharedStore({
    async get(keys) {
      const full = keys.map((key) => prefix + key);
      const texts: unknown = typeof keyv.getMany === 'function' ? await keyv.getMany(full) : await Promise.all(full.map((key) => keyv.get(key)));
      return perKey(texts, keys.length, `${where}: getMany`).map((text) => decodeValue(serializer, text));
    },
    async set(entries, ttlMs) {
      // One write per result that has a text (an array collected by hand: its initial contents were an equivalent mutant).
      await Promise.all(
        entries.map(([key, value]) => {
          const text = encodeValue(serializer, value);
          return text === undefined ? undefined : keyv.set(prefix + key, text, ttlMs);
        }),
      );
    },
  });
}
