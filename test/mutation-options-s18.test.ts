/**
 * Bad option values are refused with a clear error that names the option and shows the value as it was given
 * (src/base/validate.ts's `describe`, src/dedup/options.ts's `metric` and `mergeGuard` checks), through the public
 * API. Found by Stryker (issue 17, stop 18): a function shown by its source text, an array by its joined
 * entries, an object without prototype by `undefined`, all survived; and a `metric` or `mergeGuard` without
 * prototype was refused with the engine's own "Cannot convert object to primitive value", naming neither the
 * option nor the value (a bug, fixed: the value is now described by `describeValue`).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats } from '../src/index.js';

const execute = (xs: string[]) => xs;

function refusal(create: () => unknown): string {
  try {
    create();
  } catch (error) {
    return `${(error as Error).name}: ${(error as Error).message}`;
  }
  return 'accepted';
}

describe('a number option given something else names it by its kind', () => {
  it.each([
    ['a function', () => 1, 'a function'],
    ['an array', [1, 2], 'an array'],
    ['an object without prototype', Object.create(null) as object, 'an object'],
    ['a string', '1', '"1"'],
    ['an object', { valueOf: () => 1 }, '[object Object]'],
  ])('%s', (_, given, shown) => {
    expect(refusal(() => createBatchStats({ costPerRequestUsd: given as never }))).toBe(
      `TypeError: createBatchStats: costPerRequestUsd must be a number, got ${shown}`,
    );
  });
});

describe('metric and mergeGuard: a value that is neither is refused naming the option', () => {
  it('a metric without prototype: the option named, the value described', () => {
    expect(refusal(() => createBatcher({ execute, dedupStrategy: 'embedding', metric: Object.create(null) as never }))).toMatch(
      /^TypeError: createBatcher: metric must be a function or one of the ml-distance similarities 'cosine', .*, got an object$/,
    );
  });

  it('a mergeGuard without prototype: the option named, the value described', () => {
    expect(refusal(() => createBatcher({ execute, dedupStrategy: 'embedding', mergeGuard: Object.create(null) as never }))).toBe(
      'TypeError: createBatcher: mergeGuard must be true, false or a function, got an object',
    );
  });

  it('a number for metric: shown as the number', () => {
    expect(refusal(() => createBatcher({ execute, dedupStrategy: 'embedding', metric: 5 as never }))).toMatch(/, got 5$/);
  });
});

describe('a count that may not be Infinity', () => {
  it('latencySamples: Infinity is refused as not finite', () => {
    expect(refusal(() => createBatchStats({ latencySamples: Infinity }))).toBe('RangeError: createBatchStats: latencySamples must be finite, got Infinity');
  });
});
