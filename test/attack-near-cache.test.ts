/**
 * The semantic result cache (`resultCache.semantic`) calls the user's `metric` and `mergeGuard` when it looks a
 * batch's leaders up among the cached results. When either threw there, the throw went up through the engine
 * and out of the scheduler's timer that closed the window: on a virtual clock out of `advanceBy`, on the real
 * one out of a `setTimeout` callback, an uncaught exception that ends a Node process; the batch was never
 * executed and its requests never answered. (The dedup stage, which calls them too, falls back to exact dedup;
 * but a batch of one request has no pair to compare there, so only the lookup calls them.) Now such a throw is
 * no match, as a NaN score already was: the batch is executed and each request gets its own answer.
 */
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, type BatchResult, type Embedder } from '../src/index.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';
import { drain, runFor } from './support.js';

/** Every text the same direction: each lookup finds the cached result near, and asks the guard about it. */
const embed: Embedder = (texts) => texts.map(() => [1, 1, 0]);
const answer = (items: string[]) => items.map((q) => `answer to ${q}`);
const broken = (what: string) => () => {
  throw new Error(`${what} is broken`);
};

const THROWING: readonly (readonly [string, object])[] = [
  ['metric', { metric: broken('metric') }],
  ['mergeGuard', { mergeGuard: broken('mergeGuard') }],
];

describe('the semantic result cache with a metric or mergeGuard that throws', () => {
  it.each(THROWING)('createBatcher, %s: a lone later request is executed and gets its own answer; nothing thrown out', async (_, hostile) => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      dedupStrategy: 'embedding',
      embed,
      resultCache: { semantic: true, ttlMs: 60_000 },
      ...hostile,
      execute: (items) => {
        calls.push([...items]);
        return answer(items);
      },
    });
    const answers: unknown[] = [];
    for (const q of ['what is rust', 'what is go']) {
      const settled = batcher.process(q).then(
        (value) => value,
        (error: unknown) => `rejected: ${String(error)}`,
      );
      await runFor(clock, 10);
      answers.push(await settled);
    }
    expect(answers).toEqual(['answer to what is rust', 'answer to what is go']);
    expect(calls).toEqual([['what is rust'], ['what is go']]);
    expect(batcher.getStats().semanticCacheHits).toBe(0);
    expect(await drain(clock, batcher.close())).toBe(true);
  });

  it.each(THROWING)('batchDedup, %s: each request is answered with its own result and the output completes', (_, hostile) => {
    createTestScheduler().run(({ cold, expectObservable }) => {
      const source = cold<string>('a 9ms b|', { a: 'what is rust', b: 'what is go' });
      const results = source.pipe(
        batchDedup<string, string>({ windowMs: 2, dedupStrategy: 'embedding', embed, resultCache: { semantic: true, ttlMs: 60_000 }, ...hostile, execute: answer }),
      );
      // Executed, each in its batch (a found no cached result near it; b's lookup met the throw).
      const own = (request: string, batchId: number, latencyMs: number): BatchResult<string, string> =>
        ({ request, status: 'fulfilled', value: `answer to ${request}`, batchId, deduplicated: false, latencyMs });
      expectObservable(results).toBe('--a 8ms (b|)', { a: own('what is rust', 1, 2), b: own('what is go', 2, 1) });
    });
  });
});
