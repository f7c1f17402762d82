/**
 * Exact dedup (src/dedup/exact.ts) at its edges, where mutation testing found behaviour no test reached
 * (docs/testing.md): a batch of no items, and batches whose items move between many scopes and kinds of key.
 */
import { describe, expect, it } from 'vitest';
import { dedupExact, groupingOf } from '../src/dedup/exact.js';

interface Req {
  scope: string | number | undefined;
  key: unknown;
}
const grouping = groupingOf<Req>('dedupBy', (r) => r.key, (r) => r.scope);

describe('dedupExact', () => {
  it('answers a batch of no items with an empty batch', () => {
    expect(dedupExact<Req>([], grouping)).toEqual({ items: [], unique: [], leaderOf: [] });
  });

  it('keeps each scope and kind of key apart when items move back and forth between them', () => {
    const items: Req[] = [
      { scope: 'a', key: 'k' },
      { scope: 'b', key: 'k' },
      { scope: 'a', key: ['k'] },
      { scope: 'a', key: 'k' },
      { scope: 1, key: 'k' },
      { scope: 'b', key: ['k'] },
      { scope: 'b', key: 'k' },
      { scope: '1', key: 'k' },
      { scope: 1, key: 'k' },
      { scope: 'a', key: ['k'] },
      { scope: 'a', key: '["k"]' },
    ];
    const batch = dedupExact(items, grouping);
    expect(batch.leaderOf).toEqual([0, 1, 2, 0, 3, 4, 1, 5, 3, 2, 6]);
    expect(batch.unique).toEqual([items[0], items[1], items[2], items[4], items[5], items[7], items[10]]);
    expect(batch.failures).toBeUndefined();
  });

  it('finds the first table again when the first item\'s key was an array or object', () => {
    const items: Req[] = [
      { scope: 'a', key: ['k'] },
      { scope: 'b', key: 'k' },
      { scope: 'a', key: '["k"]' },
      { scope: 'a', key: ['k'] },
    ];
    const batch = dedupExact(items, grouping);
    expect(batch.leaderOf).toEqual([0, 1, 2, 0]);
  });

  it('keeps the scopes apart around an item whose key throws', () => {
    const bad = { scope: 'b', key: Number.NaN };
    const items: Req[] = [{ scope: 'a', key: 'k' }, bad, { scope: 'b', key: 'k' }, { scope: 'a', key: 'k' }, { scope: 'b', key: 'k' }];
    const batch = dedupExact(items, grouping);
    expect(batch.leaderOf).toEqual([0, -1, 1, 0, 1]);
    expect(batch.unique).toEqual([items[0], items[2]]);
    expect([...batch.failures!.keys()]).toEqual([1]);
    expect(batch.failures!.get(1)).toBeInstanceOf(TypeError);
  });

  it('checks keys by the rules of a user\'s key, naming dedupBy, for a grouping that brings no slotKey of its own', () => {
    // Grouping.slotKey is optional; without it a key that is not a finite number must still be refused, by name.
    const bare = { key: (r: Req) => r.key, scope: undefined };
    const batch = dedupExact<Req>([{ scope: undefined, key: Number.NaN }, { scope: undefined, key: 1 }, { scope: undefined, key: 1 }], bare);
    expect(batch.leaderOf).toEqual([-1, 0, 0]);
    expect(String(batch.failures!.get(0))).toMatch(/^TypeError: dedupBy: key\(request\) returned NaN/);
  });
});
