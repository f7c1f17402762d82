/**
 * The result cache as an opt-in feature object, `resultCache: resultCache({ ttlMs })` (src/internal/resultCache.ts):
 * `rxjs-batch-dedup/lite` takes it and refuses the plain options object naming the factory and its import; the
 * main entry point takes both. See docs/decisions.md, "Opt-in features: the result cache, and what stays (issue 18)".
 */
import { describe, expect, it } from 'vitest';
import * as full from '../src/index.js';
import { batchDedup, createBatcher, createBatchStats, resultCache } from '../src/lite/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';

const upper = (s: string) => s.toUpperCase();
const echo = async (items: readonly string[]) => items.map(upper);

/** Items sent to the backend for 'a', then 'a' again `laterMs` after the first answer, on a batcher made with `options`. */
async function sentTwice(make: typeof createBatcher, options: object, laterMs: number): Promise<string[][]> {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: upper });
  const batcher = make<string, string>({ execute: backend.execute, windowMs: 10, scheduler: clock.scheduler, ...options });
  const first = batcher.process('a');
  clock.runAll();
  await expect(first).resolves.toBe('A');
  clock.advanceBy(laterMs);
  const second = batcher.process('a');
  clock.runAll();
  await expect(second).resolves.toBe('A');
  return backend.calls.map((call) => [...call.items]);
}

describe('resultCache: resultCache() on rxjs-batch-dedup/lite', () => {
  it('answers an equal request from the cache within ttlMs, without executing it again', async () => {
    expect(await sentTwice(createBatcher, {}, 10)).toEqual([['a'], ['a']]);
    expect(await sentTwice(createBatcher, { resultCache: resultCache({ ttlMs: 100 }) }, 10)).toEqual([['a']]);
  });

  it('executes it again once ttlMs has passed', async () => {
    expect(await sentTwice(createBatcher, { resultCache: resultCache({ ttlMs: 100 }) }, 200)).toEqual([['a'], ['a']]);
  });

  it('counts the hit in the stats', async () => {
    const stats = createBatchStats();
    await sentTwice(createBatcher, { stats, resultCache: resultCache({ ttlMs: 100 }) }, 10);
    expect(stats.snapshot().cacheHits).toBe(1);
  });

  it('checks its own options when called, naming itself', () => {
    expect(() => resultCache({ ttlMs: 0 })).toThrow(/^resultCache: resultCache\.ttlMs must be >= 1 ms, got 0/);
    expect(() => resultCache({} as never)).toThrow(/^resultCache: resultCache\.ttlMs must be a number/);
    expect(() => resultCache({ ttlMs: 5, maxEntries: 1.5 })).toThrow(/^resultCache: resultCache\.maxEntries must be an integer/);
    expect(() => resultCache({ ttlMs: 5, ttl: 1 } as never)).toThrow(
      /^resultCache: unknown option ttl; its options are ttlMs, maxEntries, semantic, store, storeTimeoutMs$/,
    );
    expect(() => resultCache({ ttlMs: 5, store: {} as never })).toThrow(/^resultCache: resultCache\.store must be a shared store/);
    expect(() => resultCache({ ttlMs: 5, storeTimeoutMs: 10 })).toThrow(/^resultCache: resultCache\.storeTimeoutMs is set but resultCache\.store is not/);
  });

  it('carries its settings, checked and defaulted, where the flat form had them', () => {
    expect(resultCache({ ttlMs: 5 })).toMatchObject({ ttlMs: 5, maxEntries: 1000, semantic: false });
  });

  it.each([
    ['createBatcher', (options: object) => createBatcher<string, string>({ execute: echo, ...options })],
    ['batchDedup', (options: object) => batchDedup<string, string>({ execute: echo, ...options })],
  ])('%s refuses the plain options object, naming resultCache() and its import', (name, create) => {
    expect(() => create({ resultCache: { ttlMs: 100 } })).toThrow(TypeError);
    expect(() => create({ resultCache: { ttlMs: 100 } })).toThrow(
      new RegExp(`^${name}: resultCache: an object needs resultCache\\(\\) in rxjs-batch-dedup/lite: import \\{ resultCache \\} from 'rxjs-batch-dedup/lite'$`),
    );
  });

  it('configure() takes the same settings as no change, and refuses others or the plain form', () => {
    const batcher = createBatcher<string, string>({ execute: echo, resultCache: resultCache({ ttlMs: 100 }) });
    expect(() => batcher.configure({ resultCache: resultCache({ ttlMs: 100 }) })).not.toThrow();
    expect(() => batcher.configure({ resultCache: resultCache({ ttlMs: 200 }) })).toThrow(
      /^createBatcher\.configure: resultCache cannot be changed on a running batcher/,
    );
    // @ts-expect-error /lite's types refuse the plain form as its run time does
    expect(() => batcher.configure({ resultCache: { ttlMs: 100 } })).toThrow(/^createBatcher\.configure: resultCache: an object needs resultCache\(\)/);
    batcher.close();
  });

  it('goes through a shared store given to it (resultCache.store)', async () => {
    const kept = new Map<string, unknown>();
    const store = full.sharedStore({
      get: async (keys) => keys.map((key) => kept.get(key)),
      set: async (entries) => {
        for (const [key, value] of entries) kept.set(key, value);
      },
    });
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: upper });
    const options = { execute: backend.execute, windowMs: 10, scheduler: clock.scheduler, resultCache: resultCache({ ttlMs: 100, store }) };
    const first = createBatcher<string, string>(options);
    const answered = first.process('a');
    clock.runAll();
    await expect(answered).resolves.toBe('A');
    await first.close();
    expect([...kept.values()]).toEqual(['A']);
  });
});

describe('resultCache on the main entry point', () => {
  it('takes both forms, and caches alike', async () => {
    expect(await sentTwice(full.createBatcher, { resultCache: { ttlMs: 100 } }, 10)).toEqual([['a']]);
    expect(await sentTwice(full.createBatcher, { resultCache: full.resultCache({ ttlMs: 100 }) }, 10)).toEqual([['a']]);
  });

  it('names the call and the option when the plain form is wrong, as before', () => {
    expect(() => full.createBatcher<string, string>({ execute: echo, resultCache: { ttlMs: -1 } })).toThrow(
      /^createBatcher: resultCache\.ttlMs must be >= 1 ms, got -1/,
    );
    expect(() => full.createBatcher<string, string>({ execute: echo, resultCache: false as never })).toThrow(TypeError);
  });
});
