/**
 * A `dedupFunction` is a user's similarity: it must return a number in [0, 1]. One that returns something else
 * (a string such as '0.99' read from a JSON answer, a boolean, null, an array, a bigint, an object with `valueOf`)
 * was coerced by the comparison `score >= threshold`: '0.99', true, [1] and 1n merged every request of the batch
 * into the first, and null never merged, all silently. Such a score is now what NaN already was (decisions.md:
 * "A dedupFunction that throws or returns a non-score"): the batch falls back to exact dedup, counted in
 * `embedFallbacks`, and every request gets its own answer. The same holds on every entry point and in `dedupBy`.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, createBatcher, dedupBy, type DedupedBatch } from '../src/index.js';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, expectSaneStats, runFor } from './support.js';

const NON_NUMBERS: readonly (readonly [string, unknown])[] = [
  ['the string "0.99"', '0.99'],
  ['the string "1"', '1'],
  ['true', true],
  ['an array [1]', [1]],
  ['an object whose valueOf gives 1', { valueOf: () => 1 }],
  ['the bigint 1n', 1n],
  ['null', null],
  ['false', false],
];

const answer = (items: string[]) => items.map((q) => `answer to ${q}`);

async function throughBatcher(make: typeof createBatcher, score: unknown) {
  const clock = virtualClock();
  const calls: string[][] = [];
  const batcher = make<string, string>({
    scheduler: clock.scheduler,
    windowMs: 5,
    dedupThreshold: 0.5,
    dedupFunction: () => score as number,
    execute: (items) => {
      calls.push([...items]);
      return answer(items);
    },
  });
  const answers = ['alpha', 'bravo', 'alpha', 'charlie'].map((q) => batcher.process(q));
  await runFor(clock, 10);
  const settled = await Promise.all(answers);
  const stats = batcher.getStats();
  await drain(clock, batcher.close());
  return { settled, calls, stats };
}

describe('a dedupFunction that returns a non-number', () => {
  it.each(NON_NUMBERS)('createBatcher, score %s: the batch falls back to exact dedup; each request gets its own answer', async (_, score) => {
    const { settled, calls, stats } = await throughBatcher(createBatcher, score);
    expect(settled).toEqual(['answer to alpha', 'answer to bravo', 'answer to alpha', 'answer to charlie']);
    expect(calls).toEqual([['alpha', 'bravo', 'charlie']]);
    expect(stats.embedFallbacks).toBe(1);
    expect(stats.deduplicated).toBe(1);
    expectSaneStats(stats);
  });

  it.each(NON_NUMBERS)('rxjs-batch-dedup/lite createBatcher, score %s: falls back to exact dedup the same way', async (_, score) => {
    // dedupFunction is the engine's: /lite's lean core refuses it naming engine() (test/lite-switch.test.ts).
    const onEngine = ((options: object) => createLiteBatcher({ ...(options as { execute: () => [] }), engine: engine() })) as typeof createBatcher;
    const { settled, calls, stats } = await throughBatcher(onEngine, score);
    expect(settled).toEqual(['answer to alpha', 'answer to bravo', 'answer to alpha', 'answer to charlie']);
    expect(calls).toEqual([['alpha', 'bravo', 'charlie']]);
    expect(stats.embedFallbacks).toBe(1);
  });

  it.each(NON_NUMBERS)('dedupBy standalone, score %s: the batch is deduplicated exactly, counted once in embedFallbacks', (_, score) => {
    const stats = createBatchStats();
    const batches$ = new Subject<string[]>();
    const out: DedupedBatch<string>[] = [];
    batches$.pipe(dedupBy({ dedupFunction: () => score as number, stats })).subscribe((b) => out.push(b));
    batches$.next(['alpha', 'bravo', 'alpha']);
    expect(out.map((b) => [b.unique, b.leaderOf])).toEqual([[['alpha', 'bravo'], [0, 1, 0]]]);
    expect(stats.snapshot().embedFallbacks).toBe(1);
  });

  it('a number score still merges: the fallback is for non-numbers only', async () => {
    const { settled, calls, stats } = await throughBatcher(createBatcher, 0.99);
    expect(settled).toEqual(['answer to alpha', 'answer to alpha', 'answer to alpha', 'answer to alpha']);
    expect(calls).toEqual([['alpha']]);
    expect(stats.embedFallbacks).toBe(0);
  });
});
