/**
 * Issue 11, items 6, 12 and 14 (configure): a broken `signal(request)` rejects its own request only; the waiting
 * queue's memory is bounded by what it holds; options are refused by name where the mistake was made.
 */
import { from, map, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, createBatchStats, type BatchDedupOptions, type BatchResult } from '../src/index.js';
import { PriorityHeap, WaitingQueue, priorities } from '../src/internal/waitingQueue.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

// ---------------------------------------------------------------------------------------------------------------
// Item 6: the operator's signal(request)

interface Req {
  readonly id: string;
  readonly signal?: () => unknown;
}

/** Runs requests through batchDedup on virtual time; returns every result and how the stream ended. */
function runOperator(requests: Req[], options: Partial<BatchDedupOptions<Req, string>> = {}) {
  const scheduler = createTestScheduler();
  const results: BatchResult<Req, string>[] = [];
  let ended: 'complete' | { error: unknown } | undefined;
  scheduler.run(() => {
    from(requests)
      .pipe(
        batchDedup<Req, string>({
          execute: (items) => items.map((r) => `answer ${r.id}`),
          key: (r) => r.id,
          signal: (r) => r.signal?.() as AbortSignal | undefined,
          windowMs: 5,
          ...options,
        }),
      )
      .subscribe({ next: (r) => results.push(r), complete: () => (ended = 'complete'), error: (error: unknown) => (ended = { error }) });
  });
  return { results, ended };
}

const notSignals: [what: string, returned: () => unknown, shown: RegExp][] = [
  ['a string', () => 'abort', /returned "abort"/],
  ['a number', () => 42, /returned 42/],
  ['true', () => true, /returned true/],
  ['an object without addEventListener', () => ({ aborted: false }), /returned an object/],
  ['an object whose aborted is not a boolean', () => ({ aborted: 'no', addEventListener() {}, removeEventListener() {} }), /returned an object/],
  ['a function', () => () => undefined, /returned a function/],
  ['a symbol', () => Symbol('s'), /returned a symbol;/],
  ['a bigint', () => 7n, /returned 7n/],
  ['an object with a null prototype', () => Object.create(null) as unknown, /returned an object/],
];

