/**
 * The shared store tier (src/internal/sharedExecute.ts) where the first Stryker run on it (issue 17, stop 19,
 * H-MUT5) found no test: a store call that throws at once falls back at once (not after `storeTimeoutMs`), and
 * `execute`'s output under the tier is taken in every form a batch of its own takes (an array, an observable of
 * one, a stream of `{ index, value }` or `{ index, error }`), output that does not fit failing the items it owed
 * with a `BatchResultMismatchError`.
 *
 * One or two requests at frame 0 through `batchDedup` (the source ends at frame 0, so the batch forms there) with a store
 * that answers every `get` with misses at once, unless told otherwise; answers are `frame: value` or
 * `frame: ErrorName message`.
 */
import { EMPTY, map, NEVER, of, throwError, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatchStats, sharedStore, type ResultStore } from '../src/index.js';
import type { ExecuteFn } from '../src/types.js';
import type { TestScheduler } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

const misses: ResultStore['get'] = (keys) => ({ then: (ok: (v: unknown[]) => void) => ok(keys.map(() => undefined)) }) as PromiseLike<unknown[]>;
const stored: ResultStore['set'] = () => ({ then: (ok: () => void) => ok() }) as PromiseLike<void>;

interface RunOptions {
  requests?: string;
  get?: ResultStore['get'];
  noStore?: boolean;
  key?: (request: string) => string;
  /** With leases: every claim granted at once; `release` logged. */
  leases?: boolean;
  processingTimeoutMs?: number;
}

function run(execute: (items: string[], scheduler: TestScheduler) => unknown, options: RunOptions = {}) {
  const scheduler = testScheduler();
  const answers: string[] = [];
  const errors: unknown[] = [];
  const log: string[] = [];
  const get: ResultStore['get'] = (keys) => (log.push(`get ${keys.join(',')}`), (options.get ?? misses)(keys));
  const set: ResultStore['set'] = (entries, ttlMs) => (log.push(`set ${entries.map(([k, v]) => `${k}=${String(v)}`).join(',')}`), stored(entries, ttlMs));
  const stats = createBatchStats({ scheduler });
  scheduler.run(({ cold }) => {
    cold(`(${options.requests ?? 'a'}|)`)
      .pipe(
        batchDedup<string, string>({
          execute: ((items: string[]) => execute(items, scheduler)) as ExecuteFn<string, string>,
          windowMs: 1,
          stats,
          scheduler,
          resultCache: options.noStore
            ? { ttlMs: 1000 }
            : {
                ttlMs: 1000,
                store: sharedStore({
                  get,
                  set,
                  ...(options.leases && {
                    leases: {
                      leaseMs: 50,
                      claim: (keys: readonly string[]) => (log.push(`${scheduler.now()} claim ${keys.join(',')}`), ({ then: (ok: (v: boolean[]) => void) => ok(keys.map(() => true)) }) as PromiseLike<boolean[]>),
                      release: (keys: readonly string[]) => (log.push(`${scheduler.now()} release ${keys.join(',')}`), stored([], 0)),
                      wait: misses,
                    },
                  }),
                }),
              },
          ...(options.processingTimeoutMs !== undefined && { processingTimeoutMs: options.processingTimeoutMs }),
          ...(options.key && { key: options.key }),
        }),
        map((r) => (r.status === 'rejected' && errors.push(r.error), r)),
        map((r) =>
          r.status === 'fulfilled' ? `${scheduler.now()}: ${r.request}=${r.value}` : `${scheduler.now()}: ${r.request} ${(r.error as Error).name} ${(r.error as Error).message}`,
        ),
      )
      .subscribe((line) => answers.push(line));
  });
  return { answers, errors, log, stats: stats.snapshot() };
}

const MISMATCH = 'expected an array of 1 results, a promise or observable of one, or a stream of { index, value }';

describe('resultCache.store: a store call that throws when called', () => {
  it('falls back at once: the item is executed in the frame the batch formed (0), counted as a fallback', () => {
    const { answers, stats } = run((items) => items.map((x) => `${x}!`), {
      get: () => {
        throw new Error('store down');
      },
    });
    expect(answers).toEqual(['0: a=a!']);
    expect(stats.storeFallbacks).toBe(1);
  });

  it('a store call that returns no promise falls back at once too', () => {
    const { answers, stats } = run((items) => items.map((x) => `${x}!`), { get: (keys) => keys.map(() => 'stored') as never });
    expect(answers).toEqual(['0: a=a!']);
    expect(stats.storeFallbacks).toBe(1);
  });
});

