/**
 * Bad input, one row each: invalid options, executors that return the wrong shape or throw, requests that cannot
 * be keyed, huge texts, broken similarities, misuse of the batcher. Each gets a clear error (its class and a
 * message naming what was wrong), and the batcher keeps serving every other request.
 */
import { map, of, timer, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  batchDedup,
  BatcherClosedError,
  BatchResultMismatchError,
  createBatcher,
  createBatchStats,
  QueueFullError,
  type Batcher,
  type BatchDedupOptions,
  type ExecuteFn,
} from '../src/index.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

interface Req {
  readonly text: string;
  readonly poison?: boolean;
  loop?: unknown;
}

const answer = (r: Req) => `answer to ${r.text.length > 40 ? `${r.text.length} chars` : r.text}`;
const echo: ExecuteFn<Req, string> = (items) => items.map(answer);

type ErrorClass = abstract new (...args: never[]) => Error;

// ---------------------------------------------------------------------------------------------------------------
// Options: rejected when the operator is created, naming the option; a live batcher refuses them in configure().

const invalidOptions: [option: string, options: Record<string, unknown>, kind: ErrorClass][] = [
  ['windowMs', { windowMs: -1 }, RangeError],
  ['windowMs', { windowMs: Number.NaN }, RangeError],
  // Infinity is accepted for the durations (a window closed by size only; no time limit); -Infinity is not.
  ['windowMs', { windowMs: -Infinity }, RangeError],
  ['windowMs', { windowMs: '10' }, TypeError],
  ['maxSize', { maxSize: 0 }, RangeError],
  ['maxSize', { maxSize: 2.5 }, RangeError],
  ['minSize', { minSize: 0 }, RangeError],
  ['minSize', { minSize: 5, maxSize: 2 }, RangeError],
  ['maxWaitMs', { maxWaitMs: -5 }, RangeError],
  ['maxWaitMs', { maxWaitMs: Number.NaN }, RangeError],
  ['dedupThreshold', { dedupThreshold: 1.5 }, RangeError],
  ['dedupThreshold', { dedupThreshold: -0.1 }, RangeError],
  ['dedupThreshold', { dedupThreshold: Number.NaN }, RangeError],
  ['dedupStrategy', { dedupStrategy: 'fuzzy' }, TypeError],
  ['enableDedup', { enableDedup: 'yes' }, TypeError],
  ['concurrency', { concurrency: 0 }, RangeError],
  ['concurrency', { concurrency: 1.5 }, RangeError],
  ['processingTimeoutMs', { processingTimeoutMs: 0 }, RangeError],
  ['processingTimeoutMs', { processingTimeoutMs: Number.NaN }, RangeError],
  ['processingTimeoutMs', { processingTimeoutMs: -Infinity }, RangeError],
  ['onTimeout', { onTimeout: 'retry' }, TypeError],
  ['execute', { execute: undefined }, TypeError],
  ['execute', { execute: 'llm' }, TypeError],
  ['key', { key: 'id' }, TypeError],
  ['scope', { scope: 42 }, TypeError],
  ['priority', { priority: 1 }, TypeError],
  ['dedupFunction', { dedupFunction: 'cosine' }, TypeError],
  ['embed', { dedupStrategy: 'embedding', embed: 'all-MiniLM-L6-v2' }, TypeError],
  ['text', { dedupStrategy: 'embedding', text: 'body' }, TypeError],
  ['metric', { dedupStrategy: 'embedding', metric: 'no-such-metric' }, TypeError],
  ['mergeGuard', { dedupStrategy: 'embedding', mergeGuard: 'strict' }, TypeError],
  ['embedCacheSize', { dedupStrategy: 'embedding', embedCacheSize: -1 }, RangeError],
  ['embedTimeoutMs', { dedupStrategy: 'embedding', embedTimeoutMs: 0 }, RangeError],
  ['embedTimeoutMs', { dedupStrategy: 'embedding', embedTimeoutMs: -1 }, RangeError],
  ['embedTimeoutMs', { dedupStrategy: 'embedding', embedTimeoutMs: Number.NaN }, RangeError],
  ['embedTimeoutMs', { dedupStrategy: 'embedding', embedTimeoutMs: -Infinity }, RangeError],
  ['embedTimeoutMs', { embedTimeoutMs: '5s' }, TypeError],
  ['signal', { signal: true }, TypeError],
  ['priorityAgingPerSecond', { priorityAgingPerSecond: -1 }, RangeError],
  ['maxQueueSize', { maxQueueSize: 0 }, RangeError],
  ['maxQueueSize', { maxQueueSize: 1.5 }, RangeError],
  ['requestTimeoutMs', { requestTimeoutMs: 0 }, RangeError],
  ['requestTimeoutMs', { requestTimeoutMs: Number.NaN }, RangeError],
  ['costPerRequestUsd', { costPerRequestUsd: -1 }, RangeError],
  ['adaptive', { adaptive: 1 }, TypeError],
  ['enablePriorities', { enablePriorities: 'true' }, TypeError],
  ['dedupInFlight', { dedupInFlight: 'no' }, TypeError],
  ['targetLatencyMs', { targetLatencyMs: 0 }, RangeError],
  ['minWindowMs', { minWindowMs: -1 }, RangeError],
  ['maxWindowMs', { maxWindowMs: Number.NaN }, RangeError],
  ['minWindowMs', { minWindowMs: 50, maxWindowMs: 10 }, RangeError],
  ['resultCache', { resultCache: 5 }, TypeError],
  ['resultCache.ttlMs', { resultCache: { ttlMs: 0 } }, RangeError],
  ['resultCache.maxEntries', { resultCache: { ttlMs: 10, maxEntries: 0 } }, RangeError],
  ['scheduler', { scheduler: {} }, TypeError],
  ['stats', { stats: {} }, TypeError],
];

