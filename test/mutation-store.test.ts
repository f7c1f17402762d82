/**
 * The shared store adapters (src/store/*) at their edges, where mutation testing found checks and paths no test
 * reached (docs/testing.md): each way leases can be malformed, the Keyv paths with and without getMany, and the
 * TTL a write carries. A fake Keyv records its calls; no Redis needed.
 */
import { describe, expect, it } from 'vitest';
import { keyvStore, sharedStore, type KeyvLike, type ResultLeases, type ResultStore } from '../src/index.js';

const plain: ResultStore = { get: async (keys) => keys.map(() => undefined), set: async () => {} };
const goodLeases: ResultLeases = { leaseMs: 10, claim: async (keys) => keys.map(() => true), release: async () => {}, wait: async (keys) => keys.map(() => undefined) };

/** A Keyv stand-in over a Map, recording every call; `many` gives it getMany. */
function fakeKeyv(many: boolean) {
  const data = new Map<string, unknown>();
  const calls: string[] = [];
  const keyv: KeyvLike = {
    get: async (key) => (calls.push(`get ${key}`), data.get(key)),
    set: async (key, value, ttl) => (calls.push(`set ${key} ${String(value)} ttl ${String(ttl)}`), data.set(key, value), true),
    ...(many && { getMany: async (keys: string[]) => (calls.push(`getMany ${keys.join(',')}`), keys.map((key) => data.get(key))) }),
  };
  return { keyv, data, calls };
}

describe('sharedStore', () => {
  it.each([
    ['leases null', null],
    ['leases a number', 5],
    ['leases a function carrying every method', Object.assign(() => undefined, goodLeases)],
    ['no claim', { ...goodLeases, claim: undefined }],
    ['no release', { ...goodLeases, release: undefined }],
    ['no wait', { ...goodLeases, wait: undefined }],
    ['leaseMs a string', { ...goodLeases, leaseMs: '10' }],
    ['leaseMs 0', { ...goodLeases, leaseMs: 0 }],
    ['leaseMs negative', { ...goodLeases, leaseMs: -1 }],
    ['leaseMs NaN', { ...goodLeases, leaseMs: Number.NaN }],
  ])('refuses %s, naming what leases must have', (_, leases) => {
    expect(() => sharedStore({ ...plain, leases: leases as never })).toThrow(
      /^sharedStore: leases must have leaseMs \(a positive number of ms\), claim\(keys\), release\(keys\) and wait\(keys, timeoutMs\)$/,
    );
  });

  it.each([
    ['null', null],
    ['a function', () => undefined],
    ['a function carrying get and set', Object.assign(() => undefined, plain)],
    ['no get', { set: plain.set }],
    ['no set', { get: plain.get }],
  ])('refuses %s as the store', (_, store) => {
    expect(() => sharedStore(store as never)).toThrow(/^sharedStore: expected a ResultStore, an object with get\(keys\) and set\(entries, ttlMs\)$/);
  });

  it('takes valid leases as they are, and has none when the store has none', () => {
    expect(sharedStore({ ...plain, leases: goodLeases }).leases).toBe(goodLeases);
    const without = sharedStore(plain);
    expect(without.leases).toBeUndefined();
    expect('leases' in without).toBe(false);
  });

  it('forwards get and set to the store, with their keys, entries and TTL', async () => {
    const seen: unknown[] = [];
    const store = sharedStore({
      get: async (keys) => (seen.push(['get', keys]), keys.map((key) => `v-${key}`)),
      set: async (entries, ttlMs) => void seen.push(['set', entries, ttlMs]),
    });
    expect(await store.get(['a', 'b'])).toEqual(['v-a', 'v-b']);
    await store.set([['a', 1]], 250);
    expect(seen).toEqual([['get', ['a', 'b']], ['set', [['a', 1]], 250]]);
  });
});

describe('keyvStore', () => {
  it('without getMany reads each key under its prefix with get, and decodes each answer in order', async () => {
    const { keyv, data, calls } = fakeKeyv(false);
    data.set('p:a', '{"x":1}');
    data.set('p:c', '"three"');
    const store = keyvStore(keyv, { prefix: 'p:' });
    expect(await store.get(['a', 'b', 'c'])).toEqual([{ x: 1 }, undefined, 'three']);
    expect(calls).toEqual(['get p:a', 'get p:b', 'get p:c']);
  });

  it('with getMany reads a batch of keys in one call', async () => {
    const { keyv, data, calls } = fakeKeyv(true);
    data.set('rbd:b', '2');
    const store = keyvStore(keyv);
    expect(await store.get(['a', 'b'])).toEqual([undefined, 2]);
    expect(calls).toEqual(['getMany rbd:a,rbd:b']);
  });

  it('writes each encodable entry under its prefix with the TTL, and skips the rest', async () => {
    const { keyv, calls } = fakeKeyv(false);
    const store = keyvStore(keyv, { prefix: '' });
    await store.set([['a', [1]], ['big', 1n], ['u', undefined], ['b', 'x']], 1234);
    expect(calls).toEqual(['set a [1] ttl 1234', 'set b "x" ttl 1234']);
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'keyv'],
    ['no get', { set: async () => true }],
    ['no set', { get: async () => undefined }],
    ['a get that is no function', { get: 1, set: async () => true }],
  ])('refuses %s as the Keyv instance', (_, keyv) => {
    expect(() => keyvStore(keyv as never)).toThrow(/^keyvStore: expected a Keyv instance \(an object with get\(key\) and set\(key, value, ttl\)\)/);
  });

  it('refuses options that are not an object', () => {
    expect(() => keyvStore(fakeKeyv(false).keyv, null as never)).toThrow(/^keyvStore: options must be an object$/);
    expect(() => keyvStore(fakeKeyv(false).keyv, 'p:' as never)).toThrow(/^keyvStore: options must be an object$/);
  });

  it('a serializer that returns something other than a string stores nothing', async () => {
    const { keyv, calls } = fakeKeyv(false);
    const store = keyvStore(keyv, { serialize: () => 42 as never });
    await store.set([['a', 'x']], 10);
    expect(calls).toEqual([]);
  });

  it('a stored value that is not text reads as a miss', async () => {
    const { keyv, data } = fakeKeyv(false);
    data.set('rbd:a', 7);
    expect(await keyvStore(keyv).get(['a'])).toEqual([undefined]);
  });
});
