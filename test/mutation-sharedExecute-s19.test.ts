/**
 * The shape check of `resultCache.store` on the store side (isSharedStore in src/internal/sharedExecute.ts; issue 17,
 * stop 19, H-MUT5). The pipeline checks only that the store carries `sharedExecute`; sharedExecute then refuses a
 * store whose get, set or leases were broken after `sharedStore()` (a spread with one method replaced), naming what
 * a ResultStore needs. test/redis.store.test.ts has one such case, in a file Stryker's runs leave out.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, sharedStore, type ResultLeases, type ResultStore, type SharedStore } from '../src/index.js';

const plain: ResultStore = { get: async (keys) => keys.map(() => undefined), set: async () => {} };
const goodLeases: ResultLeases = { leaseMs: 10, claim: async (keys) => keys.map(() => true), release: async () => {}, wait: async (keys) => keys.map(() => undefined) };
const store = sharedStore(plain);
const REFUSED =
  /^createBatcher: resultCache\.store must be a shared store: .*of your own ResultStore \(get\(keys\), set\(entries, ttlMs\), optional leases \{ leaseMs, claim, release, wait \}\); got /;

function batcherWith(shared: unknown) {
  return createBatcher({ execute: async (xs: string[]) => xs, resultCache: { ttlMs: 10, store: shared as SharedStore } });
}

describe('resultCache.store broken after sharedStore() is refused', () => {
  it.each([
    ['a function carrying get, set and sharedExecute', Object.assign(() => undefined, store)],
    ['get not a function', { ...store, get: 5 }],
    ['no set', { ...store, set: undefined }],
    ['leases null', { ...store, leases: null }],
    ['leases a function carrying every method', { ...store, leases: Object.assign(() => undefined, goodLeases) }],
    ['leases without claim', { ...store, leases: { ...goodLeases, claim: undefined } }],
    ['leases without release', { ...store, leases: { ...goodLeases, release: undefined } }],
    ['leases without wait', { ...store, leases: { ...goodLeases, wait: 'wait' } }],
    ['leaseMs a string', { ...store, leases: { ...goodLeases, leaseMs: '10' } }],
    ['leaseMs NaN', { ...store, leases: { ...goodLeases, leaseMs: Number.NaN } }],
  ])('%s', (_, broken) => {
    expect(() => batcherWith(broken)).toThrow(REFUSED);
  });

  it('a store from sharedStore() with well-formed leases is taken', () => {
    const batcher = batcherWith(sharedStore({ ...plain, leases: goodLeases }));
    expect(typeof batcher.process).toBe('function');
    void batcher.close();
  });

  it('a store from sharedStore() without leases is taken', () => {
    const batcher = batcherWith(store);
    expect(typeof batcher.process).toBe('function');
    void batcher.close();
  });
});
