/**
 * The shared store's parts (docs/replicas.md): the store key of a slot, the Keyv and Redis adapters, and bad
 * input. The adapters run against a real redis-server (test/support-redis.ts); the key and bad-input tests need
 * none. The property that no answer crosses scopes runs several batchers on one real Redis.
 */
import KeyvRedis from '@keyv/redis';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import Keyv from 'keyv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatcher, keyvStore, sharedStore, type ResultStore, type SharedStore } from '../src/index.js';
import { storeKeyOf } from '../src/internal/sharedTier.js';
import { redisStore } from '../src/redis/index.js';
import { redisAvailable, requiresRedis, startRedis, type RedisServer } from './support-redis.js';

requiresRedis('test/redis.store.test.ts');
const describeRedis = redisAvailable ? describe : describe.skip;

type Scope = string | number | bigint | undefined;
const key = (scope: Scope, k: unknown, encoded = false) => storeKeyOf({ scope, encoded, key: k });

describe('the store key of a slot', () => {
  it("keeps 1, '1', 1n, true, null and undefined apart, as keys and as scopes", () => {
    const keys = [1, '1', 1n, true, 'true', null, 'null', undefined, 'undefined'].map((k) => key(undefined, k));
    expect(new Set(keys).size).toBe(keys.length);
    const scopes = [1, '1', 1n, undefined].map((s) => key(s, 'k'));
    expect(new Set(scopes).size).toBe(scopes.length);
  });

  it('keeps an encoded (array or object) key apart from the same text as a string key', () => {
    expect(key(undefined, '["a"]', true)).not.toBe(key(undefined, '["a"]', false));
  });

  it('counts -0 as 0 and NaN as NaN, as the in-process tables do', () => {
    expect(key('s', -0)).toBe(key('s', 0));
    expect(key('s', NaN)).toBe(key('s', NaN));
  });

  it('a scope cannot run into its key: ("ab", "c") and ("a", "bc") differ', () => {
    expect(key('ab', 'c')).not.toBe(key('a', 'bc'));
    expect(key('s1:a', 'x')).not.toBe(key('s', '1:ax'));
  });

  it('property: two slots get the same store key exactly when they are the same slot', () => {
    const scope = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -3, max: 3 }), fc.bigInt({ min: -3n, max: 3n }), fc.constant(undefined));
    const plain = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.constantFrom(0, -0, 1, 1.5, NaN, 1e21),
      fc.integer({ min: -3, max: 3 }),
      fc.bigInt({ min: -3n, max: 3n }),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
    );
    const slot = fc.oneof(
      fc.record({ scope, encoded: fc.constant(false), key: plain }),
      fc.record({ scope, encoded: fc.constant(true), key: fc.string({ maxLength: 6 }) }),
    );
    const sameValueZero = (a: unknown, b: unknown) => a === b || (a !== a && b !== b);
    fc.assert(
      fc.property(slot, slot, (a, b) => {
        const same = sameValueZero(a.scope, b.scope) && a.encoded === b.encoded && sameValueZero(a.key, b.key);
        expect(storeKeyOf(a) === storeKeyOf(b)).toBe(same);
        expect(typeof storeKeyOf(a)).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('bad input', () => {
  const plain: ResultStore = { get: async (keys) => keys.map(() => undefined), set: async () => {} };
  const store = sharedStore(plain);

  it('resultCache.store that is no shared store is refused, naming the option and the ways to make one', () => {
    expect(() => createBatcher({ execute: async (xs: string[]) => xs, resultCache: { ttlMs: 10, store: {} as SharedStore } })).toThrow(
      /resultCache\.store must be a shared store: keyvStore\(keyv\), redisStore\(\{ client \}\) from rxjs-batch-dedup\/redis, or sharedStore\(store\).*got/,
    );
  });

  it('a ResultStore given as it is (not through sharedStore) is refused', () => {
    expect(() => createBatcher({ execute: async (xs: string[]) => xs, resultCache: { ttlMs: 10, store: plain as SharedStore } })).toThrow(
      /or sharedStore\(store\) of your own ResultStore/,
    );
  });

  it('a shared store whose shape was broken after sharedStore (leases without a positive leaseMs) is refused, naming what a ResultStore needs', () => {
    const broken = { ...store, leases: { leaseMs: 0, claim: async () => [], release: async () => {}, wait: async () => [] } } as SharedStore;
    expect(() => createBatcher({ execute: async (xs: string[]) => xs, resultCache: { ttlMs: 10, store: broken } })).toThrow(
      /createBatcher: resultCache\.store must be a shared store: .*of your own ResultStore \(get\(keys\), set\(entries, ttlMs\), optional leases \{ leaseMs, claim, release, wait \}\); got/,
    );
  });

  it('sharedStore refuses what is no store, and leases that lack a method or a positive leaseMs', () => {
    expect(() => sharedStore({ get: async () => [] } as never)).toThrow(/sharedStore: expected a ResultStore, an object with get\(keys\) and set/);
    const leases = { leaseMs: 0, claim: async () => [], release: async () => {}, wait: async () => [] };
    expect(() => sharedStore({ ...plain, leases })).toThrow(/sharedStore: leases must have leaseMs \(a positive number of ms\)/);
    expect(() => sharedStore({ ...plain, leases: { ...leases, leaseMs: 10, wait: undefined } as never })).toThrow(/sharedStore: leases must have/);
  });

  it('storeTimeoutMs without a store is refused', () => {
    expect(() => createBatcher({ execute: async (xs: string[]) => xs, resultCache: { ttlMs: 10, storeTimeoutMs: 5 } })).toThrow(
      /resultCache\.storeTimeoutMs is set but resultCache\.store is not/,
    );
  });

  it('storeTimeoutMs that is no duration is refused, naming it', () => {
    expect(() => createBatcher({ execute: async (xs: string[]) => xs, resultCache: { ttlMs: 10, store, storeTimeoutMs: -1 } })).toThrow(
      /resultCache\.storeTimeoutMs/,
    );
  });

  it('configure() refuses another store, and accepts the same one restated', async () => {
    const batcher = createBatcher({ execute: async (xs: string[]) => xs, resultCache: { ttlMs: 10, store } });
    expect(() => batcher.configure({ resultCache: { ttlMs: 10, store } })).not.toThrow();
    const other = sharedStore(plain);
    expect(() => batcher.configure({ resultCache: { ttlMs: 10, store: other } })).toThrow(/resultCache cannot be changed on a running batcher/);
    await batcher.close();
  });

  it('keyvStore refuses what is no Keyv instance, and bad options', () => {
    expect(() => keyvStore(null as never)).toThrow(/keyvStore: expected a Keyv instance/);
    expect(() => keyvStore({ get: async () => undefined } as never)).toThrow(/keyvStore: expected a Keyv instance/);
    expect(() => keyvStore(new Keyv(), { prefix: 1 as never })).toThrow(/keyvStore: prefix must be a string/);
    expect(() => keyvStore(new Keyv(), { serialize: 'json' as never })).toThrow(/keyvStore: serialize must be a function/);
    expect(() => keyvStore(new Keyv(), { deserialize: null as never })).toThrow(/keyvStore: deserialize must be a function/);
  });

  it('redisStore: a waiter stops at its bound even when the wall clock steps back (it does not poll for the step)', async () => {
    let reads = 0;
    // A key leased by another process and never answered: every read finds the lease and no result.
    const client = { status: 'ready', mget: async () => (reads++, [null, 'their-token']), set: async () => 'OK', eval: async () => 0 } as never;
    const store = redisStore({ client, pollMs: 5 });
    const realNow = Date.now;
    let now = realNow();
    // Each reading of the clock 5 ms later, except the second one, an hour earlier.
    let readings = 0;
    Date.now = () => (now += ++readings === 2 ? -3_600_000 : 5);
    try {
      const found = await store.leases!.wait(['k'], 40);
      expect(found).toEqual([undefined]);
      expect(reads).toBeLessThanOrEqual(10);
    } finally {
      Date.now = realNow;
    }
  });

  it('redisStore refuses a missing client and bad durations, naming them', () => {
    expect(() => redisStore(undefined as never)).toThrow(/redisStore: expected options \{ client/);
    expect(() => redisStore({ client: {} as never })).toThrow(/redisStore: client must be an ioredis client/);
    const client = { mget: async () => [], set: async () => 'OK', eval: async () => 0 } as never;
    expect(() => redisStore({ client, leaseMs: 0 })).toThrow(/redisStore: leaseMs must be a finite number of ms, at least 1; got 0/);
    expect(() => redisStore({ client, pollMs: '5' as never })).toThrow(/redisStore: pollMs must be .* got '5'/);
    expect(() => redisStore({ client, coalesce: 'yes' as never })).toThrow(/redisStore: coalesce must be true or false/);
    expect(() => redisStore({ client, prefix: {} as never })).toThrow(/redisStore: prefix must be a string/);
  });

  it('redisStore fails a call at once while its client is not ready (the pipeline then executes locally)', async () => {
    const client = { status: 'reconnecting', mget: async () => [], set: async () => 'OK', eval: async () => 0 } as never;
    await expect(redisStore({ client }).get(['k'])).rejects.toThrow(/the Redis client is reconnecting, not ready/);
  });
});

describe('keyvStore on the in-memory Keyv', () => {
  it('stores under its prefix and reads back a copy (JSON by default)', async () => {
    const keyv = new Keyv();
    const store = keyvStore(keyv, { prefix: 'p:' });
    const value = { answer: [1, 2] };
    await store.set([['k', value]], 1000);
    expect(await keyv.get('p:k')).toBe('{"answer":[1,2]}');
    const [read] = await store.get(['k', 'missing']).then((r) => [r[0], r[1]]);
    expect(read).toEqual(value);
    expect(read).not.toBe(value);
    expect((await store.get(['missing']))[0]).toBeUndefined();
  });

  it('a result the serializer cannot encode is not stored; an entry that does not parse reads as a miss', async () => {
    const keyv = new Keyv();
    const store = keyvStore(keyv);
    await store.set([['big', 1n], ['undef', undefined]], 1000);
    expect(await keyv.get('rbd:big')).toBeUndefined();
    expect(await keyv.get('rbd:undef')).toBeUndefined();
    await keyv.set('rbd:bad', '{not json');
    expect(await store.get(['bad'])).toEqual([undefined]);
  });

  it('takes a serializer of its own', async () => {
    const store = keyvStore(new Keyv(), { serialize: (v) => `<${String(v)}>`, deserialize: (t) => t.slice(1, -1) });
    await store.set([['k', 'x']], 1000);
    expect(await store.get(['k'])).toEqual(['x']);
  });
});

describeRedis('the adapters on a real Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    admin = await redis.client();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  it('keyvStore with @keyv/redis: a second batcher (another replica) is answered from the first one’s result', async () => {
    const stores = [0, 1].map(() => keyvStore(new Keyv({ store: new KeyvRedis(redis.url), namespace: 'kv' }), { prefix: 'app:' }));
    let executed = 0;
    const make = (store: SharedStore) =>
      createBatcher<string, string>({
        windowMs: 1,
        resultCache: { ttlMs: 60_000, store, storeTimeoutMs: 1000 },
        execute: async (xs) => {
          executed += xs.length;
          return xs.map((x) => `answer to ${x}`);
        },
      });
    const [one, two] = stores.map(make);
    expect(await one!.process('q')).toBe('answer to q');
    expect(await two!.process('q')).toBe('answer to q');
    expect(executed).toBe(1);
    expect(two!.getStats().storeHits).toBe(1);
    expect((await admin.keys('*app:*')).length).toBe(1);
    await Promise.all([one!.close(), two!.close()]);
  });

  it('redisStore: results under <prefix>r:, leases under <prefix>l: with a PX TTL, released after the result', async () => {
    const client = await redis.client();
    const store = redisStore({ client, prefix: 'unit:', leaseMs: 5000 });
    expect(await store.leases!.claim(['k1', 'k2'])).toEqual([true, true]);
    expect(await store.leases!.claim(['k1'])).toEqual([false]);
    const ttl = await admin.pttl('unit:l:k1');
    expect(ttl).toBeGreaterThan(4000);
    expect(ttl).toBeLessThanOrEqual(5000);
    await store.set([['k1', { v: 1 }]], 60_000);
    expect(await admin.get('unit:r:k1')).toBe('{"v":1}');
    await store.leases!.release(['k1', 'k2']);
    expect(await admin.exists('unit:l:k1', 'unit:l:k2')).toBe(0);
    expect(await store.get(['k1', 'k2'])).toEqual([{ v: 1 }, undefined]);
  });

  it('redisStore: a key whose result is stored already is not claimed (no second execution after a late miss)', async () => {
    const store = redisStore({ client: await redis.client(), prefix: 'late:' });
    await store.set([['k', 'R']], 60_000);
    expect(await store.leases!.claim(['k', 'other'])).toEqual([false, true]);
    expect(await store.leases!.wait(['k'], 10)).toEqual(['R']);
  });

  it('redisStore: release leaves alone a lease another process holds now', async () => {
    const [a, b] = [await redis.client(), await redis.client()].map((client) => redisStore({ client, prefix: 'rel:', leaseMs: 100 }));
    expect(await a!.leases!.claim(['k'])).toEqual([true]);
    await new Promise((r) => setTimeout(r, 150)); // a's lease ran out
    expect(await b!.leases!.claim(['k'])).toEqual([true]);
    await a!.leases!.release(['k']);
    expect(await admin.exists('rel:l:k')).toBe(1);
  });

  it('redisStore: wait answers a result stored meanwhile, and undefined for a lease that ended with none', async () => {
    const [a, b] = [await redis.client(), await redis.client()].map((client) => redisStore({ client, prefix: 'w:', pollMs: 5 }));
    await a!.leases!.claim(['done', 'dropped']);
    const waiting = b!.leases!.wait(['done', 'dropped'], 2000);
    setTimeout(() => void a!.set([['done', 'R']], 60_000).then(() => a!.leases!.release(['done', 'dropped'])), 50);
    expect(await waiting).toEqual(['R', undefined]);
  });

  it('redisStore: wait gives up after its timeout while the lease is still held', async () => {
    const [a, b] = [await redis.client(), await redis.client()].map((client) => redisStore({ client, prefix: 'wt:' }));
    await a!.leases!.claim(['k']);
    const started = Date.now();
    expect(await b!.leases!.wait(['k'], 60)).toEqual([undefined]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });

  it('redisStore: wait stops polling when its signal aborts, long before its timeout, and answers what it has', async () => {
    const [a, client] = [await redis.client(), await redis.client()];
    let polls = 0;
    // Counts the MGETs of b's polls; every other call goes to the client as is.
    const counted = new Proxy(client, {
      get(target, name) {
        const value = Reflect.get(target, name, target) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (name === 'mget') polls++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const holder = redisStore({ client: a, prefix: 'ws:' });
    const b = redisStore({ client: counted, prefix: 'ws:', pollMs: 5 });
    await holder.leases!.claim(['k']);
    const stop = new AbortController();
    const started = Date.now();
    const waiting = b.leases!.wait(['k'], 5000, stop.signal);
    setTimeout(() => stop.abort(), 50);
    expect(await waiting).toEqual([undefined]);
    expect(Date.now() - started).toBeLessThan(1000);
    const pollsAtAbort = polls;
    expect(pollsAtAbort).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(polls).toBe(pollsAtAbort);
  });

  it('redisStore: wait given a signal aborted already reads nothing', async () => {
    const b = redisStore({ client: await redis.client(), prefix: 'wa:' });
    const stop = new AbortController();
    stop.abort();
    expect(await b.leases!.wait(['k'], 5000, stop.signal)).toEqual([undefined]);
  });

  it('property: no answer crosses scopes, across batchers sharing one Redis', async () => {
    const clients = await Promise.all([0, 1, 2].map(() => redis.client()));
    let run = 0;
    const scope = fc.constantFrom<Scope>('1', 1, 1n, 'tenant-a', 'tenant-b', undefined);
    const requestKey = fc.constantFrom<string | number>('1', 1, 'q', 'Q');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(2), scope, requestKey), { minLength: 1, maxLength: 24 }), async (calls) => {
        const prefix = `prop${++run}:`;
        const show = (s: Scope, k: unknown) => `${typeof s}:${String(s)}/${typeof k}:${String(k)}`;
        const batchers = clients.map((client) =>
          createBatcher<{ k: string | number }, string>({
            windowMs: 2,
            key: (r) => r.k,
            resultCache: { ttlMs: 60_000, store: redisStore({ client, prefix, pollMs: 2 }), storeTimeoutMs: 1000 },
            execute: async (rs, { batchId }) => {
              await new Promise((r) => setTimeout(r, 5));
              return rs.map((r) => `${show(currentScope.get(r), r.k)} #${batchId}`);
            },
          }),
        );
        // The scope each request object was sent with, so execute can name it in its answer.
        const currentScope = new WeakMap<object, Scope>();
        const answers = await Promise.all(
          calls.map(async ([replica, s, k]) => {
            const request = { k };
            currentScope.set(request, s);
            const value = await batchers[replica]!.process(request, s === undefined ? {} : { scope: s });
            return { expected: show(s, k), value };
          }),
        );
        for (const { expected, value } of answers) expect(value.replace(/ #\d+$/, '')).toBe(expected);
        await Promise.all(batchers.map((b) => b.close()));
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
