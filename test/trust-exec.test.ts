/**
 * Issue 11, the execute-and-answer stage: what `execute` may stream (item 4), executors whose thenables misbehave
 * (item 7), malformed `DedupedBatch`es given to `fanOut` (item 8), and the feedback channel of a pipeline composed
 * by hand (item 11). The properties over these classes are in trust-exec.properties.test.ts; the timing of the
 * feedback channel is in marbles/feedback.marble.test.ts.
 */
import { from, map, Observable, timer, VirtualTimeScheduler, type ObservableInput } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchResultMismatchError, createBatcher, type BatchResult, type DedupedBatch, type ExecuteFn, type StreamedResult } from '../src/index.js';
import { adaptiveBuffer, bufferWindow, createBatchFeedback, fanOut } from '../src/operators/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

/** Runs `fanOut` over `batches` on virtual time until every timer has run; returns every result it emitted. */
function runFanOut<R>(
  batches: readonly unknown[],
  execute: ExecuteFn<string, R>,
  options: { processingTimeoutMs?: number } = {},
): { results: BatchResult<string, R>[]; error: unknown; completed: boolean } {
  const scheduler = new VirtualTimeScheduler();
  const results: BatchResult<string, R>[] = [];
  let error: unknown;
  let completed = false;
  from(batches as DedupedBatch<string>[])
    .pipe(fanOut({ execute, scheduler, ...options }))
    .subscribe({ next: (r) => results.push(r), error: (e: unknown) => (error = e), complete: () => (completed = true) });
  scheduler.flush();
  return { results, error, completed };
}

const identity = (items: string[]): DedupedBatch<string> => ({ items, unique: items, leaderOf: items.map((_, i) => i) });
const outcomes = (results: BatchResult<string, unknown>[]) =>
  Object.fromEntries(results.map((r) => [r.request, r.status === 'fulfilled' ? { value: r.value } : { error: r.error }]));

// ---------------------------------------------------------------------------------------------------------------
// Item 4: the shape of a streamed item.

