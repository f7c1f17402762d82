/**
 * The table of what equal requests share (src/internal/inFlight.ts: the result cache's entries and its bound),
 * where mutation testing looked for promises no test guarded (docs/testing.md, issue 17). Through createBatcher
 * only, on a virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

describe('the result cache, when a key is stored again', () => {
  // SlotTable.store's `if (previous) this.forget(previous)` made false: the replaced entry stayed in the recency
  // list, took a place under maxEntries, and its eviction later deleted the key's live entry.
  it('the new result replaces the old one in the bound: with maxEntries 2, both keys stay cached', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: (s: string) => s.toUpperCase() });
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      dedupInFlight: false,
      resultCache: { ttlMs: 10_000, maxEntries: 2 },
      execute: backend.execute,
    });
    const first = batcher.process('a');
    clock.advanceBy(2);
    const again = batcher.process('a'); // sent again (dedupInFlight off): its result is stored over the first's
    expect(await settleAll(clock, Promise.all([first, again]))).toEqual({ status: 'fulfilled', value: ['A', 'A'] });
    expect(await settleAll(clock, batcher.process('b'))).toEqual({ status: 'fulfilled', value: 'B' });
    expect(await settleAll(clock, Promise.all([batcher.process('a'), batcher.process('b')]))).toEqual({ status: 'fulfilled', value: ['A', 'B'] });
    expect(backend.calls.map((c) => c.items)).toEqual([['a'], ['a'], ['b']]);
    expect(batcher.getStats().cacheHits).toBe(2);
  });
});
