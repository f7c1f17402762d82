/**
 * fanOut's option checks (src/internal/fanOutSettings.ts; issue 17, stop 19, H-MUT5): an `enqueuedAt` that is not a
 * function is refused naming it, and `concurrency: Infinity` (no bound) is taken.
 */
import { NEVER, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { dedupBy, fanOut } from '../src/index.js';

describe('fanOut options', () => {
  it('refuses an enqueuedAt that is not a function, naming enqueuedAt', () => {
    expect(() => fanOut<number, number>({ execute: (items) => items, enqueuedAt: 5 as never })).toThrow(
      new TypeError('fanOut: enqueuedAt must be a function, got 5'),
    );
  });

  it('takes concurrency: Infinity and runs every batch at once (5 here, past the default of 4)', () => {
    const calls: number[][] = [];
    const subscription = of([1], [2], [3], [4], [5])
      .pipe(
        dedupBy<number>({}),
        fanOut<number, number>({ execute: (items) => (calls.push([...items]), NEVER), concurrency: Infinity }),
      )
      .subscribe();
    expect(calls).toEqual([[1], [2], [3], [4], [5]]);
    subscription.unsubscribe();
  });
});
