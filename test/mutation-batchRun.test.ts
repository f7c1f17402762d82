/**
 * One batch's run (src/internal/batchRun.ts) through `fanOut`, where a Stryker run on the file found promises no
 * test guarded (docs/testing.md). Each `it` names the mutant it kills.
 */
import { concat, from, map, NEVER, Observable, of, take, timer, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, type BatchResult, type DedupedBatch, type ExecuteFn } from '../src/index.js';
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
    expect(reports[0]).toMatchObject({ size: 3, executedItems: 2, durationMs: 20, settledAt: 20 });
    expect([...reports[0]!.latenciesMs].sort((x, y) => x - y)).toEqual([15, 17, 20]);
  });
});

/** A thenable that calls back on the virtual clock (a promise would call back after the flush). */
function later<V>(scheduler: VirtualTimeScheduler, delay: number, outcome: { value: V } | { error: unknown }): PromiseLike<V> {
  return {
    then(onFulfilled, onRejected) {
      scheduler.schedule(() => ('value' in outcome ? onFulfilled?.(outcome.value) : onRejected?.(outcome.error)), delay);
      return undefined as never;
    },
  };
}

describe('a timed-out call retried item by item (onTimeout: individual)', () => {
  // batchRun's receive `if (execution.done) return` made false, and the thenable's rejection guard
  // `if (!execution.done)` made true: the timed-out call's late answer (or late rejection) answered the requests
  // that their retries were still working on.
  it.each([
    ['a late result', { value: ['late a', 'late b'] }],
    ['a late rejection', { error: new Error('late failure') }],
  ])('%s of the timed-out call is ignored: each request gets its retry\'s result', (_, lateOutcome) => {
    const scheduler = new VirtualTimeScheduler();
    const calls: string[][] = [];
    const { results } = run<string, string>(
      [single(['a', 'b'])],
      (items) => {
        calls.push([...items]);
        return calls.length === 1
          ? (later(scheduler, 15, lateOutcome as { value: string[] }) as PromiseLike<string[]>)
          : later(scheduler, 8, { value: items.map((item) => `retried ${item}`) });
      },
      { scheduler, processingTimeoutMs: 10, onTimeout: 'individual' },
    );
    scheduler.flush();
    expect(calls).toEqual([['a', 'b'], ['a'], ['b']]);
    expect(results.map((r) => [r.request, r.status === 'fulfilled' ? r.value : r.error])).toEqual([
      ['a', 'retried a'],
      ['b', 'retried b'],
    ]);
  });
});

describe('a stream that sends an unusable item before it returns', () => {
  // batchRun's `if (execution.done) execution.subscription?.unsubscribe()` made false: a stream refused while
  // execute's subscription was being made stayed subscribed (the backend's stream never torn down).
  it('is refused and unsubscribed', () => {
    let unsubscribed = false;
    const { scheduler, results } = run<string, string>([single(['a'])], () =>
      new Observable<{ index: number; value: string }>((subscriber) => {
        subscriber.next({ index: 7, value: 'x' });
        return () => (unsubscribed = true);
      }),
    );
    scheduler.flush();
    expect(results).toEqual([expect.objectContaining({ request: 'a', status: 'rejected', error: expect.objectContaining({ name: 'BatchResultMismatchError' }) })]);
    expect(unsubscribed).toBe(true);
  });
});

describe('execute returning something that is not output at all', () => {
  // batchRun's check for null and primitives before `from(output)` made false: from() threw, and the mismatch
  // carried from()'s message as its cause, not what execute produced alone.
  it.each([
    ['a number', 42, 'number'],
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
  ])('%s: rejected with a mismatch that says what it produced', (_, output, what) => {
    const { scheduler, results } = run<string, string>([single(['a'])], () => output as never);
    scheduler.flush();
    expect(results).toHaveLength(1);
    expect((results[0] as { error: Error }).error.message).toBe(
      `execute produced ${what}; expected an array of 1 results, a promise or observable of one, or a stream of { index, value }`,
    );
  });
});

