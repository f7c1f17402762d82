/**
 * The feedback channel of a pipeline composed by hand (src/internal/feedback.ts): how it counts slots, what its
 * collector side shares with it, and what the operators accept as one. Found unguarded by mutation testing
 * (docs/testing.md): a channel counting below zero, a concurrency set to 0, a listener that could not stop
 * listening, a collector side that did not pass a release on, and half a channel accepted.
 */
import { describe, expect, it } from 'vitest';
import { bufferWindow, createBatchFeedback, fanOut, type BatchFeedback } from '../src/operators/index.js';
import { collectorSide, type BatchReport } from '../src/internal/feedback.js';

const report: BatchReport = { size: 1, executedItems: 1, durationMs: 5, latenciesMs: [5], settledAt: 10 };

describe('a feedback channel counts the batches holding a slot', () => {
  it('outstanding counts each reserve until its release', () => {
    const feedback = createBatchFeedback(2);
    feedback.reserve();
    feedback.reserve();
    expect(feedback.outstanding).toBe(2);
    expect(feedback.hasCapacity()).toBe(false);
    feedback.release(report);
    expect(feedback.outstanding).toBe(1);
    expect(feedback.hasCapacity()).toBe(true);
  });

  it('a release without a reserve (a fanOut wired without its collector) never counts below zero', () => {
    const feedback = createBatchFeedback(1);
    feedback.release(report);
    expect(feedback.outstanding).toBe(0);
    feedback.reserve();
    expect(feedback.outstanding).toBe(1);
    expect(feedback.hasCapacity()).toBe(false); // the stray release did not lend a second slot
  });

  it('a new concurrency takes effect at once, and is checked like the first', () => {
    const feedback = createBatchFeedback(1);
    feedback.reserve();
    expect(feedback.hasCapacity()).toBe(false);
    feedback.concurrency = 2;
    expect(feedback.concurrency).toBe(2);
    expect(feedback.hasCapacity()).toBe(true);
    feedback.concurrency = Infinity;
    expect(feedback.concurrency).toBe(Infinity);
    expect(() => (feedback.concurrency = 0)).toThrow(new RangeError('createBatchFeedback: concurrency must be >= 1, got 0'));
    expect(() => (feedback.concurrency = 1.5)).toThrow(/^createBatchFeedback: concurrency must be an integer/);
    expect(feedback.concurrency).toBe(Infinity); // a refused value changes nothing
  });

  it('a listener hears each settled batch until it stops listening', () => {
    const feedback = createBatchFeedback(1);
    const heard: BatchReport[] = [];
    const stop = feedback.onRelease((r) => heard.push(r));
    feedback.release(report);
    stop();
    feedback.release({ ...report, settledAt: 20 });
    expect(heard).toEqual([report]);
  });
});

describe("a collector's side of a channel", () => {
  it('shares the concurrency, the count and the listeners of the channel, and takes no slot', () => {
    const feedback = createBatchFeedback(2);
    const side = collectorSide(feedback);
    expect(side.concurrency).toBe(2);
    side.concurrency = 3;
    expect(feedback.concurrency).toBe(3);
    feedback.reserve();
    expect(side.outstanding).toBe(1);
    side.reserve(); // fanOut takes the slot when the batch reaches it
    expect(feedback.outstanding).toBe(1);
    const heard: BatchReport[] = [];
    side.onRelease((r) => heard.push(r));
    side.release(report);
    expect(feedback.outstanding).toBe(0);
    expect(heard).toEqual([report]);
  });
});

describe('the operators accept a channel only with all its parts', () => {
  const execute = (items: string[]) => items;
  const channel = (): Record<string, unknown> => {
    const feedback = createBatchFeedback(2);
    return {
      concurrency: 2,
      hasCapacity: () => feedback.hasCapacity(),
      reserve: () => feedback.reserve(),
      release: (r: BatchReport) => feedback.release(r),
      onRelease: (l: (r: BatchReport) => void) => feedback.onRelease(l),
    };
  };
  const without = (part: string) => {
    const c = channel();
    delete c[part];
    return c;
  };
  const message = (where: string) => new TypeError(`${where}: feedback must be a channel made by createBatchFeedback()`);

  it('an object that behaves like a channel is accepted', () => {
    expect(() => fanOut({ execute, feedback: channel() as unknown as BatchFeedback })).not.toThrow();
    expect(() => bufferWindow({ feedback: channel() as unknown as BatchFeedback })).not.toThrow();
  });

  it.each([
    ['null', null],
    ['a number', 2],
    ['one without concurrency', without('concurrency')],
    ['one with a concurrency that is not a number', { ...channel(), concurrency: '2' }],
    ['one without hasCapacity', without('hasCapacity')],
    ['one without reserve', without('reserve')],
    ['one without release', without('release')],
    ['one without onRelease', without('onRelease')],
  ])('%s is refused, naming the operator', (_, feedback) => {
    expect(() => fanOut({ execute, feedback: feedback as unknown as BatchFeedback })).toThrow(message('fanOut'));
    expect(() => bufferWindow({ feedback: feedback as unknown as BatchFeedback })).toThrow(message('bufferWindow'));
  });
});
