/**
 * One batch's run (src/internal/batchRun.ts) on a virtual clock, where a Stryker run on the file
 * (STRYKER_TESTS=run, docs/testing.md) found promises no test guarded. Each `it` names the mutants it kills.
 */
import { NEVER, of } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

const single = <T>(items: T[]): DedupedBatch<T> => ({ items, unique: items, leaderOf: items.map((_, i) => i) });

/** A TestScheduler whose clock reads the wall clock's time at its start, as a fake clock seeded with Date.now() does. */
class WallSeededTestScheduler extends TestScheduler {
  constructor(assertDeepEqual: (actual: unknown, expected: unknown) => void) {
    super(assertDeepEqual);
    const start = Date.now();
    // A scheduler's `now` is an own property (set by Scheduler's constructor), not a method to override.
    this.now = () => this.frame + start;
  }
}

describe('the processing timeout on a virtual clock that reads like the wall clock', () => {
  // batchRun's launch: `scheduler === asyncScheduler` made true: a call launched on a virtual clock whose time is
  // within a second of Date.now() had its timer armed a microtask later, which a virtual clock running
  // synchronously never reaches: the batch never timed out.
  it('rejects the batch at processingTimeoutMs', () => {
    const ts = new WallSeededTestScheduler((actual, expected) => expect(actual).toEqual(expected));
    ts.run(({ expectObservable }) => {
      const results = of(single(['a'])).pipe(
        fanOut<string, string>({ execute: () => NEVER, scheduler: ts, processingTimeoutMs: 10 }),
      );
      expectObservable(results).toBe('10ms (x|)', {
        x: expect.objectContaining({ request: 'a', status: 'rejected', error: expect.objectContaining({ name: 'BatchTimeoutError', timeoutMs: 10 }) }),
      });
    });
  });
});