describe('the items execute receives', () => {
  // batchRun's copy of the unique items for execute made the batch's own array: an execute that reuses the array
  // it is given (sorts it, empties it) changed the caller's DedupedBatch.
  it('are a copy: execute changing them leaves the batch as it was', () => {
    const batch = single(['b', 'a']);
    const { scheduler, results } = run<string, string>([batch], (items) => {
      const values = items.map((item) => `value of ${item}`);
      items.length = 0;
      return values;
    });
    scheduler.flush();
    expect(batch.unique).toEqual(['b', 'a']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
  });
});

describe('unsubscribing while a batch is being answered', () => {
  // batchRun's cancel() `this.finished = true` made false: after the consumer unsubscribed on the first answer,
  // the rest of the batch was still answered (and counted as completed).
  it('stops the answers: only those delivered before it are counted (results that come after the subscription is made)', () => {
    const stats = createBatchStats();
    const scheduler = new VirtualTimeScheduler();
    const received: BatchResult<string, string>[] = [];
    from([single(['a', 'b', 'c'])])
      .pipe(
        fanOut<string, string>({
          execute: (items) => timer(5, scheduler).pipe(map(() => items.map((item) => `value of ${item}`))),
          scheduler,
          stats,
        }),
        take(1),
      )
      .subscribe((r) => received.push(r));
    scheduler.flush();
    expect(received).toHaveLength(1);
    expect(stats.snapshot().completed).toBe(1);
  });
});

describe('the report of a batch where every request is its own leader', () => {
  // batchRun's answerAll (the one-loop path for such a batch) with `if (reportLatencies)` made false: the
  // report a feedback channel hears listed no latency at all.
  it('lists one latency per request too', () => {
    const feedback = createBatchFeedback(1);
    const reports: BatchReport[] = [];
    feedback.onRelease((report) => reports.push(report));
    feedback.reserve();
    const scheduler = new VirtualTimeScheduler();
    run<string, string>([single(['a', 'b'])], (items) => timer(20, scheduler).pipe(map(() => items.map((item) => `value of ${item}`))), {
      feedback,
      scheduler,
      enqueuedAt: (request) => (request === 'a' ? 0 : 4),
    });
    scheduler.flush();
    expect(reports.map((r) => [...r.latenciesMs])).toEqual([[20, 16]]);
  });
});

describe('unsubscribing while timed-out items are being retried alone', () => {
  // batchRun's timeout: `if (!this.finished)` before each retry made true: after the consumer unsubscribed on
  // the first retry's answer, the other items were still sent to the backend.
  it('sends no further retry', () => {
    const scheduler = new VirtualTimeScheduler();
    const calls: string[][] = [];
    const received: BatchResult<string, string>[] = [];
    from([single(['a', 'b', 'c'])])
      .pipe(
        fanOut<string, string>({
          execute: (items) => {
            calls.push([...items]);
            return calls.length === 1 ? NEVER : items.map((item) => `retried ${item}`);
          },
          processingTimeoutMs: 10,
          onTimeout: 'individual',
          scheduler,
        }),
        take(1),
      )
      .subscribe((r) => received.push(r));
    scheduler.flush();
    expect(received.map((r) => r.request)).toEqual(['a']);
    expect(calls).toEqual([['a', 'b', 'c'], ['a']]);
  });
});

describe('a thenable that is a function', () => {
  // batchRun's `typeof output !== 'function'` made true: a function with a `then` (a thenable is any object or
  // function with one) was refused as not being output.
  it('is awaited like a promise', () => {
    const { scheduler, results } = run<string, string>([single(['a'])], (items) =>
      Object.assign(() => undefined, { then: (onFulfilled: (value: string[]) => void) => onFulfilled(items.map((item) => `value of ${item}`)) }) as never,
    );
    scheduler.flush();
    expect(results).toEqual([expect.objectContaining({ request: 'a', status: 'fulfilled', value: 'value of a' })]);
  });
});

describe('a stream that sends the same index twice', () => {
  // batchRun's receive: `if (settled && --execution.outstanding === 0)` with `settled` made true: the repeated
  // index counted as another item's result, the call was ended early, and the item still owed was never answered.
  it('answers the first of the two, and still waits for the other items', () => {
    const { scheduler, results } = run<string, string>([single(['a', 'b'])], () =>
      from([
        { index: 0, value: 'first a' },
        { index: 0, value: 'second a' },
        { index: 1, value: 'b' },
      ]),
    );
    scheduler.flush();
    expect(results.map((r) => [r.request, r.status === 'fulfilled' ? r.value : r.error])).toEqual([
      ['a', 'first a'],
      ['b', 'b'],
    ]);
  });
});

describe('the retries of a timed-out batch, answered one by one with arrays', () => {
  // batchRun's deliverArray fast path (answer every request in one loop) with `expected === unique.length` made
  // true: the second retry's one-item array was taken for the whole batch's results and answered the first
  // request again.
  it('answer each request once, with its own retry\'s value', () => {
    const scheduler = new VirtualTimeScheduler();
    let call = 0;
    const { results } = run<string, string>(
      [single(['a', 'b'])],
      (items) => {
        call++;
        if (call === 1) return NEVER;
        return timer(call, scheduler).pipe(map(() => items.map((item) => `retried ${item}`)));
      },
      { scheduler, processingTimeoutMs: 10, onTimeout: 'individual' },
    );
    scheduler.flush();
    expect(results.map((r) => [r.request, r.status === 'fulfilled' ? r.value : r.error])).toEqual([
      ['a', 'retried a'],
      ['b', 'retried b'],
    ]);
  });
});

describe('a call that answered in time', () => {
  // batchRun's endExecution without `execution.timer?.unsubscribe()`: the processing timer of a call that had
  // answered still fired, and aborted the signal of a call the library had not stopped.
  it('keeps its signal unaborted after processingTimeoutMs has passed', () => {
    const scheduler = new VirtualTimeScheduler();
    let signal: AbortSignal | undefined;
    const { results } = run<string, string>(
      [single(['a'])],
      (items, context) => {
        signal = context.signal;
        return timer(5, scheduler).pipe(map(() => items.map((item) => `value of ${item}`)));
      },
      { scheduler, processingTimeoutMs: 10 },
    );
    scheduler.flush();
    expect(scheduler.now()).toBeGreaterThanOrEqual(5);
    expect(results.map((r) => r.status)).toEqual(['fulfilled']);
    expect(signal!.aborted).toBe(false);
  });
});

describe('what a refused or timed-out call is rejected with', () => {
  // batchRun's completeExecution: the message's plural, its list of positions and the counts it carries.
  it('a stream that completes owing two items names both, with the counts', () => {
    const { scheduler, results } = run<string, string>([single(['a', 'b', 'c'])], () => from([{ index: 1, value: 'b' }]));
    scheduler.flush();
    const failed = results.filter((r) => r.status === 'rejected').map((r) => [r.request, (r as { error: unknown }).error]);
    expect(failed.map(([request]) => request)).toEqual(['a', 'c']);
    const error = failed[0]![1] as { message: string; expected: number; received: number };
    expect(error.message).toBe('execute completed without a result for items 0, 2');
    expect([error.expected, error.received]).toEqual([3, 1]);
  });

  it('a stream that completes owing one item names it in the singular', () => {
    const { scheduler, results } = run<string, string>([single(['a', 'b'])], () => from([{ index: 0, value: 'a' }]));
    scheduler.flush();
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((results[1] as { error: Error }).error.message).toBe('execute completed without a result for item 1');
  });

  // batchRun's timeout: which message goes with the whole batch and which with a retry.
  it('a batch past processingTimeoutMs, then its retry past it too: each error says which it was', () => {
    const scheduler = new VirtualTimeScheduler();
    const { results } = run<string, string>([single(['a'])], () => NEVER, { scheduler, processingTimeoutMs: 10, onTimeout: 'individual' });
    scheduler.flush();
    expect(results).toHaveLength(1);
    const error = (results[0] as { error: { name: string; message: string; timeoutMs: number } }).error;
    expect(error).toMatchObject({ name: 'BatchTimeoutError', timeoutMs: 10 });
    expect(error.message).toBe('the individual retry of a timed-out item took longer than 10 ms (processingTimeoutMs)');
    expect(scheduler.now()).toBe(20);
  });

  it('a batch past processingTimeoutMs without retries: the error names the batch', () => {
    const scheduler = new VirtualTimeScheduler();
    const { results } = run<string, string>([single(['a'])], () => NEVER, { scheduler, processingTimeoutMs: 10 });
    scheduler.flush();
    const error = (results[0] as { error: { message: string; timeoutMs: number } }).error;
    expect(error.message).toMatch(/^batch \d+ took longer than 10 ms \(processingTimeoutMs\)$/);
    expect(error.timeoutMs).toBe(10);
  });
});

describe('execute returning an object that is neither a promise nor a stream', () => {
  // batchRun's catch around `from(output).subscribe` emptied: the requests waited for processingTimeoutMs and
  // were rejected as timed out, instead of at once with what execute produced.
  it('is refused at once with a mismatch that names it', () => {
    const scheduler = new VirtualTimeScheduler();
    const { results } = run<string, string>([single(['a'])], () => ({ rows: ['value of a'] }) as never, { scheduler, processingTimeoutMs: 10 });
    expect(results).toHaveLength(1);
    const error = (results[0] as { error: { name: string; message: string } }).error;
    expect(error.name).toBe('BatchResultMismatchError');
    expect(error.message).toMatch(/^execute produced object; expected an array of 1 results, a promise or observable of one, or a stream of \{ index, value \} \(.+\)$/);
    scheduler.flush();
    expect(results).toHaveLength(1);
  });
});

describe('results that throw while they are read', () => {
  // A bug found from batchRun's surviving mutants of receiveSafely's catch (emptied, or its `!execution.done`
  // inverted): an array of results whose element throws when read was read after the call had been marked done,
  // so the error was dropped, and no request of the batch was ever answered (no timer left either: lost).
  it.each([
    ['returned as it is', (results: string[]) => results],
    ['through a thenable', (results: string[]) => ({ then: (onFulfilled: (value: string[]) => void) => onFulfilled(results) })],
  ])('an array %s: every request of the batch is rejected with what the read threw', (_, wrap) => {
    const hostile = new Error('element 0 cannot be read');
    const results = ['value of a', 'value of b'];
    Object.defineProperty(results, 0, {
      get() {
        throw hostile;
      },
    });
    const scheduler = new VirtualTimeScheduler();
    const { results: answers, isCompleted } = run<string, string>([single(['a', 'b'])], () => wrap(results) as never, { scheduler, processingTimeoutMs: 10 });
    scheduler.flush();
    expect(answers.map((r) => [r.request, r.status, (r as { error?: unknown }).error])).toEqual([
      ['a', 'rejected', hostile],
      ['b', 'rejected', hostile],
    ]);
    expect(isCompleted()).toBe(true);
  });
});

describe('a streamed result for an index the call does not have', () => {
  // batchRun's receive: the index check made false: a result for index 5 of a one-item call was accepted and
  // answered a request that does not exist (request undefined), beside the refusal of the real one.
  it('is refused: the one request gets the mismatch, and no other result comes out', () => {
    const { scheduler, results } = run<string, string>([single(['a'])], () => from([{ index: 5, value: 'x' }]));
    scheduler.flush();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ request: 'a', status: 'rejected' });
    expect((results[0] as { error: Error }).error.message).toBe(
      'execute streamed a result for index 5, but the batch has 1 items; an index is the item\'s position, an integer from 0 to 0',
    );
  });
});