describe("resultCache.store: execute's output for the store's misses", () => {
  it('an observable of the array of results', () => {
    expect(run((items) => of(items.map((x) => `${x}!`))).answers).toEqual(['0: a=a!']);
  });

  it('a stream of { index, value }', () => {
    expect(run(() => of({ index: 0, value: 'v' })).answers).toEqual(['0: a=v']);
  });

  it('a stream of { index, error }: that item fails with the error', () => {
    expect(run(() => of({ index: 0, error: new RangeError('bad') })).answers).toEqual(['0: a RangeError bad']);
  });

  it('a streamed { index, error: null, value }: null is no error, the value answers', () => {
    expect(run(() => of({ index: 0, error: null, value: 'v' })).answers).toEqual(['0: a=v']);
  });

  it('a stream that answers each of two items by index, in any order', () => {
    expect(run(() => of({ index: 1, value: 'second' }, { index: 0, value: 'first' }), { requests: 'ab' }).answers).toEqual([
      '0: b=second',
      '0: a=first',
    ]);
  });

  it.each([
    ['1 for a batch of 1', 1, '1'],
    ['-1', -1, '-1'],
    ['0.5', 0.5, '0.5'],
    ["the string '0'", '0', '"0" (a string)'],
  ])('a streamed index of %s fails the batch with a BatchResultMismatchError', (_, index, described) => {
    expect(run(() => of({ index, value: 'v' })).answers).toEqual([
      `0: a BatchResultMismatchError execute streamed a result for index ${described}, but the batch has 1 items; an index is the item's position, an integer from 0 to 0`,
    ]);
  });

  it('a stream that completes before answering every item fails the rest', () => {
    expect(run(() => EMPTY).answers).toEqual(['0: a BatchResultMismatchError execute completed without a result for every item']);
  });

  it('a stream that errors fails the items it owed with its error', () => {
    expect(run(() => throwError(() => new SyntaxError('stream broke'))).answers).toEqual(['0: a SyntaxError stream broke']);
  });

  it.each([
    ['null', null, 'null'],
    ['a number', 5, 'number'],
    ['undefined', undefined, 'undefined'],
  ])('execute returning %s fails the batch with a BatchResultMismatchError naming it', (_, output, named) => {
    expect(run(() => output).answers).toEqual([`0: a BatchResultMismatchError execute produced ${named}; ${MISMATCH}`]);
  });

  it('an observable of something that is neither an array nor { index } (5) fails the batch', () => {
    expect(run(() => of(5)).answers).toEqual([`0: a BatchResultMismatchError execute produced number; ${MISMATCH}`]);
  });

  it('an observable of an object without index ({ value }) fails the batch, naming what it produced', () => {
    expect(run(() => of({ value: 'v' })).answers).toEqual([`0: a BatchResultMismatchError execute produced object; ${MISMATCH}`]);
  });

  it('an observable of null fails the batch', () => {
    expect(run(() => of(null)).answers).toEqual([`0: a BatchResultMismatchError execute produced object; ${MISMATCH}`]);
  });

  it('an output that is an object but no observable, promise or array (a plain object) fails the batch, with what from() said', () => {
    const { answers } = run(() => ({ not: 'a stream' }) as unknown as Observable<string[]>);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatch(
      /^0: a BatchResultMismatchError execute produced object; expected an array .* \(You provided an invalid object where a stream was expected/,
    );
  });

  it.each([
    ['a function', () => () => 'x'],
    ['a plain object', () => ({ not: 'a stream' })],
    ['a string', () => 'abc'],
    ['an observable of undefined', () => of(undefined)],
    ['a stream with an index out of range', () => of({ index: 3, value: 'v' })],
    ["a stream with the index '0'", () => of({ index: '0', value: 'v' })],
  ])('%s fails the batch under the store exactly as without one', (_, output) => {
    const plain = run(output, { noStore: true }).answers;
    expect(plain).toHaveLength(1);
    expect(run(output).answers).toEqual(plain);
  });

  it.each([
    ['an array of the wrong length', () => []],
    ['a throw', () => {
      throw new EvalError('execute threw');
    }],
  ])('%s fails the batch under the store as without one', (_, output) => {
    const plain = run(output, { noStore: true }).answers;
    expect(plain).toHaveLength(1);
    expect(run(output).answers).toEqual(plain);
  });
});

describe("resultCache.store: execute's outcomes, each once", () => {
  it('an index streamed twice: its first outcome counts, and the other item is still answered', () => {
    const { answers, log } = run(() => of({ index: 0, value: 'x' }, { index: 0, value: 'y' }, { index: 1, value: 'z' }), { requests: 'ab' });
    expect(answers).toEqual(['0: a=x', '0: b=z']);
    expect(log).toEqual(['get -sa,-sb', 'set -sa=x,-sb=z']);
  });

  it('a stream that keeps sending after its first outcome is listened to until the last', () => {
    const { answers } = run((_, scheduler) =>
      scheduler.createColdObservable('-x-z|', { x: { index: 0, value: 'x' }, z: { index: 1, value: 'z' } }),
      { requests: 'ab' },
    );
    expect(answers).toEqual(['1: a=x', '3: b=z']);
  });

  it('the results of a stream are stored once, all of them, after the last', () => {
    const { log } = run(() => of({ index: 1, value: 'second' }, { index: 0, value: 'first' }), { requests: 'ab' });
    expect(log).toEqual(['get -sa,-sb', 'set -sb=second,-sa=first']);
  });

  it('a stream that completes with one of two items answered: the error counts 1 received of 2 expected', () => {
    const { answers, errors } = run(() => of({ index: 0, value: 'x' }), { requests: 'ab' });
    expect(answers).toEqual(['0: a=x', '0: b BatchResultMismatchError execute completed without a result for every item']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ expected: 2, received: 1 });
  });
});