describe('a streamed item', () => {
  const stream = (...emitted: unknown[]) => () => from(emitted) as ObservableInput<never>;

  it.each([
    ['error: null', { index: 0, value: 'A', error: null }],
    ['error: undefined', { index: 0, value: 'A', error: undefined }],
    ['no error property', { index: 0, value: 'A' }],
  ])('with %s is a success carrying its value', (_, item) => {
    const { results } = runFanOut([identity(['a'])], stream(item));
    expect(outcomes(results)).toEqual({ a: { value: 'A' } });
  });

  it('with an error that is not null or undefined fails with that error, even beside a value', () => {
    const boom = new Error('item failed');
    const { results } = runFanOut([identity(['a', 'b', 'c'])], stream({ index: 0, error: boom }, { index: 1, value: 'B', error: 0 }, { index: 2, value: 'C', error: false }));
    expect(outcomes(results)).toEqual({ a: { error: boom }, b: { error: 0 }, c: { error: false } });
  });

  it('with error: null and no value is a success whose value is undefined', () => {
    const { results } = runFanOut([identity(['a'])], stream({ index: 0, error: null }));
    expect(outcomes(results)).toEqual({ a: { value: undefined } });
  });

  it('is a success with error: null through createBatcher too', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      windowMs: 1,
      scheduler: clock.scheduler,
      execute: (items) => from(items.map((item, index) => ({ index, value: item.toUpperCase(), error: null }))),
    });
    expect(await settleAll(clock, batcher.processAll(['a', 'b']))).toEqual({ status: 'fulfilled', value: ['A', 'B'] });
  });

  it('with neither value nor error rejects the rest of the call, naming the index', () => {
    const { results } = runFanOut([identity(['a', 'b'])], stream({ index: 0, value: 'A' }, { index: 1 }));
    expect(results.find((r) => r.request === 'a')).toMatchObject({ status: 'fulfilled', value: 'A' });
    const b = results.find((r) => r.request === 'b')!;
    expect(b.error).toBeInstanceOf(BatchResultMismatchError);
    expect((b.error as Error).message).toMatch(/execute streamed an item for index 1 with neither value nor error; stream \{ index, value \} or \{ index, error \}/);
  });

  it.each([
    ['"0"', '0', /index "0" \(a string\)/],
    ['1.5', 1.5, /index 1\.5,/],
    ['NaN', Number.NaN, /index NaN,/],
    ['-1', -1, /index -1,/],
    ['2 (out of range)', 2, /index 2, but the batch has 2 items; an index is the item's position, an integer from 0 to 1/],
    ['0n (a bigint)', 0n, /index 0n \(a bigint\)/],
    ['null', null, /index null,/],
    ['an object', { valueOf: (): number => 0 }, /index \(an object\),/],
    ['a symbol', Symbol('i'), /index Symbol\(i\) \(a symbol\),/],
  ])('with index %s rejects the items not yet answered, naming the index as given', (_, index, message) => {
    const { results } = runFanOut([identity(['a', 'b'])], stream({ index: 1, value: 'B' }, { index, value: 'stray' }));
    expect(results).toHaveLength(2);
    expect(results.find((r) => r.request === 'b')).toMatchObject({ status: 'fulfilled', value: 'B' });
    const a = results.find((r) => r.request === 'a')!;
    expect(a.error).toBeInstanceOf(BatchResultMismatchError);
    expect((a.error as Error).message).toMatch(message);
  });

  it('reported twice keeps its first result; the second is ignored', () => {
    const { results } = runFanOut([identity(['a', 'b'])], stream({ index: 0, value: 'first' }, { index: 0, value: 'second' }, { index: 1, value: 'B' }));
    expect(outcomes(results)).toEqual({ a: { value: 'first' }, b: { value: 'B' } });
  });

  it('whose properties throw when read rejects the rest of the call with the error named', () => {
    const hostile = {
      get index(): number {
        throw new Error('getter exploded');
      },
      value: 'x',
    };
    const { results } = runFanOut([identity(['a'])], stream(hostile));
    expect(results).toHaveLength(1);
    expect(results[0]!.error).toBeInstanceOf(BatchResultMismatchError);
    expect((results[0]!.error as Error).message).toMatch(/getter exploded/);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Item 7: thenables that misbehave, whether the batch is formed by the window timer or inside process().

describe('execute returning a thenable that misbehaves', () => {
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  beforeEach(() => {
    uncaught.length = 0;
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUncaught);
  });
  afterEach(() => {
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  });

  const thrown = new Error('then exploded');
  const hostile: Record<string, (items: string[]) => PromiseLike<string[]>> = {
    'then throws': () => ({
      then() {
        throw thrown;
      },
    }),
    'then is a getter that throws': () =>
      ({
        get then() {
          throw thrown;
        },
      }) as never,
    'then rejects, then resolves, then throws': (items) => ({
      then(resolve, reject) {
        reject!(thrown);
        resolve!(items.map((s) => s.toUpperCase()));
        throw new Error('and then it threw');
      },
    }),
  };

  for (const [name, misbehave] of Object.entries(hostile)) {
    for (const formed of ['by the window timer', 'inside process() (a full batch)'] as const) {
      it(`${name}, batch formed ${formed}: that batch is rejected with the error; later requests are served`, async () => {
        const clock = virtualClock();
        const batcher = createBatcher<string, string>({
          windowMs: 5,
          maxSize: formed === 'by the window timer' ? 32 : 1,
          scheduler: clock.scheduler,
          execute: (items) => (items.includes('poison') ? misbehave(items) : timer(2, clock.scheduler).pipe(map(() => items.map((s) => s.toUpperCase())))),
        });
        const bad = batcher.process('poison');
        expect(await settleAll(clock, bad)).toEqual({ status: 'rejected', reason: thrown });
        expect(batcher.closed).toBe(false);
        expect(await settleAll(clock, batcher.processAll(['after 1', 'after 2']))).toEqual({ status: 'fulfilled', value: ['AFTER 1', 'AFTER 2'] });
        expect(uncaught).toEqual([]);
      });
    }
  }

  it('a then that calls both callbacks and each twice: the first call decides, once', () => {
    const { results } = runFanOut([identity(['a', 'b'])], (items): PromiseLike<string[]> => ({
      then(resolve, reject) {
        resolve!(items.map((s) => s.toUpperCase()));
        resolve!(['x', 'y']);
        reject!(new Error('late'));
        reject!(new Error('later'));
        return undefined as never;
      },
    }));
    expect(outcomes(results)).toEqual({ a: { value: 'A' }, b: { value: 'B' } });
  });

  it('a then that never calls back is ended by processingTimeoutMs', () => {
    const { results } = runFanOut([identity(['a'])], () => ({ then: () => undefined as never }), { processingTimeoutMs: 10 });
    expect(results).toHaveLength(1);
    expect((results[0]!.error as Error).name).toBe('BatchTimeoutError');
  });

  it('an observable that errors after partial results rejects only what it had not answered', () => {
    const boom = new Error('stream broke');
    const partial = new Observable<StreamedResult<string>>((subscriber) => {
      subscriber.next({ index: 0, value: 'A' });
      subscriber.error(boom);
    });
    const { results } = runFanOut([identity(['a', 'b'])], () => partial);
    expect(outcomes(results)).toEqual({ a: { value: 'A' }, b: { error: boom } });
  });
});
// ---------------------------------------------------------------------------------------------------------------
// Item 8: malformed DedupedBatches given to fanOut.

describe('fanOut given a malformed DedupedBatch', () => {
  const upper: ExecuteFn<string, string> = (items) => items.map((s) => s.toUpperCase());
  const batchOf = (leaderOf: unknown[], unique: unknown = ['a', 'b'], extra: object = {}) =>
    ({ items: Array.from(leaderOf, (_, i) => `r${i}`), unique, leaderOf, ...extra }) as unknown as DedupedBatch<string>;

  it.each([
    ['out of range', [0, 2], 'batch.leaderOf[1] is 2'],
    ['fractional', [0.5, 1], 'batch.leaderOf[0] is 0.5'],
    ['NaN', [0, Number.NaN], 'batch.leaderOf[1] is NaN'],
    ['-1 without a failure', [-1, 1], 'batch.leaderOf[0] is -1 but batch.failures has no error for item 0'],
    ['a string', ['0', 1], 'batch.leaderOf[0] is "0" (a string)'],
    ['a hole', [0, , 1], 'batch.leaderOf[1] is undefined'],
  ])('an entry %s: that request is rejected with a TypeError naming the field and index; the others are served', (_, leaderOf, message) => {
    const { results, completed } = runFanOut([batchOf(leaderOf as unknown[])], upper);
    expect(completed).toBe(true);
    expect(results).toHaveLength(leaderOf.length);
    for (const [i, leader] of Array.from(leaderOf as unknown[]).entries()) {
      const result = results.find((r) => r.request === `r${i}`)!;
      if (leader === 0 || leader === 1) expect(result).toMatchObject({ status: 'fulfilled', value: leader === 0 ? 'A' : 'B' });
      else {
        expect(result.error).toBeInstanceOf(TypeError);
        expect((result.error as Error).message).toContain(`fanOut: ${message}`);
      }
    }
  });

  it.each([
    ['leaderOf shorter than items', { items: ['r0', 'r1', 'r2'], unique: ['a'], leaderOf: [0, 0] }, 'batch.leaderOf has 2 entries for 3 items'],
    ['leaderOf longer than items', { items: ['r0'], unique: ['a'], leaderOf: [0, 0] }, 'batch.leaderOf has 2 entries for 1 items'],
    ['unique not an array', { items: ['r0'], unique: 'a', leaderOf: [0] }, 'batch.unique must be an array, got "a"'],
    ['leaderOf not an array', { items: ['r0'], unique: ['a'], leaderOf: { 0: 0 } }, 'batch.leaderOf must be an array'],
    ['failures not a Map', { items: ['r0'], unique: [], leaderOf: [-1], failures: { 0: new Error('x') } }, 'batch.failures must be a Map'],
    ['a failure for no item', { items: ['r0'], unique: ['a'], leaderOf: [0], failures: new Map([[3, new Error('x')]]) }, 'batch.failures has an error for item 3'],
  ])('%s: every request of the batch is rejected with a TypeError naming the field', (_, batch, message) => {
    const { results, completed } = runFanOut([batch, identity(['next'])], upper);
    expect(completed).toBe(true);
    const ofBatch = results.filter((r) => r.request !== 'next');
    expect(ofBatch).toHaveLength((batch.items as unknown[]).length);
    for (const result of ofBatch) {
      expect(result.error).toBeInstanceOf(TypeError);
      expect((result.error as Error).message).toContain(`fanOut: ${message}`);
    }
    expect(results.find((r) => r.request === 'next')).toMatchObject({ status: 'fulfilled', value: 'NEXT' });
  });

  it('a failure for an item that also has a leader: the failure answers it, once', () => {
    const failure = new Error('key threw');
    const batch = { items: ['r0', 'r1'], unique: ['a'], leaderOf: [0, 0], failures: new Map([[1, failure]]) };
    const { results } = runFanOut([batch], upper);
    expect(outcomes(results)).toEqual({ r0: { value: 'A' }, r1: { error: failure } });
  });

  it('a unique item no request points to is executed with the batch, its result unused', () => {
    const { results } = runFanOut([{ items: ['r0'], unique: ['a', 'orphan'], leaderOf: [0] }], upper);
    expect(outcomes(results)).toEqual({ r0: { value: 'A' } });
  });

  it.each([
    ['a number', 42, 'got 42'],
    ['null', null, 'got null'],
    ['an object without items', { unique: [], leaderOf: [] }, 'batch.items must be an array, got undefined'],
  ])('%s instead of a batch: the stream errors with a TypeError once the batches before it are answered', (_, batch, message) => {
    const { results, error } = runFanOut([identity(['before']), batch, identity(['after'])], upper);
    expect(outcomes(results)).toEqual({ before: { value: 'BEFORE' } });
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^fanOut: /);
    expect((error as Error).message).toContain(message);
  });
});
// ---------------------------------------------------------------------------------------------------------------
// Item 11: the feedback channel's concurrency.

describe('a feedback channel composed by hand', () => {
  const execute: ExecuteFn<string, string> = (items) => items;

  it('fanOut refuses a concurrency that conflicts with the channel, naming both values', () => {
    expect(() => fanOut({ execute, concurrency: 1, feedback: createBatchFeedback(4) })).toThrow(
      new RangeError('fanOut: concurrency 1 conflicts with the feedback channel\'s concurrency 4; give one value: createBatchFeedback(1), or leave out concurrency'),
    );
  });

  it('fanOut accepts the channel\'s own concurrency, or none', () => {
    expect(() => fanOut({ execute, concurrency: 2, feedback: createBatchFeedback(2) })).not.toThrow();
    expect(() => fanOut({ execute, feedback: createBatchFeedback(2) })).not.toThrow();
  });

  it.each([0, -1, 1.5, Number.NaN, '4', undefined])('createBatchFeedback(%s) is refused', (concurrency) => {
    expect(() => createBatchFeedback(concurrency as number)).toThrow(/createBatchFeedback: concurrency must be/);
  });

  it('createBatchFeedback(Infinity) is accepted', () => {
    expect(createBatchFeedback(Infinity).concurrency).toBe(Infinity);
  });

  it.each([
    ['fanOut', (feedback: unknown) => fanOut({ execute, feedback: feedback as never })],
    ['bufferWindow', (feedback: unknown) => bufferWindow({ feedback: feedback as never })],
    ['adaptiveBuffer', (feedback: unknown) => adaptiveBuffer({ feedback: feedback as never })],
  ])('%s refuses a feedback that is not a channel', (where, make) => {
    expect(() => make({ concurrency: 4 })).toThrow(new TypeError(`${where}: feedback must be a channel made by createBatchFeedback()`));
  });
});
