/**
 * H-BR, stop 22: the promise bridge on its three cores (main's `createBatcher`, `/lite`'s on the lean core and
 * `/lite`'s with `engine()`), differentially and against a model. The same calls (`process` and `processAll`, with
 * keys of every type that look alike (`1`, `'1'`, `[1]`, `'[1]'`, `0`/`-0`, NaN, objects with fields reordered, a
 * key that throws), per-call scopes that look alike (`'1'`, `1`, `1n`, `0`, `-0`), deadlines of 0, a few ms, huge
 * and `Infinity`, signals aborted before the call, from inside `key` or at any moment, one signal shared by
 * several calls, a live `configure()` (engine only) and `close()` at any moment, and a call after it) go to each,
 * on a virtual clock stepped 1 ms at a time with the promise reactions run in between, against a backend that
 * answers after drawn delays and fails every batch holding `'boom'`. On every core: every promise settles, a
 * value is the echo of the request's own key in its own scope (the backend never sees the scope: the request
 * carries it), an error is the batch's, its own deadline's or abort's, its key's, or `BatcherClosedError` for a
 * call after `close()`; no request reaches the backend after its call's signal aborted (row 5); `close()`
 * resolves with no timer of the library left; the counters add up. Main and `/lite` with `engine()` run one
 * engine and must answer alike; the lean core must answer as main does whenever nothing is withdrawn (no
 * deadline, no abort after the call, no configure: docs/decisions.md, "The switch of /lite to the lean core",
 * leaves withdrawals out of the comparison).
 */
import fc from 'fast-check';
import { map, timer, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatcherClosedError, BatchTimeoutError } from '../src/errors.js';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';

type Scope = string | number | bigint | undefined;
/** What `key(request)` returns: look-alikes of every type, objects with fields in either order, one that throws. */
type Key = string | number | readonly unknown[] | Readonly<Record<string, number>>;
const KEYS: Key[] = ['a', 'b', 'boom', 'throw', 1, '1', 0, -0, NaN, [1], ['1'], '[1]', { x: 1, y: 2 }, { y: 2, x: 1 }];
interface Req {
  readonly id: number;
  readonly call: number;
  readonly key: Key;
  readonly scope: Scope;
  /** Aborts its call's signal when `key` reads it. */
  readonly abortInKey?: AbortController | undefined;
}
interface Call {
  readonly id: number;
  readonly all: boolean;
  readonly keys: Key[];
  readonly scope: Scope;
  readonly at: number;
  readonly timeoutMs: number | undefined;
  /** None; aborted before the call; aborted from inside `key` as it reads the call's last request; at a moment. */
  readonly signal: 'none' | 'before' | 'in key' | 'shared' | number;
}
interface Made {
  process(request: Req, options?: object): Promise<string>;
  processAll(requests: Iterable<Req>, options?: object): Promise<string[]>;
  close(): Promise<void>;
  getStats(): {
    totalRequests: number;
    totalBatches: number;
    executedItems: number;
    deduplicated: number;
    completed?: number;
    timeouts?: number;
    errors?: number;
    queueDepth?: number;
    inFlight?: number;
  };
  configure(options: object): void;
}
const cores: [string, (options: object) => Made][] = [
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
  ['engine', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['lean', (options) => createLiteBatcher(options as never) as unknown as Made],
];

const optionsArb = fc.record({
  windowMs: fc.integer({ min: 0, max: 5 }),
  maxSize: fc.integer({ min: 1, max: 4 }),
  maxWaitMs: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: fc.integer({ min: 1, max: 15 }),
  requestTimeoutMs: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
  dedupInFlight: fc.boolean(),
  enableDedup: fc.boolean(),
  delays: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 5 }),
  closeAt: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
  /** When the signal that the calls drawn with `'shared'` are all given aborts (one HTTP request, several calls). */
  sharedAbortAt: fc.integer({ min: 0, max: 30 }),
  /** A live change of the engine's settings at that moment (main and engine() only: the lean core has none). */
  configure: fc.option(
    fc.record({
      at: fc.integer({ min: 0, max: 25 }),
      change: fc.record(
        {
          windowMs: fc.integer({ min: 0, max: 6 }),
          maxSize: fc.integer({ min: 1, max: 4 }),
          concurrency: fc.integer({ min: 1, max: 3 }),
          processingTimeoutMs: fc.constantFrom(1, 5, 15, Infinity),
          requestTimeoutMs: fc.constantFrom(1, 5, 2 ** 31, Infinity),
          maxWaitMs: fc.constantFrom(1, 4, Infinity),
          enableDedup: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
    }),
    { nil: undefined },
  ),
});
type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

const callsArb = fc
  .array(
    fc.record({
      all: fc.boolean(),
      keys: fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }),
      scope: fc.constantFrom<Scope>(undefined, 'x', 1, '1', 1n, 0, -0),
      at: fc.integer({ min: 0, max: 20 }),
      timeoutMs: fc.option(fc.constantFrom(0, 1, 3, 7, 15, 2 ** 31, 1e300, Infinity), { nil: undefined }),
      signal: fc.oneof(fc.constantFrom<'none' | 'before' | 'in key' | 'shared'>('none', 'before', 'in key', 'shared'), fc.integer({ min: 0, max: 30 })),
    }),
    { minLength: 1, maxLength: 10 },
  )
  .map((calls) => calls.map((c, id): Call => ({ ...c, keys: c.all ? c.keys : c.keys.slice(0, 1), id })));

