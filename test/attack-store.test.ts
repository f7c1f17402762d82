/**
 * `keyvStore` under a Keyv whose `getMany` answers the wrong shape (H-ATK2; found by
 * test/attack-store.properties.test.ts). `keyvStore` read entry i of what `getMany` gave for key i, whatever its
 * length: a short answer shifted every entry onto the key before it, so a request was answered with the stored
 * result of another key, in another scope; a string answer was read character by character (`'12'` answered
 * two keys with 1 and 2). Now an answer that is not one entry per key fails the read: the batch goes on without
 * the store (`storeFallbacks`), as for any store failure. `redisStore` read its MGET answers the same way (a
 * client is structural: a wrapper or a mock may answer short): the same check there.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats, keyvStore, type KeyvLike } from '../src/index.js';
import { redisStore, type RedisClientLike } from '../src/redis/index.js';

/** A Keyv over a Map whose getMany answers `shape(keys, entries)`. */
function keyvWithGetMany(data: Map<string, string>, shape: (entries: (string | undefined)[]) => unknown): KeyvLike {
  return {
    get: async (key) => data.get(key),
    set: async (key, value) => data.set(key, value as string),
    getMany: async (keys) => shape(keys.map((key) => data.get(key))) as unknown[],
  };
}

describe('keyvStore given a getMany of the wrong shape', () => {
  it.each([
    ['one entry short', (entries: unknown[]) => entries.slice(1)],
    ['one entry too many', (entries: unknown[]) => ['"intruder"', ...entries]],
    ['a string', () => '12'],
    ['an object', () => ({ 0: '1', 1: '2', length: 2 })],
    ['null', () => null],
  ])('%s: the read fails, naming the count, instead of answering a key with another entry', async (_, shape) => {
    const data = new Map([
      ['p:a', '"stored for a"'],
      ['p:b', '"stored for b"'],
    ]);
    const store = keyvStore(keyvWithGetMany(data, shape), { prefix: 'p:' });
    await expect(store.get(['a', 'b'])).rejects.toThrow(/^keyvStore: getMany answered .* for 2 keys; it must answer one entry per key$/);
  });

  it('through a batcher: no request is answered with the stored result of another key or scope', async () => {
    const data = new Map<string, string>();
    const shared = keyvWithGetMany(data, (entries) => entries.slice(1));
    const stats = createBatchStats();
    const writer = createBatcher<string, string>({
      execute: async (items) => items.map((item) => `answer for ${item}`),
      windowMs: 0,
      resultCache: { ttlMs: 60_000, store: keyvStore({ get: shared.get, set: shared.set }, { prefix: 'p:' }) },
    });
    // Stored by another replica: 'x' in scopes t1 and t2.
    expect(await Promise.all([writer.process('x', { scope: 't1' }), writer.process('x', { scope: 't2' })])).toEqual(['answer for x', 'answer for x']);
    await writer.close();
    for (const [key, value] of data) data.set(key, JSON.stringify(`${JSON.parse(value) as string} (${key.includes('t1') ? 't1' : 't2'})`));
    const reader = createBatcher<string, string>({
      execute: async (items) => items.map((item) => `fresh ${item}`),
      windowMs: 5,
      stats,
      resultCache: { ttlMs: 60_000, store: keyvStore(shared, { prefix: 'p:' }) },
    });
    const answers = await Promise.all([reader.process('x', { scope: 't1' }), reader.process('x', { scope: 't2' })]);
    await reader.close();
    // Never t2's entry for t1: each is its own scope's, or executed afresh.
    expect(answers[0]).toMatch(/^(answer for x \(t1\)|fresh x)$/);
    expect(answers[1]).toMatch(/^(answer for x \(t2\)|fresh x)$/);
    expect(stats.snapshot().storeFallbacks).toBeGreaterThan(0);
  });
});

describe('redisStore given a client whose mget answers the wrong shape', () => {
  /** A stand-in for an ioredis client over a Map: mget answers `shape(entries)`. */
  function client(data: Map<string, string>, shape: (entries: (string | null)[]) => unknown) {
    return {
      status: 'ready',
      mget: async (...keys: string[]) => shape(keys.map((key) => data.get(key) ?? null)),
      set: async () => 'OK',
      eval: async () => [],
    } as unknown as RedisClientLike;
  }
  const data = () =>
    new Map([
      ['p:r:a', '"stored for a"'],
      ['p:r:b', '"stored for b"'],
    ]);

  it.each([
    ['one entry short', (entries: unknown[]) => entries.slice(1)],
    ['one entry too many', (entries: unknown[]) => ['"intruder"', ...entries]],
    ['a string', () => '12'],
  ])('get, %s: the read fails instead of answering a key with another entry', async (_, shape) => {
    const store = redisStore({ client: client(data(), shape), prefix: 'p:' });
    await expect(store.get(['a', 'b'])).rejects.toThrow(/^redisStore: mget answered .* for 2 keys; it must answer one entry per key$/);
  });

  it('wait, one entry short: the wait fails instead of reading a lease as a result or a result as another key', async () => {
    const store = redisStore({ client: client(data(), (entries) => entries.slice(1)), prefix: 'p:', pollMs: 1 });
    await expect(store.leases!.wait(['a', 'b'], 10)).rejects.toThrow(/^redisStore: mget answered .* for 4 keys; it must answer one entry per key$/);
  });
});