describe('a retry that streamed its one result and stays open', () => {
  // batchRun's receive: `--execution.outstanding === 0` never reached (the check made false, or `--` made `++`):
  // a retry that had given its item's result was not ended, so its processing timer still fired and aborted the
  // signal of a call the library no longer waited for.
  it('is ended by its result: its signal is not aborted when its time limit passes', () => {
    const scheduler = new VirtualTimeScheduler();
    const signals = new Map<string, AbortSignal>();
    let call = 0;
    const { results } = run<string, string>(
      [single(['a', 'b'])],
      (items, context) => {
        call++;
        if (call === 1) return NEVER;
        signals.set(items[0]!, context.signal);
        return items[0] === 'a' ? concat(of({ index: 0, value: 'retried a' }), NEVER) : NEVER;
      },
      { scheduler, processingTimeoutMs: 10, onTimeout: 'individual' },
    );
    scheduler.flush();
    expect(results.map((r) => [r.request, r.status])).toEqual([
      ['a', 'fulfilled'],
      ['b', 'rejected'],
    ]);
    expect(signals.get('a')!.aborted).toBe(false);
    expect(signals.get('b')!.aborted).toBe(true);
  });
});

describe('a stream that answers one item, then sends the whole array', () => {
  // batchRun's deliverArray fast path with `this.open === expected` made true or `!==`: the array was taken for
  // the answers of a batch none of whose requests had been answered, and the request answered by the stream was
  // answered a second time.
  it('answers each request once: the streamed one keeps its result, the others take the array\'s', () => {
    const { scheduler, results } = run<string, string>([single(['a', 'b'])], () => from([{ index: 0, value: 'streamed a' }, ['array a', 'array b']]) as never);
    scheduler.flush();
    expect(results.map((r) => [r.request, r.status === 'fulfilled' ? r.value : r.error])).toEqual([
      ['a', 'streamed a'],
      ['b', 'array b'],
    ]);
  });
});

