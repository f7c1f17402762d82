/**
 * greedyLeaders with a scope that throws for some requests (similarity.ts, `dedupFunction`): no test reached that
 * path before the stop-19 mutation run (issue 17, H-MUT6). The request whose scope threw is rejected with its own
 * error, never answered with another's result; the others are still merged by the function, with no fallback.
 */
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatcher, type DedupedBatch } from '../src/index.js';
import { dedupBy } from '../src/operators/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

describe('dedupFunction with a scope that throws for some requests', () => {
  it('rejects those, naming scope, and merges the others by the function alone', async () => {
    const clock = virtualClock();
    const executed: string[][] = [];
    const batcher = createBatcher<string, string>({
      windowMs: 5,
      scheduler: clock.scheduler,
      execute: (items) => {
        executed.push(items);
        return items.map((q) => `answer to ${q}`);
      },
      dedupFunction: (a, b) => (a.toLowerCase() === b.toLowerCase() ? 1 : 0),
      dedupThreshold: 0.5,
      scope: (q) => {
        if (q.startsWith('bad')) throw new Error(`no tenant for ${q}`);
        return 't';
      },
    });
    const calls = ['bad1', 'hello', 'HELLO', 'bad2', 'other'].map((q) => batcher.process(q));
    const all = await settleAll(clock, Promise.allSettled(calls));
    expect(all.status).toBe('fulfilled');
    expect((all as PromiseFulfilledResult<unknown>).value).toEqual([
      { status: 'rejected', reason: expect.objectContaining({ name: 'TypeError', message: 'createBatcher: scope(request) threw: no tenant for bad1' }) },
      { status: 'fulfilled', value: 'answer to hello' },
      { status: 'fulfilled', value: 'answer to hello' },
      { status: 'rejected', reason: expect.objectContaining({ name: 'TypeError', message: 'createBatcher: scope(request) threw: no tenant for bad2' }) },
      { status: 'fulfilled', value: 'answer to other' },
    ]);
    expect(executed).toEqual([['hello', 'other']]);
    expect(batcher.getStats()).toMatchObject({ embedFallbacks: 0, deduplicated: 1 });
  });
});

describe('dedupBy with a dedupFunction, over a scope that throws', () => {
  it('gives the failed request leaderOf -1 and its error, as DedupedBatch promises', () => {
    let batch: DedupedBatch<string> | undefined;
    const scope = (q: string) => {
      if (q === 'bad') throw new Error('no tenant');
      return 't';
    };
    of(['a', 'bad', 'A', 'b'])
      .pipe(dedupBy<string>({ dedupFunction: (x, y) => (x.toLowerCase() === y.toLowerCase() ? 1 : 0), dedupThreshold: 0.5, scope }))
      .subscribe((out) => (batch = out));
    expect(batch!.unique).toEqual(['a', 'b']);
    expect(batch!.leaderOf).toEqual([0, -1, 0, 1]);
    expect([...batch!.failures!.keys()]).toEqual([1]);
    expect(String(batch!.failures!.get(1))).toBe('TypeError: dedupBy: scope(request) threw: no tenant');
  });
});