/** Options that shape the pipeline and so cannot be changed by configure() at all (their own error). */
const FIXED_AT_CREATION = new Set(['scheduler', 'stats', 'adaptive', 'enablePriorities', 'dedupInFlight', 'resultCache', 'priorityAgingPerSecond']);

function messagePattern(option: string): RegExp {
  return new RegExp(option.replace('.', '\\.'));
}

describe('bad input: invalid options', () => {
  it.each(invalidOptions)('%s = %o: batchDedup and createBatcher throw at creation, naming it', (option, bad, kind) => {
    const options = { execute: echo, ...bad } as BatchDedupOptions<Req, string>;
    expect(() => batchDedup(options)).toThrow(kind);
    expect(() => batchDedup(options)).toThrow(messagePattern(option.split('.')[0]!));
    expect(() => createBatcher(options)).toThrow(kind);
    expect(() => createBatcher(options)).toThrow(messagePattern(option));
  });

  it.each(invalidOptions.filter(([option]) => !FIXED_AT_CREATION.has(option.split('.')[0]!)))(
    '%s = %o: configure() refuses it, changes nothing, and the batcher keeps serving',
    async (option, bad, kind) => {
      const clock = virtualClock();
      const batcher = createBatcher<Req, string>({ execute: echo, windowMs: 5, scheduler: clock.scheduler });
      expect(() => batcher.configure(bad as Partial<BatchDedupOptions<Req, string>>)).toThrow(kind);
      expect(() => batcher.configure(bad as Partial<BatchDedupOptions<Req, string>>)).toThrow(messagePattern(option));
      const served = batcher.processAll([{ text: 'a' }, { text: 'b' }]);
      clock.runAll();
      await expect(served).resolves.toEqual(['answer to a', 'answer to b']);
      expect(batcher.getStats().currentWindowMs).toBe(5);
    },
  );

  it.each([null, [], 'fast', 7])('options = %o is refused with a TypeError naming options', (bad) => {
    expect(() => batchDedup(bad as never)).toThrow(/options must be an object/);
    expect(() => createBatcher(bad as never)).toThrow(TypeError);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Runtime: a poisoned request makes the executor (or dedup) misbehave; its neighbours and later requests are served.

interface Row {
  readonly name: string;
  readonly options?: Partial<BatchDedupOptions<Req, string>>;
  /** How the executor misbehaves when a poisoned request is in its batch. */
  readonly misbehave?: (items: Req[]) => ReturnType<ExecuteFn<Req, string>>;
  /** Submits the bad input; defaults to processing one poisoned request. */
  readonly act?: (batcher: Batcher<Req, string>, clock: VirtualClock) => Promise<unknown>;
  /** The failure is per request: a good request in the same batch must still be served. */
  readonly perRequest?: boolean;
  /** What the bad input gets: an error of this class and message, or this value. */
  readonly expected: { error: ErrorClass; message: RegExp } | { value: unknown };
  /** Also check the stats after the row (fallback counters, executed items). */
  readonly stats?: (stats: ReturnType<Batcher<Req, string>['getStats']>) => void;
}

const poison: Req = { text: 'poison', poison: true };

function circular(): Req {
  const request: Req = { text: 'loop' };
  request.loop = request;
  return request;
}

/**
 * Answers normally, but tags each poisoned item with its place in the call: two callers that got the same tag
 * shared one backend item (merged), two tags mean the backend was asked twice.
 */
function tagPoisoned(items: Req[]): string[] {
  return items.map((r, i) => (r.poison ? `${answer(r)} (item ${i} of ${items.length})` : answer(r)));
}

/**
 * Two equal poisoned requests (equal, not the same object) and a different one, in one batch with the row's
 * 'alongside' request. Exact dedup (the fallback) merges the equal pair and nothing else: the backend gets
 * three items, and both poisoned callers get the answer of one item.
 */
async function twoEqualPoisonedAndOther(batcher: Batcher<Req, string>): Promise<string> {
  const [first, copy, other] = await Promise.all([batcher.process(poison), batcher.process({ ...poison }), batcher.process({ text: 'other' })]);
  expect(copy, 'the equal request shares the first one\'s backend item').toBe(first);
  expect(other).toBe('answer to other');
  return first;
}

/** One batch fell back, and merged one request: items 'before' 1 + (poison, other, alongside) 3 + 'after' 2. */
function expectOneExactFallback(stats: ReturnType<Batcher<Req, string>['getStats']>): void {
  expect(stats.embedFallbacks).toBe(1);
  expect(stats.deduplicated).toBe(1);
  expect(stats.executedItems).toBe(6);
}

const hugeText = 'lorem ipsum '.repeat(700_000); // about 8 MB

const rows: Row[] = [
  {
    name: 'execute returns a number instead of an array',
    misbehave: () => 42 as never,
    expected: { error: BatchResultMismatchError, message: /execute produced number; expected an array of 1 results/ },
  },
  {
    name: 'execute returns null',
    misbehave: () => null as never,
    expected: { error: BatchResultMismatchError, message: /execute produced null/ },
  },
  {
    name: 'execute returns undefined',
    misbehave: () => undefined as never,
    expected: { error: BatchResultMismatchError, message: /execute produced undefined/ },
  },
  {
    name: 'execute resolves an object instead of an array',
    misbehave: () => Promise.resolve({ results: [] }) as never,
    expected: { error: BatchResultMismatchError, message: /execute produced object/ },
  },
  {
    name: 'execute resolves too few results',
    misbehave: () => Promise.resolve([]),
    expected: { error: BatchResultMismatchError, message: /returned 0 results for 1 items/ },
  },
  {
    name: 'execute resolves too many results',
    misbehave: (items) => Promise.resolve([...items.map(answer), 'extra']),
    expected: { error: BatchResultMismatchError, message: /returned 2 results for 1 items/ },
  },
  {
    name: 'execute streams an index outside the batch',
    misbehave: () => of({ index: 7, value: 'stray' }),
    expected: { error: BatchResultMismatchError, message: /index 7, but the batch has 1 items/ },
  },
  {
    name: 'execute streams an index given as a string',
    misbehave: () => of({ index: '0', value: 'stray' }) as never,
    expected: { error: BatchResultMismatchError, message: /index "0" \(a string\), but the batch has 1 items/ },
  },
  {
    name: 'execute streams an item with neither value nor error',
    misbehave: () => of({ index: 0 }) as never,
    expected: { error: BatchResultMismatchError, message: /an item for index 0 with neither value nor error/ },
  },
  {
    name: 'execute returns a thenable whose then throws',
    misbehave: () => ({
      then() {
        throw new Error('then exploded');
      },
    }),
    expected: { error: Error, message: /then exploded/ },
  },
  {
    name: 'execute streams and completes before answering every item',
    misbehave: () => of<never>(),
    expected: { error: BatchResultMismatchError, message: /completed without a result for item 0/ },
  },
  {
    name: 'execute throws synchronously',
    misbehave: () => {
      throw new Error('backend exploded before returning');
    },
    expected: { error: Error, message: /backend exploded before returning/ },
  },
  {
    name: 'execute rejects',
    misbehave: () => Promise.reject(new Error('503 from backend')),
    expected: { error: Error, message: /503 from backend/ },
  },
  {
    name: 'circular request with the exact strategy (default key)',
    act: (batcher) => batcher.process(circular()),
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: the default key cannot encode a circular reference at request\.loop; pass a key function$/ },
  },
  {
    name: 'request with a symbol field (default key)',
    act: (batcher) => batcher.process({ text: 'tagged', tag: Symbol('t') } as Req),
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: the default key cannot encode a symbol at request\.tag; pass a key function$/ },
  },
  {
    name: 'key function returns NaN',
    options: { key: (r) => (r.poison ? Number.NaN : r.text) },
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: key\(request\) returned NaN; a key may be a string, a finite number, a bigint, a boolean, null, or an array or plain object of these$/ },
  },
  {
    name: 'key function returns an object holding a Map',
    options: { key: (r) => (r.poison ? ({ q: r.text, opts: new Map() } as never) : r.text) },
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: key\(request\) returned an instance of Map at key\.opts; a key may be/ },
  },
  {
    name: 'scope function returns null',
    options: { scope: (r) => (r.poison ? (null as never) : 'tenant') },
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: scope\(request\) returned null; a scope may be a string, a number \(not NaN\) or a bigint, or undefined for no scope$/ },
  },
  {
    name: 'key function throws',
    options: { key: (r) => (r.poison ? JSON.parse('{') : r.text) as string },
    perRequest: true,
    expected: { error: TypeError, message: /key\(request\) threw/ },
  },
  {
    name: 'scope function throws',
    options: {
      scope: (r) => {
        if (r.poison) throw new Error('no tenant');
        return 'tenant';
      },
    },
    perRequest: true,
    expected: { error: TypeError, message: /scope\(request\) threw: no tenant/ },
  },
  {
    name: 'priority function returns NaN',
    options: { enablePriorities: true, priority: (r) => (r.poison ? Number.NaN : 1) },
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: priority\(request\) returned NaN; it must return a number/ },
  },
  {
    name: 'priority function returns a string',
    options: { enablePriorities: true, priority: (r) => (r.poison ? ('high' as never) : 1) },
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: priority\(request\) returned "high"; it must return a number/ },
  },
  {
    name: 'priority function throws',
    options: {
      enablePriorities: true,
      priority: (r) => {
        if (r.poison) throw new Error('no such customer tier');
        return 1;
      },
    },
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher: priority\(request\) threw: no such customer tier/ },
  },
  {
    name: 'process() with a priority while enablePriorities is off',
    act: (batcher) => batcher.process(poison, { priority: 3 }),
    perRequest: true,
    expected: { error: TypeError, message: /priority 3 was given but enablePriorities is off/ },
  },
  {
    name: 'dedupFunction returns NaN (batch falls back to exact dedup)',
    options: { dedupFunction: (a, b) => (a.poison || b.poison ? Number.NaN : 0), dedupThreshold: 0.5 },
    misbehave: tagPoisoned,
    act: twoEqualPoisonedAndOther,
    perRequest: true,
    expected: { value: 'answer to poison (item 0 of 3)' },
    stats: expectOneExactFallback,
  },
  {
    name: 'dedupFunction throws (batch falls back to exact dedup)',
    options: {
      dedupFunction: (a, b) => {
        if (a.poison || b.poison) throw new Error('similarity service down');
        return 0;
      },
    },
    misbehave: tagPoisoned,
    act: twoEqualPoisonedAndOther,
    perRequest: true,
    expected: { value: 'answer to poison (item 0 of 3)' },
    stats: expectOneExactFallback,
  },
  {
    name: 'huge texts (8 MB each): served, equal ones executed once',
    act: async (batcher) => {
      const [a, b] = await Promise.all([batcher.process({ text: hugeText }), batcher.process({ text: hugeText })]);
      expect(b).toBe(a);
      return a;
    },
    perRequest: true,
    expected: { value: `answer to ${hugeText.length} chars` },
    stats: (stats) => expect(stats.deduplicated).toBe(1),
  },
  {
    name: 'process() with a negative timeoutMs',
    act: (batcher) => batcher.process(poison, { timeoutMs: -1 }),
    perRequest: true,
    expected: { error: RangeError, message: /timeoutMs must be >= 0/ },
  },
  {
    name: 'process() with a NaN timeoutMs (Infinity is accepted: no deadline)',
    act: (batcher) => batcher.process(poison, { timeoutMs: Number.NaN }),
    perRequest: true,
    expected: { error: RangeError, message: /timeoutMs must be >= 0 ms, or Infinity for no limit; got NaN/ },
  },
  {
    name: 'process() with a signal that is not an AbortSignal',
    act: (batcher) => batcher.process(poison, { signal: { aborted: 'no' } as never }),
    perRequest: true,
    expected: { error: TypeError, message: /signal must be an AbortSignal/ },
  },
  {
    name: 'process() with a scope that is not a string, a number or a bigint',
    act: (batcher) => batcher.process(poison, { scope: { tenant: 42 } as never }),
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher\.process: scope must be a string, a number \(not NaN\) or a bigint, got an object$/ },
  },
  {
    name: 'process() with a NaN scope',
    act: (batcher) => batcher.process(poison, { scope: Number.NaN }),
    perRequest: true,
    expected: { error: TypeError, message: /^createBatcher\.process: scope must be a string, a number \(not NaN\) or a bigint, got NaN$/ },
  },
  {
    name: 'process() with options that are not an object',
    act: (batcher) => batcher.process(poison, 'fast' as never),
    perRequest: true,
    expected: { error: TypeError, message: /options must be an object/ },
  },
  {
    name: 'process() with an already aborted signal',
    act: (batcher) => batcher.process(poison, { signal: AbortSignal.abort(new Error('caller gave up')) }),
    perRequest: true,
    expected: { error: Error, message: /caller gave up/ },
  },
  {
    name: 'process() past maxQueueSize',
    options: { maxQueueSize: 2, windowMs: 50 },
    act: async (batcher, clock) => {
      const queued = Promise.all([batcher.process({ text: 'queued 1' }), batcher.process({ text: 'queued 2' })]);
      const refused = batcher.process(poison);
      await expect(refused).rejects.toThrow(QueueFullError);
      // The requests that were already waiting are not disturbed by the refusal.
      expect(await settleAll(clock, queued)).toEqual({ status: 'fulfilled', value: ['answer to queued 1', 'answer to queued 2'] });
      return refused;
    },
    expected: { error: QueueFullError, message: /queue is full: 2 requests/ },
  },
  {
    name: 'process() after close()',
    act: async (batcher) => {
      await batcher.close();
      return batcher.process(poison);
    },
    expected: { error: BatcherClosedError, message: /the batcher is closed/ },
  },
];