describe('item 6: batchDedup signal(request) that throws or returns something else rejects that request only', () => {
  it.each([
    ['an Error', new Error('no signal for you')],
    ['a string', 'plain string thrown'],
    ['undefined', undefined],
    ['an object with a null prototype', Object.create(null) as unknown],
  ])('signal(request) throws %s: that request is rejected with a TypeError naming signal(request), the stream goes on', (_, thrown) => {
    const { results, ended } = runOperator([
      { id: 'before' },
      {
        id: 'bad',
        signal: () => {
          throw thrown;
        },
      },
      { id: 'after' },
    ]);
    expect(ended).toBe('complete');
    expect(results).toHaveLength(3);
    const bad = results.find((r) => r.request.id === 'bad')!;
    expect(bad.status).toBe('rejected');
    expect(bad.error).toBeInstanceOf(TypeError);
    expect((bad.error as Error).message).toMatch(/^batchDedup: signal\(request\) threw/);
    expect((bad.error as Error).cause).toBe(thrown);
    for (const id of ['before', 'after']) {
      expect(results.find((r) => r.request.id === id)).toMatchObject({ status: 'fulfilled', value: `answer ${id}` });
    }
  });

  it.each(notSignals)('signal(request) returns %s: rejected with a TypeError saying what it returned and what is expected', (_, returned, shown) => {
    const { results, ended } = runOperator([{ id: 'before' }, { id: 'bad', signal: returned }, { id: 'after' }]);
    expect(ended).toBe('complete');
    expect(results).toHaveLength(3);
    const bad = results.find((r) => r.request.id === 'bad')!;
    expect(bad.status).toBe('rejected');
    expect(bad.error).toBeInstanceOf(TypeError);
    const message = (bad.error as Error).message;
    expect(message).toMatch(/^batchDedup: signal\(request\) returned /);
    expect(message).toMatch(shown);
    expect(message).toMatch(/must return an AbortSignal or undefined/);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.request.id).sort()).toEqual(['after', 'before']);
  });

  it('a real AbortSignal, undefined and null are accepted; an aborted one rejects with its reason', () => {
    const reason = new Error('caller left');
    const { results, ended } = runOperator([
      { id: 'live', signal: () => new AbortController().signal },
      { id: 'none', signal: () => undefined },
      { id: 'null', signal: () => null },
      { id: 'aborted', signal: () => AbortSignal.abort(reason) },
    ]);
    expect(ended).toBe('complete');
    const byId = new Map(results.map((r) => [r.request.id, r]));
    expect(byId.get('live')).toMatchObject({ status: 'fulfilled', value: 'answer live' });
    expect(byId.get('none')).toMatchObject({ status: 'fulfilled', value: 'answer none' });
    expect(byId.get('null')).toMatchObject({ status: 'fulfilled', value: 'answer null' });
    expect(byId.get('aborted')).toMatchObject({ status: 'rejected', error: reason });
  });

  it('a broken signal(request) is rejected before the result cache or an execution in flight can answer it', () => {
    const { results, ended } = runOperator(
      [
        { id: 'same' },
        { id: 'same', signal: () => 'abort' },
      ],
      { dedupInFlight: true, resultCache: { ttlMs: 1000 } },
    );
    expect(ended).toBe('complete');
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Item 12: the waiting queue's memory is bounded by what it holds

/** Bound asserted on the queue's footprint: two slots per waiting value plus a small constant. */
const bounded = (queue: { readonly size: number }) => 2 * queue.size + 64;

describe('item 12: one request that never leaves does not keep every request served after it', () => {
  it('prioritized (no aging): 100,000 requests pass a low-priority one; the footprint stays O(waiting)', () => {
    const queue = new WaitingQueue<number>(new PriorityHeap(), 0, () => 0);
    queue.push(-1, 0, -100, false); // never the most urgent, never leaves
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      queue.push(i, i, 1, false);
      if (i % 3 === 2 && queue.take(3).join() !== `${i - 2},${i - 1},${i}`) throw new Error(`took the wrong values at ${i}`);
      worst = Math.max(worst, queue.footprint - bounded(queue));
    }
    expect(queue.size).toBe(2); // the low one and request 99,999
    expect(worst).toBeLessThanOrEqual(0);
    expect(queue.oldestArrivedAt()).toBe(0);
    expect(queue.take(5)).toEqual([99_999, -1]);
  });

  it('prioritized with aging, the queue keeping times itself: bounded, and the oldest waiting arrival stays right', () => {
    const queue = new WaitingQueue<number>(new PriorityHeap(), 0.000001);
    queue.push(-1, 0, -1e9, true);
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      queue.push(i, 10 + i, 5, true);
      if (queue.take(1)[0] !== i) throw new Error(`took the wrong value at ${i}`);
      worst = Math.max(worst, queue.footprint - bounded(queue));
    }
    expect(worst).toBeLessThanOrEqual(0);
    expect(queue.oldestArrivedAt()).toBe(0);
    expect(queue.take(1)).toEqual([-1]);
    expect(queue.oldestArrivedAt()).toBeUndefined();
  });

  it('arrival order, withdrawn entries behind a waiting one (deadlines, aborts): bounded', () => {
    const queue = new WaitingQueue<number>(undefined, 0);
    queue.push(-1, 0, 0, false); // waits (every execution slot busy, say)
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      const entry = queue.push(i, i + 1, 0, true)!;
      if (!queue.remove(entry)) throw new Error(`could not withdraw ${i}`); // its deadline passed, or it was aborted
      worst = Math.max(worst, queue.footprint - bounded(queue));
    }
    expect(worst).toBeLessThanOrEqual(0);
    expect(queue.size).toBe(1);
    expect(queue.oldestArrivedAt()).toBe(0);
    expect(queue.take(10)).toEqual([-1]);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Item 14: configure() and unknown options

const execute = (items: string[]) => items.map((s) => s.toUpperCase());

describe('item 14: configure() accepts a change to the same effective value and names itself in every error', () => {
  it.each<[string, Partial<BatchDedupOptions<string, string>>]>([
    ['dedupInFlight: true (the default)', { dedupInFlight: true }],
    ['enablePriorities: false (the default)', { enablePriorities: false }],
    ['adaptive: false (the default)', { adaptive: false }],
    ['priorityAgingPerSecond: 1 (the default)', { priorityAgingPerSecond: 1 }],
    ['resultCache: undefined (the default)', { resultCache: undefined }],
    ['stats: undefined (its own recorder, as before)', { stats: undefined }],
  ])('%s on a batcher created without it is no change: accepted silently', async (_, change) => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ execute, windowMs: 2, scheduler: clock.scheduler });
    expect(() => batcher.configure(change)).not.toThrow();
    expect(await settleAll(clock, batcher.process('a'))).toEqual({ status: 'fulfilled', value: 'A' });
  });

  it('the same values as at creation are no change either', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<string, string>({
      execute,
      scheduler: clock.scheduler,
      stats,
      dedupInFlight: true,
      enablePriorities: true,
      priorityAgingPerSecond: 3,
      resultCache: { ttlMs: 100 },
    });
    expect(() =>
      batcher.configure({
        scheduler: clock.scheduler,
        stats,
        dedupInFlight: true,
        enablePriorities: true,
        priorityAgingPerSecond: 3,
        resultCache: { ttlMs: 100, maxEntries: 1000 },
      }),
    ).not.toThrow();
  });

  it.each<[string, Partial<BatchDedupOptions<string, string>>, RegExp]>([
    ['dedupInFlight', { dedupInFlight: false }, /dedupInFlight: false/],
    ['enablePriorities', { enablePriorities: true }, /enablePriorities: true/],
    ['adaptive', { adaptive: true }, /adaptive: true/],
    ['priorityAgingPerSecond', { priorityAgingPerSecond: 2 }, /priorityAgingPerSecond: 2/],
    ['resultCache', { resultCache: { ttlMs: 10 } }, /resultCache/],
    ['stats', { stats: createBatchStats() }, /stats/],
    ['scheduler', { scheduler: createTestScheduler() }, /scheduler/],
  ])('a real change of %s is refused, saying to create a new batcher with it', (name, change, shown) => {
    const batcher = createBatcher<string, string>({ execute, scheduler: virtualClock().scheduler });
    expect(() => batcher.configure(change)).toThrow(TypeError);
    expect(() => batcher.configure(change)).toThrow(new RegExp(`^createBatcher\\.configure: ${name} cannot be changed on a running batcher`));
    expect(() => batcher.configure(change)).toThrow(/create a new batcher/);
    expect(() => batcher.configure(change)).toThrow(shown);
  });

  it.each<[string, Record<string, unknown>]>([
    ['windowMs', { windowMs: -1 }],
    ['maxSize', { maxSize: 0 }],
    ['dedupThreshold', { dedupThreshold: 2 }],
    ['dedupStrategy', { dedupStrategy: 'fuzzy' }],
    ['key', { key: 'id' }],
    ['execute', { execute: 'llm' }],
    ['concurrency', { concurrency: 0 }],
    ['onTimeout', { onTimeout: 'retry' }],
    ['targetLatencyMs', { targetLatencyMs: 0 }],
    ['maxQueueSize', { maxQueueSize: 0 }],
    ['requestTimeoutMs', { requestTimeoutMs: 0 }],
    ['priority', { priority: 1 }],
    ['costPerRequestUsd', { costPerRequestUsd: -1 }],
    ['options', 'fast' as never],
    ['enablePriorities', { enablePriorities: 'yes' }],
    ['resultCache', { resultCache: 5 }],
  ])('configure() with a bad %s: the error starts with createBatcher.configure:', (name, change) => {
    const batcher = createBatcher<string, string>({ execute, scheduler: virtualClock().scheduler });
    expect(() => batcher.configure(change as never)).toThrow(new RegExp(`^createBatcher\\.configure: ${name}`));
  });

  it('creation errors stay prefixed by where they were made', () => {
    expect(() => createBatcher({ execute, windowMs: -1 })).toThrow(/^createBatcher: windowMs/);
    expect(() => batchDedup({ execute, windowMs: -1 })).toThrow(/^batchDedup: windowMs/);
  });
});

