/**
 * `rxjs-batch-dedup/redis`: a `ResultStore` on Redis (or Valkey) through an `ioredis` client, with leases that
 * coalesce executions in flight across processes. `ioredis` is an optional peer: this entry only calls the
 * client it is given, and the core never imports this entry. See docs/replicas.md.
 */
import type { Redis } from 'ioredis';
import { elapsed } from '../base/clock.js';
import {
  decodeValue,
  encodeValue,
  perKey,
  resolvePrefix,
  resolveSerializer,
  sharedStore,
  type ResultLeases,
  type SharedStore,
  type StoreSerializer,
} from '../store/resultStore.js';

export type { ResultStore, ResultLeases, SharedStore, StoreSerializer } from '../store/resultStore.js';

/** The commands `redisStore` uses, as `ioredis` declares them (a `Redis` instance has them). */
export type RedisClientLike = Pick<Redis, 'mget' | 'set' | 'eval'> & { readonly status?: string };

export interface RedisStoreOptions extends StoreSerializer {
  /** An `ioredis` client (`new Redis(url)`), connected or connecting. Its `status` must be `'ready'` for a call. */
  client: RedisClientLike;
  /**
   * Put before every key: results live at `<prefix>r:<key>`, leases at `<prefix>l:<key>`. One prefix per kind of
   * request (requests of two pipelines with different `execute`s must not share one). Default `'rbd:'`.
   */
  prefix?: string;
  /**
   * How long a lease lasts, ms: the longest an execution may take before another process takes its keys over,
   * and so how long waiters wait for a process that died. Keep it below `processingTimeoutMs`. Default 10000.
   */
  leaseMs?: number;
  /** How often a waiter looks for the result (and whether the lease is still held), ms. Default 5. */
  pollMs?: number;
  /** No leases: results are shared, executions in flight are not coalesced. Default true (leases on). */
  coalesce?: boolean;
}

/** Deletes the leases still held with this store's token (a lease taken over meanwhile is left alone). */
const RELEASE = `local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then n = n + redis.call('del', key) end
end
return n`;

/** Sets every result with its TTL in one script (one round trip, whatever the count). ARGV: ttl, then values. */
const SET_MANY = `for i, key in ipairs(KEYS) do
  redis.call('set', key, ARGV[i + 1], 'PX', ARGV[1])
end
return #KEYS`;

/**
 * Claims every lease it can (SET NX PX), in one round trip; 1 where taken. KEYS: the n lease keys, then the n
 * result keys; ARGV: token, lease ms. A key whose result is there already is not claimed (its waiter finds the
 * result at once): a process that missed just before another stored and released does not execute it again.
 */
const CLAIM = `local n = #KEYS / 2
local out = {}
for i = 1, n do
  if redis.call('exists', KEYS[n + i]) == 1 then
    out[i] = 0
  else
    out[i] = redis.call('set', KEYS[i], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
  end
end
return out`;