describe('bad input at run time: a clear error for the bad request, service as usual for the others', () => {
  it.each(rows)('$name', async (row) => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<Req, string>({
      windowMs: 5,
      scheduler: clock.scheduler,
      stats,
      ...row.options,
      execute: (items, context) =>
        row.misbehave && items.some((r) => r.poison)
          ? row.misbehave(items)
          : (timer(2, clock.scheduler).pipe(map(() => echo(items, context))) as Observable<string[]>),
    });
    const before = batcher.process({ text: 'before' });
    await expect((await settleAll(clock, before)).status).toBe('fulfilled');

    const bad = (row.act ?? ((b) => b.process(poison)))(batcher, clock);
    const alongside = row.perRequest ? batcher.process({ text: 'alongside' }) : undefined;
    const outcome = await settleAll(clock, bad);
    if ('error' in row.expected) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(row.expected.error);
      expect(error.message).toMatch(row.expected.message);
    } else {
      expect(outcome).toEqual({ status: 'fulfilled', value: row.expected.value });
    }
    if (alongside) expect(await settleAll(clock, alongside)).toEqual({ status: 'fulfilled', value: 'answer to alongside' });

    if (batcher.closed) {
      await expect(before).resolves.toBe('answer to before'); // accepted before close(): still answered
    } else {
      const after = batcher.processAll([{ text: 'after 1' }, { text: 'after 2' }]);
      expect(await settleAll(clock, after)).toEqual({ status: 'fulfilled', value: ['answer to after 1', 'answer to after 2'] });
    }
    row.stats?.(batcher.getStats());
  });

  it('embedding strategy with an embed() that returns NaN vectors: falls back to exact dedup, all served', async () => {
    const clock = virtualClock();
    let embedCalls = 0;
    const batcher = createBatcher<Req, string>({
      windowMs: 5,
      scheduler: clock.scheduler,
      dedupStrategy: 'embedding',
      embed: (texts) => {
        embedCalls++;
        return texts.map(() => [Number.NaN, Number.NaN, Number.NaN]);
      },
      execute: (items) => timer(2, clock.scheduler).pipe(map(() => items.map(answer))),
    });
    // Two equal requests and two different ones: exact dedup (the fallback) merges only the equal pair.
    const all = batcher.processAll([{ text: 'reset my password' }, { text: 'reset my password' }, { text: 'delete my account' }, { text: 'poison', poison: true }]);
    expect(await settleAll(clock, all)).toEqual({
      status: 'fulfilled',
      value: ['answer to reset my password', 'answer to reset my password', 'answer to delete my account', 'answer to poison'],
    });
    expect(embedCalls).toBeGreaterThan(0);
    const stats = batcher.getStats();
    expect(stats.embedFallbacks).toBeGreaterThanOrEqual(1);
    expect(stats.executedItems).toBe(3);
    const after = batcher.processAll([{ text: 'after 1' }, { text: 'after 2' }]);
    expect(await settleAll(clock, after)).toEqual({ status: 'fulfilled', value: ['answer to after 1', 'answer to after 2'] });
  });
});
