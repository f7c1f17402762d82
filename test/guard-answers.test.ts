/**
 * A custom `mergeGuard` says whether two texts may be merged: `true` allows it, anything else refuses it. A guard
 * that answers something other than a boolean (`'no'` read from a JSON answer, `1`, an object) is not taken as
 * permission: merging is the unsafe direction (one caller would get another's answer), as a score that is not a
 * number is not taken as similarity (decisions.md, "Hostile user callbacks"). Before, the answer was coerced, so
 * `'no'` and `'false'` merged.
 */
import { firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatcher, dedupBy, resultCache } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, runFor } from './support.js';

const ANSWERS: readonly (readonly [string, unknown])[] = [
  ["the string 'no'", 'no'],
  ["the string 'false'", 'false'],
  ["the string 'true'", 'true'],
  ['the number 1', 1],
  ['an object', {}],
  ['a promise of true', Promise.resolve(true)],
];

/** Both texts embed to the same vector: only the guard can keep them apart. */
const sameVector = (texts: string[]) => texts.map(() => [1, 0, 0]);

async function dedupWith(answer: unknown) {
  const asked: [string, string][] = [];
  const operator = dedupBy<string>({
    dedupStrategy: 'embedding',
    embed: sameVector,
    mergeGuard: (a, b) => {
      asked.push([a, b]);
      return answer as boolean;
    },
  });
  const batch = await firstValueFrom(of(['reset my password', 'reset my passwd']).pipe(operator));
  return { batch, asked };
}

describe('a custom mergeGuard in batch dedup', () => {
  it.each(ANSWERS)('answering %s refuses the merge', async (_, answer) => {
    const { batch, asked } = await dedupWith(answer);
    expect(asked).toEqual([['reset my password', 'reset my passwd']]);
    expect(batch.unique).toEqual(['reset my password', 'reset my passwd']);
    expect(batch.leaderOf).toEqual([0, 1]);
  });

  it('answering true allows it', async () => {
    const { batch } = await dedupWith(true);
    expect(batch.unique).toEqual(['reset my password']);
    expect(batch.leaderOf).toEqual([0, 0]);
  });
});

describe('a custom mergeGuard in the semantic result cache', () => {
  async function cachedWith(answer: unknown) {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      dedupStrategy: 'embedding',
      embed: sameVector,
      mergeGuard: () => answer as boolean,
      resultCache: resultCache({ ttlMs: 1000, semantic: true }),
      execute: (items) => {
        calls.push([...items]);
        return items.map((q) => `answer to ${q}`);
      },
    });
    const first = batcher.process('reset my password');
    await runFor(clock, 5);
    const second = batcher.process('reset my passwd');
    await runFor(clock, 5);
    const answers = await Promise.all([first, second]);
    await drain(clock, batcher.close());
    return { answers, calls };
  }

  it.each(ANSWERS)('answering %s is no match: the second text is executed and gets its own answer', async (_, answer) => {
    const { answers, calls } = await cachedWith(answer);
    expect(answers).toEqual(['answer to reset my password', 'answer to reset my passwd']);
    expect(calls).toEqual([['reset my password'], ['reset my passwd']]);
  });

  it('answering true is a match: the cached answer serves it', async () => {
    const { answers, calls } = await cachedWith(true);
    expect(answers).toEqual(['answer to reset my password', 'answer to reset my password']);
    expect(calls).toEqual([['reset my password']]);
  });
});
