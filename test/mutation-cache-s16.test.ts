/**
 * Survivors of the stop-16 Stryker run in the result cache's feature object (src/internal/resultCache.ts, issue 17),
 * through the public `resultCache()` and `sharedStore()`.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, resultCache, sharedStore, type Embedder } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

const store = sharedStore({ get: async (keys) => keys.map(() => undefined), set: async () => undefined });

describe('resultCache(): its settings, readable as the flat form has them', () => {
  // Kills resultCache.ts:68 and :69, `o.store !== undefined` / `o.storeTimeoutMs !== undefined` made false
  // (ConditionalExpression) and `{ store: o.store }` / `{ storeTimeoutMs: o.storeTimeoutMs }` made `{}`
  // (ObjectLiteral): the store and its bound were not readable on the feature.
  it('reads back the store and storeTimeoutMs it was made with', () => {
    const feature = resultCache({ ttlMs: 100, store, storeTimeoutMs: 50 });
    expect(feature.store).toBe(store);
    expect(feature.storeTimeoutMs).toBe(50);
  });

  // Kills resultCache.ts:68 and :69 made true (ConditionalExpression): a feature made without a store carried
  // `store` and `storeTimeoutMs` fields (undefined), which options without a store do not have.
  it('has no store or storeTimeoutMs field when made without a store, as its options have none', () => {
    const feature = resultCache({ ttlMs: 100 });
    expect(Object.keys(feature)).not.toContain('store');
    expect(Object.keys(feature)).not.toContain('storeTimeoutMs');
  });
});

describe('configure() with the result cache in effect', () => {
  // Kills resultCache.ts:74 `other.semantic === settings.semantic` made true (ConditionalExpression): a change
  // from an exact to a semantic result cache (or back) was taken as no change, and silently not applied.
  it('refuses turning semantic on or off as a change of the result cache', () => {
    const execute = (items: readonly string[]) => items.map((s) => s.toUpperCase());
    const exact = createBatcher<string, string>({ execute, dedupStrategy: 'hybrid', resultCache: { ttlMs: 100 } });
    expect(() => exact.configure({ resultCache: { ttlMs: 100, semantic: true } })).toThrow(
      /^createBatcher\.configure: resultCache cannot be changed on a running batcher/,
    );
    expect(() => exact.configure({ resultCache: { ttlMs: 100, semantic: false } })).not.toThrow();
    exact.close();
    const semantic = createBatcher<string, string>({ execute, dedupStrategy: 'hybrid', resultCache: { ttlMs: 100, semantic: true } });
    expect(() => semantic.configure({ resultCache: { ttlMs: 100 } })).toThrow(/^createBatcher\.configure: resultCache cannot be changed/);
    semantic.close();
  });
});

describe('the semantic result cache when the embedder fails', () => {
  // Kills resultCache.ts:126 `probe !== undefined` made true (ConditionalExpression): a result computed without
  // a vector (the embedder failed, so the batch fell back to exact dedup) was indexed by similarity with no
  // vector, which threw while the answer was being stored: the request that had joined that execution in flight
  // was never answered. It is cached by its exact key alone, and every request sharing it is answered.
  it('answers the request that joined the execution in flight, and caches the result by its exact key', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: (s: string) => s.toUpperCase() });
    const embed: Embedder = () => {
      throw new Error('embedder down');
    };
    const batcher = createBatcher<string, string>({
      execute: backend.execute,
      dedupStrategy: 'hybrid',
      embed,
      windowMs: 2,
      scheduler: clock.scheduler,
      resultCache: { ttlMs: 100, semantic: true },
    });
    const answers: string[] = [];
    const first = batcher.process('a').then((v) => answers.push(`first ${v}`));
    clock.advanceBy(3); // the window closed at 2: 'a' executes from 2 to 7
    const joined = batcher.process('a').then((v) => answers.push(`joined ${v}`));
    for (let i = 0; i < 20; i++) {
      await turn();
      clock.advanceBy(1);
    }
    expect(answers).toEqual(['first A', 'joined A']);
    const again = batcher.process('a');
    clock.runAll();
    await expect(again).resolves.toBe('A');
    expect(backend.calls.map((call) => [...call.items])).toEqual([['a']]);
    await Promise.all([first, joined]);
    batcher.close();
  });
});
