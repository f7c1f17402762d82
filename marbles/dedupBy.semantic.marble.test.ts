import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Embedder } from '../src/dedup/options.js';
import { batchDedup } from '../src/operators/withSimilarity.js';
import { dedupBy } from '../src/operators/withSimilarity.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { outcome, simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

// The built-in lexical embedder answers synchronously, so semantic dedup happens in the frame a batch arrives.
const reset = 'How do I reset my password?';
const resetLower = 'how do i reset my password';
const weather = 'What is the weather in Oslo?';

interface Ask {
  query: string;
  user?: string;
  model?: string;
}

describe('dedupBy, semantic strategies', () => {
  it("'embedding' merges near-identical texts in the frame the batch arrives", () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -x--y--|', { x: [reset, weather, resetLower], y: [resetLower] });
      const subs = '      ^------!';
      const expected = '  -X--Y--|';
      expectObservable(source.pipe(dedupBy({ dedupStrategy: 'embedding' }))).toBe(expected, {
        X: { items: [reset, weather, resetLower], unique: [reset, weather], leaderOf: [0, 1, 0] },
        Y: { items: [resetLower], unique: [resetLower], leaderOf: [0] },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it("'hybrid' merges by key first, then by similarity", () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const items = [reset, `  ${reset}`, resetLower, weather];
      const key = (s: string) => s.trim();
      expectObservable(cold('x|', { x: items }).pipe(dedupBy({ dedupStrategy: 'hybrid', key }))).toBe('X|', {
        X: { items, unique: [reset, weather], leaderOf: [0, 0, 0, 1] },
      });
    });
  });

  it('never merges across scopes, nor across differing non-text fields', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const items: Ask[] = [
        { query: reset, user: 'ann' },
        { query: resetLower, user: 'bob' },
        { query: resetLower, user: 'ann', model: 'large' },
        { query: resetLower, user: 'ann' },
      ];
      const piped = cold('x|', { x: items }).pipe(dedupBy<Ask>({ dedupStrategy: 'embedding', scope: (r) => r.user }));
      expectObservable(piped).toBe('X|', {
        X: { items, unique: [items[0], items[1], items[2]], leaderOf: [0, 1, 2, 0] },
      });
    });
  });

  it('refuses a merge the guard flags, whatever the similarity', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const items = ['How do I enable two factor login?', 'How do I disable two factor login?'];
      const piped = cold('x|', { x: items }).pipe(dedupBy({ dedupStrategy: 'embedding', dedupThreshold: 0.5 }));
      expectObservable(piped).toBe('X|', { X: { items, unique: items, leaderOf: [0, 1] } });
    });
  });

  it('falls back to exact dedup in the same frame when a synchronous embedder returns NaN, and counts it', () => {
    const stats = createBatchStats();
    const embed: Embedder = (texts) => texts.map(() => [NaN, 0]);
    testScheduler().run(({ cold, expectObservable }) => {
      const items = [reset, resetLower, reset];
      const piped = cold('-x-|', { x: items }).pipe(dedupBy({ dedupStrategy: 'embedding', embed, stats }));
      expectObservable(piped).toBe('-X-|', { X: { items, unique: [reset, resetLower], leaderOf: [0, 1, 0] } });
    });
    expect(stats.snapshot().embedFallbacks).toBe(1);
  });

  it('serves repeated texts from the embedding cache and counts hits and misses once per batch', () => {
    const stats = createBatchStats();
    const calls: string[][] = [];
    const embed: Embedder = (texts) => {
      calls.push(texts);
      return texts.map((t) => (t.startsWith('a') ? [1, 0] : [0, 1]));
    };
    testScheduler().run(({ cold, expectObservable }) => {
      const piped = cold('x-y|', { x: ['a1', 'a2'], y: ['a1', 'a2', 'b'] }).pipe(
        dedupBy({ dedupStrategy: 'embedding', embed, stats, mergeGuard: false }),
      );
      expectObservable(piped.pipe(map((b) => b.unique))).toBe('X-Y|', { X: ['a1'], Y: ['a1', 'b'] });
    });
    expect(calls).toEqual([['a1', 'a2'], ['b']]);
    expect(stats.snapshot()).toMatchObject({ embedCacheHits: 2, embedCacheMisses: 3 });
  });
});

describe('batchDedup with the embedding strategy', () => {
  it('executes near-duplicates once and answers each request, marked deduplicated', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (q: string) => q.length });
      const source = hot(' a--b--c----------------|', { a: reset, b: weather, c: resetLower });
      const expected = '  ---------------(xyz)---|';
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 10, dedupStrategy: 'embedding' }));
      expectObservable(piped.pipe(map((r) => [r.request, r.value, r.deduplicated]))).toBe(expected, {
        x: [reset, reset.length, false],
        y: [resetLower, reset.length, true],
        z: [weather, weather.length, false],
      });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([[reset, weather]]), 20);
    });
  });

  it('with an embedder that returns malformed vectors, serves every request from exact dedup', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (q: string) => q.toUpperCase() });
      const source = hot(' a-b-a---------------|', { a: 'hi', b: 'hi!' });
      const expected = '  ---------------(xyz)|';
      const embed: Embedder = (texts) => texts.map(() => [1]).slice(1);
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 10, dedupStrategy: 'hybrid', embed, stats }));
      expectObservable(piped.pipe(map(outcome))).toBe(expected, {
        x: { request: 'hi', value: 'HI' },
        y: { request: 'hi', value: 'HI' },
        z: { request: 'hi!', value: 'HI!' },
      });
    });
    expect(stats.snapshot().embedFallbacks).toBe(1);
  });
});
