/**
 * One batch's run (src/internal/batchRun.ts) through `fanOut`, where a Stryker run on the file found promises no
 * test guarded (docs/testing.md). Each `it` names the mutant it kills.
 */
import { from, map, NEVER, timer, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BatchResult, DedupedBatch, ExecuteFn } from '../src/index.js';
import { createBatchFeedback, fanOut, type BatchReport, type FanOutOptions } from '../src/operators/index.js';

/** Runs `batches` through fanOut on a virtual clock; `at` moves the clock, `results` holds what came out. */
function run<T, R>(batches: DedupedBatch<T>[], execute: ExecuteFn<T, R>, options: Partial<FanOutOptions<T, R>> = {}) {
  const scheduler = (options.scheduler as VirtualTimeScheduler | undefined) ?? new VirtualTimeScheduler();
  const results: BatchResult<T, R>[] = [];
  let completed = false;
  const subscription = from(batches)
    .pipe(fanOut<T, R>({ execute, scheduler, ...options }))
    .subscribe({ next: (r) => results.push(r), complete: () => (completed = true) });
  return { scheduler, results, subscription, isCompleted: () => completed };
}

const single = <T>(items: T[]): DedupedBatch<T> => ({ items, unique: items, leaderOf: items.map((_, i) => i) });

describe('the signal execute receives', () => {
  // batchRun `if (!this.controller)` made `true`: each read made a new controller, so the signal a backend read
  // first (and passed to its fetch) was never aborted when the batch timed out.
  it('is one signal however often it is read: the one read first aborts when the batch times out', () => {
    const signals: AbortSignal[] = [];
    const { scheduler, results } = run(
      [single(['a'])],
      (_items, context) => {
        signals.push(context.signal);
        signals.push(context.signal);
        return NEVER;
      },
      { processingTimeoutMs: 10 },
    );
    scheduler.flush();
    expect(results.map((r) => r.status)).toEqual(['rejected']);
    expect(signals[0]).toBe(signals[1]);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[0]!.reason).toMatchObject({ name: 'BatchTimeoutError' });
  });
});

describe('a batch whose unique items are not in the order of its items', () => {
  // batchRun's isIdentity (every request its own leader, so no member lists): its loop's check made `false`, or
  // its `return false` made `return true`, took a permutation for the identity and answered each request with
  // the result at its own position, another request's result.
  it('answers each request with its own leader\'s result', () => {
    const { scheduler, results } = run<string, string>(
      [{ items: ['x', 'y'], unique: ['y', 'x'], leaderOf: [1, 0] }],
      (items) => items.map((item) => `value of ${item}`),
    );
    scheduler.flush();
    const answers = results.map((r) => [r.request, r.status === 'fulfilled' ? r.value : r.error]);
    expect(answers.sort()).toEqual([
      ['x', 'value of x'],
      ['y', 'value of y'],
    ]);
  });
});

describe('output that is neither results nor a stream item', () => {
  // batchRun's isStreamed (`typeof x === 'object' && x !== null && 'index' in x`) made `true`, or its `&&` made
  // `||`: a number or null that a promise or observable gave was read as a streamed item, and the request was
  // rejected with "could not be read (Cannot use 'in' operator...)" instead of what execute produced.
  it.each([
    ['a number', 42, 'number'],
    ['a string', 'oops', 'string'],
    ['null', null, 'null'],
  ])('a promise of %s: rejected with a BatchResultMismatchError that says what execute produced', (_, output, what) => {
    const { scheduler, results } = run<string, string>([single(['a'])], () => Promise.resolve(output) as never);
    return Promise.resolve().then(() => {
      scheduler.flush();
      expect(results).toHaveLength(1);
      const [result] = results;
      expect(result).toMatchObject({ status: 'rejected', error: { name: 'BatchResultMismatchError' } });
      expect((result as { error: Error }).error.message).toMatch(new RegExp(`^execute produced ${what}; expected an array of 1 results`));
    });
  });
});

describe('a unique item no request points to', () => {
  // batchRun's isIdentity with its length check made `false` or `===`: a batch with one more unique item than
  // items was taken for the identity, and the extra item's result was emitted for a request that does not exist.
  it('is executed with the others, and its streamed result goes to nobody', () => {
    const executed: string[][] = [];
    const { scheduler, results, isCompleted } = run<string, string>([{ items: ['a'], unique: ['a', 'z'], leaderOf: [0] }], (items) => {
      executed.push([...items]);
      return from(items.map((item, index) => ({ index, value: `value of ${item}` })));
    });
    scheduler.flush();
    expect(executed).toEqual([['a', 'z']]);
    expect(results).toEqual([expect.objectContaining({ request: 'a', status: 'fulfilled', value: 'value of a', deduplicated: false })]);
    expect(isCompleted()).toBe(true);
  });
});

describe('the report of a settled batch', () => {
  // batchRun's latencies list made `["Stryker was here"]`: the report a feedback channel hears (what the
  // adaptive window reads) carried an entry that is no request's latency.
  it('lists one latency per request, each from its arrival to its result', () => {
    const feedback = createBatchFeedback(1);
    const reports: BatchReport[] = [];
    feedback.onRelease((report) => reports.push(report));
    feedback.reserve();
    const arrivals = new Map([['a', 0], ['b', 3], ['c', 5]]);
    const scheduler = new VirtualTimeScheduler();
    run<string, string>(
      [{ items: ['a', 'b', 'c'], unique: ['a', 'b'], leaderOf: [0, 1, 0] }],
      (items) => timer(20, scheduler).pipe(map(() => items.map((item) => `value of ${item}`))),
      { feedback, scheduler, enqueuedAt: (request) => arrivals.get(request)! },
    );
    scheduler.flush();
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ size: 3, executedItems: 2, settledAt: 20 });
    expect([...reports[0]!.latenciesMs].sort((x, y) => x - y)).toEqual([15, 17, 20]);
  });
});
