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