function positive(where: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new TypeError(`${where}: ${name} must be a finite number of ms, at least 1; got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  }
  return value;
}

/** Waits `ms`, or less when `signal` aborts first; leaves no timer or listener behind either way. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done);
  });
}

function randomToken(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  return crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * A result store on Redis. Results are stored with `SET PX` (the pipeline's `resultCache.ttlMs`); a miss is
 * claimed with `SET NX PX` on its lease key, so across every process sharing the prefix one executes it, stores
 * the result and releases the lease, while the others poll for the result. A lease that ends with no result (its
 * holder died, or its execution failed and released it) is claimed by one waiter, which executes it.
 *
 * A call while the client is not `'ready'` fails at once (the pipeline then executes locally, counted in
 * `storeFallbacks`), so a Redis that is down never holds requests; give the client `enableOfflineQueue: false`
 * so commands are not queued for later either.
 */
export function redisStore(options: RedisStoreOptions): SharedStore {
  const where = 'redisStore';
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: expected options { client, prefix?, leaseMs?, pollMs? }, e.g. redisStore({ client: new Redis(url) })`);
  }
  const { client } = options;
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.mget !== 'function' ||
    typeof client.set !== 'function' ||
    typeof client.eval !== 'function'
  ) {
    throw new TypeError(`${where}: client must be an ioredis client (new Redis(url)), with mget, set and eval`);
  }
  const serializer = resolveSerializer(where, options);
  const prefix = resolvePrefix(where, options.prefix, 'rbd:');
  const leaseMs = positive(where, 'leaseMs', options.leaseMs, 10_000);
  const pollMs = positive(where, 'pollMs', options.pollMs, 5);
  if (options.coalesce !== undefined && typeof options.coalesce !== 'boolean') throw new TypeError(`${where}: coalesce must be true or false`);
  const token = randomToken();
  const resultKey = (key: string) => `${prefix}r:${key}`;
  const leaseKey = (key: string) => `${prefix}l:${key}`;

  const ready = () => {
    const status = client.status;
    if (status !== undefined && status !== 'ready') throw new Error(`${where}: the Redis client is ${status}, not ready`);
  };

  /** MGET, checked: entry i must be key i's, or a key would be given the entry of another. */
  const mget = async (keys: string[]): Promise<unknown[]> => perKey(await client.mget(...keys), keys.length, `${where}: mget`);

  const read = async (keys: readonly string[]) => {
    ready();
    const texts = await mget(keys.map(resultKey));
    return texts.map((text) => decodeValue(serializer, text));
  };

  const leases: ResultLeases = {
    leaseMs,
    async claim(keys) {
      ready();
      const out = (await client.eval(CLAIM, 2 * keys.length, ...keys.map(leaseKey), ...keys.map(resultKey), token, leaseMs)) as unknown;
      if (!Array.isArray(out)) throw new Error(`${where}: unexpected answer to the claim script`);
      return out.map((flag) => flag === 1);
    },
    async release(keys) {
      ready();
      await client.eval(RELEASE, keys.length, ...keys.map(leaseKey), token);
    },
    async wait(keys, timeoutMs, signal) {
      const found: unknown[] = new Array<unknown>(keys.length).fill(undefined);
      let open = keys.map((_, k) => k);
      // Time spent counted reading by reading, a step back of the wall clock as none: a clock set back an hour
      // must not keep a waiter polling for that hour.
      let spent = 0;
      let readAt = Date.now();
      for (;;) {
        if (signal?.aborted) return found;
        ready();
        // Results and leases in one MGET: one atomic reading, so a result stored just before its lease went is seen.
        const texts = await mget([...open.map((k) => resultKey(keys[k]!)), ...open.map((k) => leaseKey(keys[k]!))]);
        const still: number[] = [];
        for (let j = 0; j < open.length; j++) {
          const k = open[j]!;
          const text = texts[j];
          if (text !== null && text !== undefined) found[k] = decodeValue(serializer, text);
          else if (texts[open.length + j] !== null && texts[open.length + j] !== undefined) still.push(k); // leased, no result yet
          // else: no result and no lease: it ended with none; left undefined for the caller to take over
        }
        open = still;
        const now = Date.now();
        spent += elapsed(readAt, now);
        readAt = now;
        if (open.length === 0 || spent + pollMs > timeoutMs) return found;
        await pause(pollMs, signal);
      }
    },
  };

  return sharedStore({
    get: read,
    async set(entries, ttlMs) {
      const keys: string[] = [];
      const values: string[] = [];
      for (const [key, value] of entries) {
        const text = encodeValue(serializer, value);
        if (text === undefined) continue;
        keys.push(resultKey(key));
        values.push(text);
      }
      if (keys.length === 0) return;
      ready();
      await client.eval(SET_MANY, keys.length, ...keys, Math.max(1, Math.round(ttlMs)), ...values);
    },
    ...(options.coalesce === false ? {} : { leases }),
  });
}