/**
 * The model's reading of a key, apart from the library's encoding: typed, `-0` as `0` (equal keys, docs/keys.md),
 * object fields in name order.
 */
function canon(key: unknown): string {
  if (typeof key === 'number') return `n:${String(key === 0 ? 0 : key)}`;
  if (typeof key === 'string') return `s:${JSON.stringify(key)}`;
  if (Array.isArray(key)) return `a:[${key.map(canon).join(',')}]`;
  const o = key as Record<string, unknown>;
  return `o:{${Object.keys(o)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${canon(o[name])}`)
    .join(',')}}`;
}

/** What the backend answers for a request: its key in its scope, `-0` read as `0` (the same scope). */
function echo(key: Key, scope: Scope): string {
  return `${canon(key)} in ${typeof scope} ${String(scope)}`;
}

interface Run {
  /** Each call's outcome, in call order. */
  outcomes: string[];
  /** Broken promises: what the model refuses. */
  wrong: string[];
  withdrawn: boolean;
  counts: string;
}

async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve();
}

async function run(make: (options: object) => Made, o: Options, calls: readonly Call[], lean = false): Promise<Run> {
  const clock = virtualClock();
  const tracked = trackTimers(clock.scheduler);
  const backendClock: VirtualTimeScheduler = clock.scheduler;
  let n = 0;
  const batcher = make({
    scheduler: tracked.scheduler,
    windowMs: o.windowMs,
    maxSize: o.maxSize,
    maxWaitMs: o.maxWaitMs,
    concurrency: o.concurrency,
    processingTimeoutMs: o.processingTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
    dedupInFlight: o.dedupInFlight,
    enableDedup: o.enableDedup,
    key: (r: Req) => {
      // Only as the call takes it in: a batch's dedup may key it again after a configure(), when it is being sent.
      if (taking === r.call) r.abortInKey?.abort(reasons.get(r.call));
      if (r.key === 'throw') throw new Error('no key');
      return r.key;
    },
    execute: (items: Req[]) => {
      // Row 5: a request whose call aborted is never sent after that.
      for (const r of items) if (aborted.has(r.call)) wrong.push(`request ${r.id} sent after its call aborted`);
      // Spread by the call's number: no backend answer falls due with another timer.
      const delay = o.delays[n % o.delays.length]! + 0.5 + n++ / 10_000;
      return timer(delay, backendClock).pipe(
        map(() => {
          if (items.some((r) => r.key === 'boom')) throw new Error('boom');
          return items.map((r) => echo(r.key, r.scope));
        }),
      );
    },
  });
  const wrong: string[] = [];
  const outcomes = new Map<number, string>();
  let withdrawn = o.requestTimeoutMs !== undefined;
  const reasons = new Map<number, Error>();
  const aborted = new Set<number>();
  const shared = new AbortController();
  const sharedReason = new Error('the shared signal aborted');
  backendClock.schedule(() => shared.abort(sharedReason), o.sharedAbortAt + 0.3);
  /** The call being taken in, if any. */
  let taking: number | undefined;
  const settle = (call: Call, promise: Promise<unknown>) =>
    promise.then(
      (value) => {
        const expected = call.keys.map((key) => echo(key, call.scope));
        const got = call.all ? value : [value];
        if (JSON.stringify(got) !== JSON.stringify(expected)) wrong.push(`call ${call.id}: ${JSON.stringify(got)} for ${JSON.stringify(expected)}`);
        outcomes.set(call.id, `ok ${JSON.stringify(value)}`);
      },
      (error: unknown) => {
        let what: string;
        if (error === reasons.get(call.id)) what = 'aborted';
        else if (error instanceof BatchTimeoutError) what = 'timeout';
        else if (error instanceof BatcherClosedError) what = 'closed';
        // Its key threw or was NaN, which no key may be (its own, or one of its processAll's): that request alone, named.
        else if (error instanceof TypeError && error.message === 'createBatcher: key(request) threw: no key' && call.keys.includes('throw')) what = 'no key';
        else if (error instanceof TypeError && error.message.startsWith('createBatcher: key(request) returned NaN; ') && call.keys.some((k) => Number.isNaN(k))) {
          what = 'NaN key';
        }
        // Its batch held a 'boom' (its own or another caller's): the batch's error.
        else if (error instanceof Error && error.message === 'boom') what = 'boom';
        else {
          what = `unexpected ${String(error)}`;
          wrong.push(`call ${call.id}: ${what}`);
        }
        outcomes.set(call.id, what);
      },
    );
  let closing: Promise<void> | undefined;
  let closedWith: number | undefined;
  const closeTime = o.closeAt === undefined ? undefined : o.closeAt + 0.5;
  for (const call of calls) {
    const options: { scope?: Scope; timeoutMs?: number; signal?: AbortSignal } = {};
    let abortInKey: AbortController | undefined;
    if (call.scope !== undefined) options.scope = call.scope;
    if (call.timeoutMs !== undefined) {
      options.timeoutMs = call.timeoutMs;
      if (call.timeoutMs < 1e9) withdrawn = true;
    }
    if (call.signal === 'shared') {
      reasons.set(call.id, sharedReason);
      options.signal = shared.signal;
      shared.signal.addEventListener('abort', () => aborted.add(call.id));
      withdrawn = true;
    } else if (call.signal !== 'none') {
      const controller = new AbortController();
      const reason = new Error(`call ${call.id} left`);
      reasons.set(call.id, reason);
      options.signal = controller.signal;
      controller.signal.addEventListener('abort', () => aborted.add(call.id));
      if (call.signal === 'before') controller.abort(reason);
      else if (call.signal === 'in key') abortInKey = controller;
      else {
        withdrawn = true;
        backendClock.schedule(() => controller.abort(reason), call.signal + 0.25 + call.id / 1000);
      }
    }
    const last = call.keys.length - 1;
    const requests = call.keys.map((key, i): Req => ({ id: call.id * 10 + i, call: call.id, key, scope: call.scope, abortInKey: i === last ? abortInKey : undefined }));
    // Spread by id: no two calls at one instant, nor a call with a timer.
    backendClock.schedule(() => {
      const closed = closeTime !== undefined && call.at + (call.id + 1) / 1000 > closeTime;
      taking = call.id;
      const promise = call.all ? batcher.processAll(requests, options) : batcher.process(requests[0]!, options);
      taking = undefined;
      if (closed) withdrawn = true;
      void settle(call, promise);
    }, call.at + (call.id + 1) / 1000);
  }
  const change = o.configure;
  if (change !== undefined && !lean) {
    backendClock.schedule(() => {
      try {
        batcher.configure(change.change);
      } catch (error) {
        if (!(error instanceof BatcherClosedError)) wrong.push(`configure(${fc.stringify(change.change)}) threw ${String(error)}`);
      }
    }, change.at + 0.75);
  }
  if (closeTime !== undefined) {
    backendClock.schedule(() => {
      closing = batcher.close();
      void closing.then(() => (closedWith = tracked.pending()));
    }, closeTime);
  }
  for (let ms = 0; ms < 60; ms++) {
    clock.advanceBy(1);
    await turns();
  }
  clock.runAll();
  await turns();
  for (const call of calls) if (!outcomes.has(call.id)) wrong.push(`call ${call.id}: never settled`);
  if (closing === undefined) {
    closing = batcher.close();
    void closing.then(() => (closedWith = tracked.pending()));
  }
  clock.runAll();
  await turns();
  if (closedWith === undefined) wrong.push('close() never resolved');
  else if (closedWith !== 0) wrong.push(`${closedWith} timers left when close() resolved`);
  const stats = batcher.getStats();
  const accepted = calls.filter((c) => outcomes.get(c.id) !== 'closed').reduce((sum, c) => sum + c.keys.length, 0);
  if (stats.totalRequests !== accepted) wrong.push(`totalRequests ${stats.totalRequests} for ${accepted} accepted`);
  if (stats.totalBatches !== n) wrong.push(`totalBatches ${stats.totalBatches} for ${n} calls`);
  if (stats.completed !== undefined && stats.completed !== stats.totalRequests) wrong.push(`completed ${stats.completed} of ${stats.totalRequests}`);
  if (stats.queueDepth !== undefined && (stats.queueDepth !== 0 || stats.inFlight !== 0)) wrong.push(`queueDepth ${stats.queueDepth}, inFlight ${stats.inFlight}`);
  return {
    outcomes: calls.map((c) => `${c.id}: ${outcomes.get(c.id) ?? 'never'}`),
    wrong,
    withdrawn,
    counts: `batches ${stats.totalBatches}, items ${stats.executedItems}, deduplicated ${stats.deduplicated}`,
  };
}

describe('the promise bridge on its three cores', () => {
  it('every call settles with its own answer or a clear error; close() leaves no timer; main and engine() agree, and the lean core with them when nothing is withdrawn', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, callsArb, async (o, calls) => {
        const [main, eng, lean] = [await run(cores[0]![1], o, calls), await run(cores[1]![1], o, calls), await run(cores[2]![1], o, calls, true)];
        expect(main.wrong).toEqual([]);
        expect(eng.wrong).toEqual([]);
        expect(lean.wrong).toEqual([]);
        expect(eng.outcomes).toEqual(main.outcomes);
        expect(eng.counts).toEqual(main.counts);
        if (!main.withdrawn && o.configure === undefined) {
          expect(lean.outcomes).toEqual(main.outcomes);
          expect(lean.counts).toEqual(main.counts);
        }
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 500) },
    );
  }, 120_000);
});