describe('a batch that times out after streaming some of its results', () => {
  // batchRun's timeout: `unsettled` made every index of the call: items already answered were sent again.
  it('retries only the items still unanswered', () => {
    const scheduler = new VirtualTimeScheduler();
    const calls: string[][] = [];
    const { results } = run<string, string>(
      [single(['a', 'b'])],
      (items) => {
        calls.push([...items]);
        return calls.length === 1 ? concat(of({ index: 0, value: 'streamed a' }), NEVER) : items.map((item) => `retried ${item}`);
      },
      { scheduler, processingTimeoutMs: 10, onTimeout: 'individual' },
    );
    scheduler.flush();
    expect(calls).toEqual([['a', 'b'], ['b']]);
    expect(results.map((r) => [r.request, r.status === 'fulfilled' ? r.value : r.error])).toEqual([
      ['a', 'streamed a'],
      ['b', 'retried b'],
    ]);
  });
});

describe('unsubscribing while some retries have answered and others run', () => {
  // batchRun's forget() emptied: a call that had answered stayed listed, and unsubscription aborted its signal
  // as if it were still running.
  it('aborts the signal of the retries still running only', () => {
    const scheduler = new VirtualTimeScheduler();
    const signals = new Map<string, AbortSignal>();
    let call = 0;
    const { subscription } = run<string, string>(
      [single(['a', 'b'])],
      (items, context) => {
        call++;
        if (call === 1) return NEVER;
        signals.set(items[0]!, context.signal);
        return items[0] === 'a' ? items.map((item) => `retried ${item}`) : NEVER;
      },
      { scheduler, processingTimeoutMs: 10, onTimeout: 'individual' },
    );
    scheduler.schedule(() => subscription.unsubscribe(), 15);
    scheduler.flush();
    expect(signals.get('a')!.aborted).toBe(false);
    expect(signals.get('b')!.aborted).toBe(true);
  });
});

describe('a stream that gives every result before execute\'s subscription is made, and stays open', () => {
  // batchRun's endExecution with `execution.done = true` made false: the call ended while its subscription was
  // being made was not unsubscribed once it was, and the backend's stream stayed open.
  it('is unsubscribed once it has given them', () => {
    let unsubscribed = false;
    const { scheduler, results } = run<string, string>([single(['a'])], () =>
      new Observable<{ index: number; value: string }>((subscriber) => {
        subscriber.next({ index: 0, value: 'value of a' });
        return () => (unsubscribed = true);
      }),
    );
    scheduler.flush();
    expect(results).toEqual([expect.objectContaining({ request: 'a', status: 'fulfilled', value: 'value of a' })]);
    expect(unsubscribed).toBe(true);
  });
});
