import { describe, expect, it } from 'vitest';
import { dedupBy } from '../src/operators/dedupBy.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { testScheduler } from './helpers.js';

interface Req {
  q: string;
  user?: string;
  n?: number;
}

describe('dedupBy', () => {
  it('emits one deduplicated batch per batch, in the same frame', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -x--y--|', { x: ['a', 'b', 'a'], y: ['c'] });
      const subs = '      ^------!';
      const expected = '  -X--Y--|';
      expectObservable(source.pipe(dedupBy())).toBe(expected, {
        X: { items: ['a', 'b', 'a'], unique: ['a', 'b'], leaderOf: [0, 1, 0] },
        Y: { items: ['c'], unique: ['c'], leaderOf: [0] },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('treats objects with the same fields in another order as equal (stable key)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const a = { q: 'x', n: 1 };
      const b = { n: 1, q: 'x' };
      expectObservable(cold('x|', { x: [a, b] }).pipe(dedupBy<Req>())).toBe('X|', {
        X: { items: [a, b], unique: [a], leaderOf: [0, 0] },
      });
    });
  });

  it('uses a custom key', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const items: Req[] = [{ q: 'Hello' }, { q: 'hello ' }, { q: 'bye' }];
      expectObservable(cold('x|', { x: items }).pipe(dedupBy<Req>({ key: (r) => r.q.trim().toLowerCase() }))).toBe('X|', {
        X: { items, unique: [items[0], items[2]], leaderOf: [0, 0, 1] },
      });
    });
  });

  it('never merges requests of different scopes, even with equal keys', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const items: Req[] = [
        { q: 'balance', user: 'ann' },
        { q: 'balance', user: 'bob' },
        { q: 'balance', user: 'ann' },
      ];
      const piped = cold('x|', { x: items }).pipe(dedupBy<Req>({ key: (r) => r.q, scope: (r) => r.user }));
      expectObservable(piped).toBe('X|', {
        X: { items, unique: [items[0], items[1]], leaderOf: [0, 1, 0] },
      });
    });
  });

  it('joins an item to the most similar earlier leader at or above the threshold (dedupFunction)', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // Similarity of numbers: 1 - |a - b| / 10.
      const similarity = (a: number, b: number) => Math.max(0, 1 - Math.abs(a - b) / 10);
      const items = [10, 20, 19, 11, 15];
      const piped = cold('x|', { x: items }).pipe(dedupBy({ dedupFunction: similarity, dedupThreshold: 0.85 }));
      // 19 -> 20 (0.9); 11 -> 10 (0.9); 15 -> none (10: 0.5, 20: 0.5).
      expectObservable(piped).toBe('X|', { X: { items, unique: [10, 20, 15], leaderOf: [0, 1, 1, 0, 2] } });
    });
  });

  it('falls back to exact dedup when dedupFunction returns a non-score, and counts it', () => {
    const stats = createBatchStats();
    testScheduler().run(({ cold, expectObservable }) => {
      const items = ['a', 'b', 'a'];
      const piped = cold('x|', { x: items }).pipe(dedupBy<string>({ dedupFunction: () => NaN, stats }));
      expectObservable(piped).toBe('X|', { X: { items, unique: ['a', 'b'], leaderOf: [0, 1, 0] } });
    });
    expect(stats.snapshot().embedFallbacks).toBe(1);
  });

  it('carries an item the default key cannot encode in failures instead of dropping it', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const circular: Record<string, unknown> = { q: 'loop' };
      circular.self = circular;
      const items = [circular, { q: 'ok' }];
      const piped = cold('x|', { x: items }).pipe(dedupBy<Record<string, unknown>>());
      expectObservable(piped).toBe('X|', {
        X: {
          items,
          unique: [items[1]],
          leaderOf: [-1, 0],
          failures: new Map([[0, new TypeError('dedupBy: the default key cannot encode a circular reference at request.self; pass a key function')]]),
        },
      });
    });
  });

  it('passes every item through with enableDedup: false', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('x|', { x: ['a', 'a'] }).pipe(dedupBy({ enableDedup: false }))).toBe('X|', {
        X: { items: ['a', 'a'], unique: ['a', 'a'], leaderOf: [0, 1] },
      });
    });
  });

  it('forwards errors and unsubscribes from the source', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -x-#', { x: ['a'] });
      expectObservable(source.pipe(dedupBy())).toBe('-X-#', { X: { items: ['a'], unique: ['a'], leaderOf: [0] } });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
  });
});
