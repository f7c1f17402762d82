/**
 * The result cache's table (src/internal/inFlight.ts) through createBatcher, where a Stryker run on the file
 * (STRYKER_TESTS=run, docs/testing.md) found a promise no test guarded. Each `it` names the mutants it kills.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

describe('the result cache bound, for requests with a scope', () => {
  // inFlight's SlotMap.delete: `scope === undefined` made true: evicting an entry of a scope (past maxEntries)
  // deleted the entry without a scope under the same key instead, and the cached result was executed again;
  // SlotMap.delete dropping a scope's maps while they still hold entries (its check made true, an `&&` made `||`,
  // or `maps.plain.size === 0` made true): the scope's other cached result was executed again.
  it('evicting an entry of a scope keeps the scope\'s other entry and the entry without a scope under the same key', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const batcher = createBatcher<string, string>({
      execute: (items) => items.map((item) => `${item} #${executed.push(item)}`),
      windowMs: 1,
      resultCache: { ttlMs: 60_000, maxEntries: 2 },
      scheduler: clock.scheduler,
    });
    const ask = (request: string, scope?: string) => settleAll(clock, batcher.process(request, scope === undefined ? undefined : { scope }));
    await expect(ask('a')).resolves.toEqual({ status: 'fulfilled', value: 'a #1' });
    await expect(ask('a', 's')).resolves.toEqual({ status: 'fulfilled', value: 'a #2' });
    await expect(ask('a')).resolves.toEqual({ status: 'fulfilled', value: 'a #1' });
    // A third entry evicts the least recently used: 'a' in scope s.
    await expect(ask('b', 's')).resolves.toEqual({ status: 'fulfilled', value: 'b #3' });
    await expect(ask('a')).resolves.toEqual({ status: 'fulfilled', value: 'a #1' });
    await expect(ask('b', 's')).resolves.toEqual({ status: 'fulfilled', value: 'b #3' });
    await expect(ask('a', 's')).resolves.toEqual({ status: 'fulfilled', value: 'a #4' });
    expect(executed).toEqual(['a', 'a', 'b', 'a']);
    await batcher.close();
  });
});
