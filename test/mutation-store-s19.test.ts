/**
 * keyvStore's refusal of what is no Keyv instance (store/keyvStore.ts), as sharedStore refuses what is no store:
 * a function carrying get and set is not an object of that shape (issue 17, stop 19, H-MUT6: the stop-19 mutation
 * run found `typeof keyv !== 'object'` made false unguarded).
 */
import { describe, expect, it } from 'vitest';
import { keyvStore } from '../src/store/keyvStore.js';

describe('keyvStore', () => {
  it('refuses a function carrying get and set as the Keyv instance', () => {
    const callable = Object.assign(() => undefined, { get: async () => undefined, set: async () => true });
    expect(() => keyvStore(callable as never)).toThrow(/^keyvStore: expected a Keyv instance \(an object with get\(key\) and set\(key, value, ttl\)\)/);
  });
});

describe('a result that is undefined', () => {
  it('is not written, even by a serializer that would give it a text', async () => {
    const writes: string[] = [];
    const keyv = { get: async () => undefined, set: async (key: string, value: unknown) => void writes.push(`${key}=${String(value)}`) };
    const store = keyvStore(keyv, { prefix: '', serialize: (v) => (v === undefined ? 'u' : JSON.stringify(v)) });
    await store.set([['a', undefined], ['b', 1]], 10);
    expect(writes).toEqual(['b=1']);
  });
});