describe('item 14 (issue 12 item 3): unknown option names are refused, naming the nearest known one', () => {
  it.each<[string, string]>([
    ['windowMS', 'windowMs'],
    ['WindowMs', 'windowMs'],
    ['maxsize', 'maxSize'],
    ['maxBatchSize', 'maxSize'],
    ['timeoutMs', 'processingTimeoutMs'],
    ['concurency', 'concurrency'],
    ['dedupeStrategy', 'dedupStrategy'],
    ['enablePriority', 'enablePriorities'],
    ['resultCacheTtlMs', 'resultCache'],
    ['ttlMs', 'resultCache.ttlMs'],
    ['wait', 'maxWaitMs'],
  ])('%s: refused at creation (createBatcher and batchDedup) and in configure()', (unknown, nearest) => {
    const options = { execute, [unknown]: 10 } as BatchDedupOptions<string, string>;
    const said = new RegExp(`unknown option ${unknown}; did you mean .*${nearest.replace('.', '\\.')}`);
    expect(() => createBatcher(options)).toThrow(TypeError);
    expect(() => createBatcher(options)).toThrow(new RegExp(`^createBatcher: unknown option ${unknown}`));
    expect(() => createBatcher(options)).toThrow(said);
    expect(() => batchDedup(options)).toThrow(new RegExp(`^batchDedup: unknown option ${unknown}`));
    const batcher = createBatcher<string, string>({ execute, scheduler: virtualClock().scheduler, windowMs: 7 });
    expect(() => batcher.configure({ [unknown]: 10 } as never)).toThrow(new RegExp(`^createBatcher\\.configure: unknown option ${unknown}`));
    expect(() => batcher.configure({ windowMs: 1, [unknown]: 10 } as never)).toThrow(said);
    expect(batcher.getStats().currentWindowMs).toBe(7); // nothing of a refused change applied
  });

  it.each(['feedback', 'enqueuedAt'])('%s (an option of the standalone fanOut) is refused, saying the pipeline sets it', (name) => {
    expect(() => createBatcher({ execute, [name]: 1 } as never)).toThrow(
      new RegExp(`^createBatcher: unknown option ${name}: it is an option of the standalone fanOut operator`),
    );
  });

  it('a name far from every option is refused without pretending to know what was meant', () => {
    expect(() => createBatcher({ execute, foo: 1 } as never)).toThrow(/^createBatcher: unknown option foo; no option is close \(the nearest is key\)/);
  });

  it('every documented option is known (no false alarm on a full set)', () => {
    const everything: Required<BatchDedupOptions<string, string>> = {
      windowMs: 10,
      maxSize: 4,
      minSize: 1,
      maxWaitMs: 100,
      targetLatencyMs: 100,
      minWindowMs: 0,
      maxWindowMs: 200,
      enableDedup: true,
      dedupStrategy: 'exact',
      dedupThreshold: 0.9,
      dedupFunction: () => 0,
      key: (s) => s,
      scope: () => undefined,
      embed: (texts) => texts.map(() => [1]),
      text: (s) => s,
      metric: 'cosine',
      mergeGuard: true,
      embedCacheSize: 10,
      embedTimeoutMs: 1000,
      execute,
      concurrency: 2,
      processingTimeoutMs: 1000,
      onTimeout: 'reject',
      enablePriorities: true,
      priority: () => 0,
      priorityAgingPerSecond: 1,
      signal: () => undefined,
      dedupInFlight: true,
      resultCache: { ttlMs: 10 },
      maxQueueSize: 10,
      requestTimeoutMs: 100,
      costPerRequestUsd: 0,
      adaptive: false,
      stats: createBatchStats(),
      scheduler: createTestScheduler(),
      embedAhead: true,
      priorities: priorities(),
    };
    // createBatcher takes every option but signal(request), which it refuses by name (a caller passes its own).
    const { signal: _perRequest, ...forBatcher } = everything;
    expect(() => createBatcher(forBatcher)).not.toThrow();
    expect(() => batchDedup(everything)).not.toThrow();
  });
});

