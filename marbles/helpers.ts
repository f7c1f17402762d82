import { expect } from 'vitest';
import { createTestScheduler } from '../src/testing/index.js';

/** A TestScheduler asserting with vitest's `toEqual`, for readable diffs. */
export function testScheduler() {
  return createTestScheduler((actual, expected) => expect(actual).toEqual(expected));
}