describe('resultCache.store: an item whose key cannot be composed at the store', () => {
  it('a key function that throws when the store tier reads it again: executed here, neither looked up nor stored', () => {
    let reads = 0;
    const key = (request: string) => {
      reads++;
      if (reads > 1) throw new Error('key read twice');
      return request;
    };
    const { answers, log } = run((items) => items.map((x) => `${x}!`), { key });
    expect(answers).toEqual(['0: a=a!']);
    expect(log).toEqual([]);
    expect(reads).toBeGreaterThan(1);
  });
});

describe('resultCache.store: a batch stopped before its items are answered (processingTimeoutMs 10)', () => {
  it('releases the leases it holds at once, so that another process takes over', () => {
    const { answers, log } = run(() => NEVER, { leases: true, processingTimeoutMs: 10 });
    expect(answers).toEqual(['10: a BatchTimeoutError batch 1 took longer than 10 ms (processingTimeoutMs)']);
    expect(log).toEqual(['get -sa', '0 claim -sa', '10 release -sa']);
  });

  it('holding no lease yet (the store not answering its get), releases nothing', () => {
    const silent: ResultStore['get'] = () => ({ then: () => undefined }) as unknown as PromiseLike<unknown[]>;
    const { answers, log } = run(() => NEVER, { leases: true, get: silent, processingTimeoutMs: 10 });
    expect(answers).toEqual(['10: a BatchTimeoutError batch 1 took longer than 10 ms (processingTimeoutMs)']);
    expect(log).toEqual(['get -sa']);
  });

  it('a store answer that comes after the stop is ignored: nothing executed', () => {
    let executed = 0;
    let pending: (() => void) | undefined;
    const late: ResultStore['get'] = (keys) =>
      ({ then: (ok: (v: unknown[]) => void) => void (pending = () => ok(keys.map(() => undefined))) }) as unknown as PromiseLike<unknown[]>;
    const { answers } = run(
      (_, scheduler) => {
        executed++;
        return scheduler.createColdObservable('|');
      },
      {
        get: late,
        processingTimeoutMs: 10,
      },
    );
    expect(answers).toEqual(['10: a BatchTimeoutError batch 1 took longer than 10 ms (processingTimeoutMs)']);
    pending!(); // the store answers now, after the stop
    expect(executed).toBe(0);
  });

  it('a store failure that comes after the stop is ignored: nothing executed', () => {
    let executed = 0;
    let pending: (() => void) | undefined;
    const { answers } = run(
      (_, scheduler) => {
        executed++;
        return scheduler.createColdObservable('|');
      },
      {
        get: () =>
          ({
            then: (_ok: unknown, fail: (e: unknown) => void) => void (pending = () => fail(new Error('store down, late'))),
          }) as unknown as PromiseLike<unknown[]>,
        processingTimeoutMs: 10,
      },
    );
    expect(answers).toEqual(['10: a BatchTimeoutError batch 1 took longer than 10 ms (processingTimeoutMs)']);
    pending!(); // the store fails now, after the stop
    expect(executed).toBe(0);
  });

  it('a store that threw at once, its item executing when the batch stops: the stop answers it with the timeout', () => {
    const { answers } = run(() => NEVER, {
      get: () => {
        throw new Error('store down');
      },
      processingTimeoutMs: 10,
    });
    expect(answers).toEqual(['10: a BatchTimeoutError batch 1 took longer than 10 ms (processingTimeoutMs)']);
  });
});
