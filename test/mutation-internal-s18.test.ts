/**
 * Small promises of src/internal found unguarded by Stryker (issue 17, stop 18): a batch whose items cannot be read
 * keeps the getter's error as `cause`; a well-formed batch with a failure is passed on as it is, not copied; the
 * collector's side of a hand-composed feedback channel answers whether a slot is free.
 */
import { from, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DedupedBatch } from '../src/index.js';
import { bufferWindow, fanOut } from '../src/operators/index.js';
import { checkBatch } from '../src/internal/checkBatch.js';
import { collectorSide, createBatchFeedback } from '../src/internal/feedback.js';

describe('checkBatch', () => {
  it("a batch whose items getter throws: fanOut's output errors with a TypeError whose cause is the getter's error", () => {
    const thrown = new Error('items are gone');
    const batch = { get items(): string[] { throw thrown; }, unique: [], leaderOf: [] };
    const scheduler = new VirtualTimeScheduler();
    let error: unknown;
    from([batch as DedupedBatch<string>]).pipe(fanOut<string, string>({ execute: (xs) => xs, scheduler })).subscribe({ error: (e: unknown) => (error = e) });
    scheduler.flush();
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).cause).toBe(thrown);
  });

  it('a well-formed batch whose failed item points nowhere (-1) is returned as it is, not copied', () => {
    const batch: DedupedBatch<string> = { items: ['a', 'b'], unique: ['b'], leaderOf: [-1, 0], failures: new Map([[0, new Error('a failed')]]) };
    expect(checkBatch('fanOut', batch)).toBe(batch);
  });

  it('a failed item whose entry points to a leader is answered by its failure: the copy points it nowhere', () => {
    const failure = new Error('a failed');
    const batch: DedupedBatch<string> = { items: ['a', 'b'], unique: ['b'], leaderOf: [0, 0], failures: new Map([[0, failure]]) };
    const checked = checkBatch('fanOut', batch) as DedupedBatch<string>;
    expect(checked).not.toBe(batch);
    expect(checked.leaderOf).toEqual([-1, 0]);
    expect(checked.failures?.get(0)).toBe(failure);
  });
});

describe("the collector's side of a channel", () => {
  it('has capacity exactly while the channel has', () => {
    const feedback = createBatchFeedback(1);
    const side = collectorSide(feedback);
    expect(side.hasCapacity()).toBe(true);
    feedback.reserve();
    expect(side.hasCapacity()).toBe(false);
  });
});

describe('a feedback option', () => {
  it('a function carrying every member of a channel is not a channel: refused', () => {
    const feedback = createBatchFeedback(1);
    const callable = Object.assign(() => undefined, {
      concurrency: 1,
      hasCapacity: () => feedback.hasCapacity(),
      reserve: () => feedback.reserve(),
      release: feedback.release,
      onRelease: feedback.onRelease,
    });
    expect(() => bufferWindow({ feedback: callable as never })).toThrow(
      new TypeError('bufferWindow: feedback must be a channel made by createBatchFeedback()'),
    );
  });
});