describe('a priority function while enablePriorities is off', () => {
  it('is refused where it is written, at creation and in configure(), instead of ordering nothing', () => {
    const execute = (items: string[]) => items;
    const priority = () => 1;
    const refusal = /priority is set but enablePriorities is off, so nothing would order by it; add enablePriorities: true/;
    expect(() => createBatcher<string, string>({ execute, priority })).toThrow(refusal);
    expect(() => batchDedup<string, string>({ execute, priority })).toThrow(new RegExp(`^batchDedup: ${refusal.source}`));
    const batcher = createBatcher<string, string>({ execute });
    expect(() => batcher.configure({ priority })).toThrow(new RegExp(`^createBatcher\\.configure: ${refusal.source}`));
    expect(() => createBatcher<string, string>({ execute, priority, enablePriorities: true })).not.toThrow();
    void batcher.close();
  });
});

describe('item 14: a per-call priority while enablePriorities is off', () => {
  it('rejects that call with a TypeError saying to turn enablePriorities on; the others are served', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ execute, windowMs: 2, scheduler: clock.scheduler });
    const bad = batcher.process('bad', { priority: 5 });
    const good = batcher.process('good');
    const badOutcome = await settleAll(clock, bad);
    expect(badOutcome.status).toBe('rejected');
    const error = (badOutcome as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/^createBatcher\.process: priority 5 was given but enablePriorities is off/);
    expect(error.message).toMatch(/enablePriorities: true/);
    expect(await settleAll(clock, good)).toEqual({ status: 'fulfilled', value: 'GOOD' });
    // With the other per-call options present too (a deadline, a signal), and on every path.
    const withMore = batcher.process('more', { priority: 1, timeoutMs: 100, signal: new AbortController().signal });
    expect((await settleAll(clock, withMore)).status).toBe('rejected');
  });

  it('is refused even when the result cache or an equal execution in flight could answer it', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      execute: (items) => timer(5, clock.scheduler).pipe(map(() => execute(items))),
      windowMs: 1,
      dedupInFlight: true,
      resultCache: { ttlMs: 1000 },
      scheduler: clock.scheduler,
    });
    const first = batcher.process('same');
    clock.advanceBy(2); // executing now
    const joining = batcher.process('same', { priority: 1 });
    expect((await settleAll(clock, joining)).status).toBe('rejected');
    expect(await settleAll(clock, first)).toEqual({ status: 'fulfilled', value: 'SAME' });
    const cached = batcher.process('same', { priority: 1 });
    expect((await settleAll(clock, cached)).status).toBe('rejected');
    expect(await settleAll(clock, batcher.process('same'))).toEqual({ status: 'fulfilled', value: 'SAME' });
  });

  it('a per-call priority is honoured when enablePriorities is on', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ execute, windowMs: 2, enablePriorities: true, scheduler: clock.scheduler });
    expect(await settleAll(clock, batcher.process('ok', { priority: 5 }))).toEqual({ status: 'fulfilled', value: 'OK' });
  });
});
