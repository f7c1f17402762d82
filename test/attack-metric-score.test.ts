/**
 * A custom `metric` (a function of two vectors) is a user's similarity too. Its score was only checked for NaN:
 * a string ('0.99'), a boolean, null, an array or a bigint passed `clampScore` unchanged and was coerced by the
 * comparison with `dedupThreshold`, so '0.99' or true merged every request into the first (each answered with the
 * first one's result), and null kept even byte-equal texts apart; in the semantic result cache ('0.99' scored a
 * hit), every later request was answered with a cached result of another text. A score that is not a number is
 * now what NaN is: in a batch, a malformed similarity (the batch falls back to exact dedup, counted in
 * `embedFallbacks`); in the result cache, no match.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, createBatcher, dedupBy, type DedupedBatch, type Embedder } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, expectSaneStats, runFor } from './support.js';

const NON_NUMBERS: readonly (readonly [string, unknown])[] = [
  ['the string "0.99"', '0.99'],
  ['true', true],
  ['an array [1]', [1]],
  ['the bigint 1n', 1n],
  ['an object whose valueOf gives 1', { valueOf: () => 1 }],
  ['null', null],
];

/** Each text's first word is its axis: every text is its own, nothing is similar to another by cosine. */
const WORDS = ['alpha', 'bravo', 'charlie'];
const embed: Embedder = (texts) => texts.map((t) => WORDS.map((w) => (t.startsWith(w) ? 1 : 0)));
const answer = (items: string[]) => items.map((q) => `answer to ${q}`);

async function serve(score: unknown, rounds: readonly (readonly string[])[], resultCache?: object) {
  const clock = virtualClock();
  const calls: string[][] = [];
  const batcher = createBatcher<string, string>({
    scheduler: clock.scheduler,
    windowMs: 5,
    dedupStrategy: 'embedding',
    mergeGuard: false,
    embed,
    metric: () => score as number,
    ...(resultCache ? { resultCache: resultCache as never } : {}),
    execute: (items) => {
      calls.push([...items]);
      return answer(items);
    },
  });
  const settled: string[][] = [];
  for (const round of rounds) {
    const answers = round.map((q) => batcher.process(q));
    await runFor(clock, 10);
    settled.push(await Promise.all(answers));
  }
  const stats = batcher.getStats();
  await drain(clock, batcher.close());
  return { settled, calls, stats };
}

describe('a custom metric whose score is not a number', () => {
  it.each(NON_NUMBERS)('createBatcher, score %s: the batch falls back to exact dedup; each request gets its own answer', async (_, score) => {
    const { settled, calls, stats } = await serve(score, [['alpha one', 'bravo two', 'alpha one', 'charlie three']]);
    expect(settled).toEqual([['answer to alpha one', 'answer to bravo two', 'answer to alpha one', 'answer to charlie three']]);
    expect(calls).toEqual([['alpha one', 'bravo two', 'charlie three']]);
    expect(stats.embedFallbacks).toBe(1);
    expectSaneStats(stats);
  });

  it.each(NON_NUMBERS)('resultCache.semantic, score %s: no later request is answered from the cached result of another text', async (_, score) => {
    const { settled, stats } = await serve(score, [['alpha one'], ['bravo two', 'charlie three']], { semantic: true, ttlMs: 60_000 });
    expect(settled).toEqual([['answer to alpha one'], ['answer to bravo two', 'answer to charlie three']]);
    expect(stats.semanticCacheHits).toBe(0);
    expectSaneStats(stats);
  });

  it.each(NON_NUMBERS)('dedupBy, score %s: the batch is deduplicated exactly, counted in embedFallbacks', async (_, score) => {
    const stats = createBatchStats();
    const batches$ = new Subject<string[]>();
    const out: DedupedBatch<string>[] = [];
    batches$.pipe(dedupBy({ dedupStrategy: 'embedding', mergeGuard: false, embed, metric: () => score as number, stats })).subscribe((b) => out.push(b));
    batches$.next(['alpha one', 'bravo two', 'alpha one']);
    await Promise.resolve();
    expect(out.map((b) => [b.unique, b.leaderOf])).toEqual([[['alpha one', 'bravo two'], [0, 1, 0]]]);
    expect(stats.snapshot().embedFallbacks).toBe(1);
  });

  it('a number score from the same metric still merges: the fallback is for non-numbers only', async () => {
    const { settled, calls, stats } = await serve(0.99, [['alpha one', 'bravo two']]);
    expect(settled).toEqual([['answer to alpha one', 'answer to alpha one']]);
    expect(calls).toEqual([['alpha one']]);
    expect(stats.embedFallbacks).toBe(0);
  });
});
