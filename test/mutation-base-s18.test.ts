/**
 * Error messages name the value that was wrong as it was given, telling types apart (src/base/describeGiven.ts,
 * src/base/validate.ts, src/base/nearestNames.ts), seen through the public API: `fanOut` given something that is
 * not a `DedupedBatch`, options given values of the wrong type. Found unguarded by Stryker (issue 17, stop 18):
 * a boolean or a function described as nothing (an empty string) or as a symbol, an array described as nothing.
 */
import { from, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BatchResult, DedupedBatch } from '../src/index.js';
import { createBatcher } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';
import { nearestNames, orList, unknownOption } from '../src/base/nearestNames.js';

/** Runs `fanOut` over `batches`; the output's error and the requests' outcomes. */
function runFanOut(batches: readonly unknown[]) {
  const scheduler = new VirtualTimeScheduler();
  const outcomes: string[] = [];
  let error: unknown;
  from(batches as DedupedBatch<string>[])
    .pipe(fanOut<string, string>({ execute: (xs) => xs.map((x) => `answer to ${x}`), scheduler }))
    .subscribe({
      next: (r: BatchResult<string, string>) =>
        outcomes.push(r.status === 'fulfilled' ? `${r.request}: ${r.value}` : `${r.request}: ${(r.error as Error).message}`),
      error: (e: unknown) => (error = e),
    });
  scheduler.flush();
  // Rejections of malformed entries come before the answers: sorted by request.
  return { outcomes: outcomes.sort(), error: error as Error | undefined };
}

describe('fanOut names what it was given instead of a batch', () => {
  it.each([
    ['a boolean', true, 'true (a boolean)'],
    ['a function', () => 'batch', '(a function)'],
    ['a string', 'batch', '"batch" (a string)'],
    ['a bigint', 3n, '3n (a bigint)'],
    ['a symbol', Symbol('batch'), 'Symbol(batch) (a symbol)'],
    ['a number', 0, '0'],
  ])('%s', (_, given, shown) => {
    const { outcomes, error } = runFanOut([given]);
    expect(outcomes).toEqual([]);
    expect(error?.message).toBe(`fanOut: expected a DedupedBatch { items, unique, leaderOf, failures? }, got ${shown}`);
  });

  it('an array for a whole batch: its items are read (undefined), and named so', () => {
    expect(runFanOut([[]]).error?.message).toBe(
      'fanOut: batch.items must be an array, got undefined; a DedupedBatch is { items, unique, leaderOf, failures? }',
    );
  });

  it('an entry of leaderOf that is an array: that request is rejected naming it as an array, the other is served', () => {
    const { outcomes, error } = runFanOut([{ items: ['a', 'b'], unique: ['a', 'b'], leaderOf: [0, [1]] }]);
    expect(error).toBeUndefined();
    expect(outcomes).toEqual([
      'a: answer to a',
      "b: fanOut: batch.leaderOf[1] is (an array); each entry must be the index of the item's leader in batch.unique (0 to 1), " +
        'or -1 with the item\'s error in batch.failures',
    ]);
  });

  it('an entry of leaderOf that is a boolean or an object: named by its kind, not by its text', () => {
    const { outcomes } = runFanOut([{ items: ['a', 'b', 'c'], unique: ['a'], leaderOf: [0, false, {}] }]);
    expect(outcomes.filter((o) => !o.startsWith('a:')).map((o) => o.split('; ')[0])).toEqual([
      'b: fanOut: batch.leaderOf[1] is false (a boolean)',
      'c: fanOut: batch.leaderOf[2] is (an object)',
    ]);
  });

  it('null for unique: the whole batch is rejected naming null', () => {
    const { outcomes } = runFanOut([{ items: ['a'], unique: null, leaderOf: [0] }]);
    expect(outcomes).toEqual(['a: fanOut: batch.unique must be an array, got null; a DedupedBatch is { items, unique, leaderOf, failures? }']);
  });
});

describe('nearestNames: the known names an unknown option name most likely meant', () => {
  it('the same name in another case wins over the names that contain it', () => {
    expect(nearestNames('WINDOW', ['windowMs', 'window'])).toEqual({ names: ['window'], close: true });
  });

  it('a name of 4 letters or more: every known name that contains it, and only those', () => {
    expect(nearestNames('timeoutMs', ['windowMs', 'processingTimeoutMs', 'requestTimeoutMs'])).toEqual({
      names: ['processingTimeoutMs', 'requestTimeoutMs'],
      close: true,
    });
  });

  it('a name of fewer than 4 letters is not looked for inside the others: the fewest edits win', () => {
    expect(nearestNames('ms', ['windowMs', 'ab'])).toEqual({ names: ['ab'], close: true });
  });

  it('ties in edits are all returned, in the order of the known names', () => {
    expect(nearestNames('abc', ['xyz', 'abd', 'ab'])).toEqual({ names: ['abd', 'ab'], close: true });
  });

  it('edits count to the last letter of the name', () => {
    // "abc" is 1 edit from both; a count that stopped one letter short would find "ab" nearer.
    expect(nearestNames('abc', ['ab', 'abd'])).toEqual({ names: ['ab', 'abd'], close: true });
  });

  it('close up to half the name\'s length in edits (at least 2), not beyond', () => {
    expect(nearestNames('abcd', ['abxy'])).toEqual({ names: ['abxy'], close: true });
    expect(nearestNames('abcdef', ['abxyzf'])).toEqual({ names: ['abxyzf'], close: true });
    expect(nearestNames('abcd', ['axyz'])).toEqual({ names: ['axyz'], close: false });
  });

  it('no known names: none suggested', () => {
    expect(nearestNames('abc', [])).toEqual({ names: [], close: false });
  });
});

describe('orList and unknownOption: the names as a sentence', () => {
  it.each([
    [[], ''],
    [['a'], 'a'],
    [['a', 'b'], 'a or b'],
    [['a', 'b', 'c'], 'a, b or c'],
  ])('%j', (names, sentence) => {
    expect(orList(names)).toBe(sentence);
  });

  it('createBatcher lists every option that contains the unknown name', () => {
    expect(() => createBatcher({ execute: (xs: string[]) => xs, timeoutMs: 1 } as never)).toThrow(
      new TypeError('createBatcher: unknown option timeoutMs; did you mean embedTimeoutMs, processingTimeoutMs, requestTimeoutMs or resultCache.storeTimeoutMs?'),
    );
  });

  it('a name far from every known one: says no option is close, and names the nearest', () => {
    expect(unknownOption('zzzz', ['ab', 'cd'])).toBe('unknown option zzzz; no option is close (the nearest is ab or cd)');
  });
});
