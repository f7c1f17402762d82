/**
 * The lean core of the /lite spike (src/lite/core.ts, issue 18, stop 17): option checks at creation, hostile keys,
 * scopes and executors, and its promise bridge (src/lite/bridge.ts). The window rules are in
 * marbles/lite-core.marble.test.ts.
 */
import fc from 'fast-check';
import { from, lastValueFrom, NEVER, of, Subject, throwError, toArray, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { leanBatcher } from '../src/lite/bridge.js';
import { leanBatchDedup } from '../src/lite/leanOperator.js';
import type { LeanOptions } from '../src/lite/core.js';
import { BatcherClosedError, BatchResultMismatchError, BatchTimeoutError } from '../src/errors.js';
import { scopeTag, stableKey, type DedupKey, type DedupScope } from '../src/dedup/keys.js';
import { simulatedBackend, trackTimers, virtualClock } from '../src/testing/index.js';
import type { BatchResult, ExecuteContext } from '../src/types.js';
import { BAD_KEYS, BAD_SCOPES, drain, keyArb, SCOPES, settleAll, turn } from './support.js';

const upper = (s: string) => s.toUpperCase();

/** Runs requests through the lean batchDedup on the real clock and returns every result (the source's end sends what waits). */
function run<T, R>(requests: T[], options: LeanOptions<T, R>): Promise<BatchResult<T, R>[]> {
  return lastValueFrom(from(requests).pipe(leanBatchDedup({ windowMs: 1000, ...options }), toArray()));
}

describe('lean core: options are checked at creation', () => {
  it.each([
    // The engine's options name the object of /lite that brings them (the switch, stop 18).
    [{ adaptive: true }, /^batchDedup: adaptive: true needs adaptiveWindow\(\) in rxjs-batch-dedup\/lite: import \{ adaptiveWindow \} from 'rxjs-batch-dedup\/lite'$/],
    [{ priorities: {} }, /^batchDedup: priorities must be made by priorities\(\), got an object$/],
    [{ resultCache: {} }, /^batchDedup: resultCache: an object needs resultCache\(\) in rxjs-batch-dedup\/lite/],
    [{ stats: {} }, /^batchDedup: stats: an object needs engine\(\) in rxjs-batch-dedup\/lite: import \{ engine \} from 'rxjs-batch-dedup\/lite'$/],
    [{ maxQueueSize: 5 }, /^batchDedup: maxQueueSize: 5 needs engine\(\)/],
    [{ dedupFunction: () => 1 }, /^batchDedup: dedupFunction: .* needs engine\(\)/],
    [{ targetLatencyMs: 50 }, /^batchDedup: targetLatencyMs: 50 needs adaptiveWindow\(\)/],
    [{ embed: () => [] }, /^batchDedup: embed is an option of similarity dedup: import from 'rxjs-batch-dedup'/],
    [{ windwMs: 5 }, /^batchDedup: unknown option windwMs; \/lite takes windowMs, maxSize, /],
    [{ windowMs: -1 }, /batchDedup: windowMs must be >= 0 ms/],
    [{ maxSize: 0 }, /batchDedup: maxSize must be >= 1/],
    [{ minSize: 5, maxSize: 2 }, /batchDedup: minSize \(5\) must not exceed maxSize \(2\)/],
    [{ concurrency: 1.5 }, /batchDedup: concurrency must be an integer/],
    [{ processingTimeoutMs: 0 }, /batchDedup: processingTimeoutMs must be >= 1 ms/],
    [{ requestTimeoutMs: 'x' }, /batchDedup: requestTimeoutMs must be a number, got "x"/],
    [{ onTimeout: 'individual' }, /^batchDedup: onTimeout: "individual" needs engine\(\) in rxjs-batch-dedup\/lite/],
    [{ onTimeout: 'retry' }, /^batchDedup: onTimeout must be one of 'reject', got "retry"/],
    [{ dedupStrategy: 'hybrid' }, /^batchDedup: dedupStrategy 'hybrid' is similarity dedup: import from 'rxjs-batch-dedup'/],
    [{ dedupStrategy: 'fuzzy' }, /^batchDedup: dedupStrategy must be one of 'exact', got "fuzzy"/],
    [{ key: 'id' }, /batchDedup: key must be a function, got "id"/],
    [{ scheduler: {} }, /batchDedup: scheduler must be an RxJS SchedulerLike/],
    [{ enableDedup: 'yes' }, /batchDedup: enableDedup must be true or false/],
  ])('refuses %j naming the option', (bad, message) => {
    expect(() => leanBatchDedup({ execute: () => [], ...(bad as object) })).toThrow(message);
  });

  it('refuses a missing execute', () => {
    expect(() => leanBatchDedup({} as LeanOptions<string, string>)).toThrow(/batchDedup: execute is required/);
  });

  it('refuses options that are not an object', () => {
    expect(() => leanBatchDedup(7 as unknown as LeanOptions<string, string>)).toThrow(/batchDedup: options must be an object, got 7/);
  });

  it('takes an option given as undefined as left out', () => {
    expect(() => leanBatchDedup({ execute: () => [], adaptive: undefined } as LeanOptions<string, string>)).not.toThrow();
  });

  it("refuses createBatcher's signal option, pointing at the per-call signal", () => {
    // @ts-expect-error signal is batchDedup's: createBatcher takes it per call
    expect(() => leanBatcher({ execute: () => [], signal: () => undefined })).toThrow(
      /createBatcher: signal is an option of batchDedup; with createBatcher pass it per call/,
    );
  });
});

describe('lean core: exact dedup by key and scope', () => {
  it('keeps look-alike keys of different types apart and equal keys together', async () => {
    const requests: DedupKey[] = ['1', 1, 1n, true, 'true', null, 'null', [1], '[1]', { a: 1, b: 2 }, { b: 2, a: 1 }, 0, -0];
    const calls: unknown[][] = [];
    const results = await run(requests, {
      execute: (items) => {
        calls.push(items);
        return items.map((i) => stableKey(i));
      },
    });
    // {b, a} follows {a, b}, and -0 follows 0: each right after its leader, which is its place in arrival order here.
    expect(results.map((r) => [r.value, r.deduplicated])).toEqual(requests.map((r, i) => [stableKey(r), i === 10 || i === 12]));
    expect(calls[0]).toHaveLength(11);
  });

  it('answers every request with its own result, never sharing one across scopes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: keyArb, scope: fc.constantFrom(...SCOPES) }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        async (requests, maxSize) => {
          const canonical = (r: { key: DedupKey; scope: DedupScope }) => `${scopeTag(r.scope)}${stableKey(r.key)}`;
          const sent: string[][] = [];
          const indexed = requests.map((r, i) => ({ ...r, i }));
          const results = await run(indexed, {
            maxSize,
            key: (r) => r.key,
            scope: (r) => r.scope,
            execute: (items) => {
              sent.push(items.map(canonical));
              return Promise.resolve(items.map(canonical));
            },
          });
          expect(results.map((r) => r.request.i).sort((a, b) => a - b)).toEqual(indexed.map((r) => r.i));
          for (const r of results) expect(r.value).toBe(canonical(r.request));
          for (const items of sent) expect(new Set(items).size).toBe(items.length);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each(BAD_KEYS.map((k) => [k]))('rejects the request whose key(request) returns %s alone, with a TypeError naming key', async (bad) => {
    const results = await run(['bad', 'ok'], { key: (r) => (r === 'bad' ? (bad as DedupKey) : r), execute: (items) => items.map(upper) });
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(results[0]!.error).toBeInstanceOf(TypeError);
    expect(String(results[0]!.error)).toMatch(/batchDedup: key\(request\) returned/);
  });

  it.each(BAD_SCOPES.map((s) => [s]))('rejects the request whose scope(request) returns %s alone, with a TypeError naming scope', async (bad) => {
    const results = await run(['bad', 'ok'], { scope: (r) => (r === 'bad' ? (bad as DedupScope) : 'x'), execute: (items) => items.map(upper) });
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(String(results[0]!.error)).toMatch(/batchDedup: scope\(request\) returned/);
  });

  it('rejects a request the default key cannot encode (a function inside it) alone, naming where', async () => {
    const results = await run([{ f: () => 1 }, { f: 1 }], { execute: (items) => items.map(() => 'ok') });
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
    expect(String(results[0]!.error)).toMatch(/batchDedup: the default key cannot encode a function at request\.f/);
  });

  it('rejects the request whose key(request) throws alone, naming key and keeping the cause', async () => {
    const boom = new Error('boom');
    const results = await run(['bad', 'ok'], {
      key: (r) => {
        if (r === 'bad') throw boom;
        return r;
      },
      execute: (items) => items.map(upper),
    });
    expect(String(results[0]!.error)).toMatch(/batchDedup: key\(request\) threw: boom/);
    expect((results[0]!.error as Error).cause).toBe(boom);
    expect(results[1]!.value).toBe('OK');
  });

  it('sends every request, equal ones included, with enableDedup: false', async () => {
    const calls: string[][] = [];
    await run(['a', 'a'], { enableDedup: false, execute: (items) => (calls.push(items), items.map(upper)) });
    expect(calls).toEqual([['a', 'a']]);
  });
});

describe('lean core: what execute gives back', () => {
  const expectAll = async (execute: LeanOptions<string, string>['execute'], check: (error: unknown) => void) => {
    const results = await run(['a', 'b'], { execute, processingTimeoutMs: 200 });
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    check(results[0]!.error);
    expect(results[1]!.error).toBe(results[0]!.error);
  };

  it('rejects every request with BatchResultMismatchError for an array of the wrong length', () =>
    expectAll(
      () => ['A'],
      (error) => {
        expect(error).toBeInstanceOf(BatchResultMismatchError);
        expect(error).toMatchObject({ expected: 2, received: 1 });
        expect(String(error)).toMatch(/execute returned 1 results; expected an array of 2 results/);
      },
    ));

  it.each([[null], [42], ['AB'], [{ length: 2 }]])('rejects every request with BatchResultMismatchError when execute returns %j', (bad) =>
    expectAll(
      () => bad as unknown as string[],
      (error) => {
        expect(error).toBeInstanceOf(BatchResultMismatchError);
        expect(error).toMatchObject({ expected: 2, received: undefined });
      },
    ));

  it('rejects every request with BatchResultMismatchError for a promise of something not an array', () =>
    expectAll(
      () => Promise.resolve('AB' as unknown as string[]),
      (error) => expect(String(error)).toMatch(/BatchResultMismatchError: execute produced "AB"/),
    ));

  it('rejects every request with BatchResultMismatchError for an observable that completes without results', () =>
    expectAll(
      () => of(),
      (error) => expect(String(error)).toMatch(/execute completed without results/),
    ));

  it('rejects every request with what execute threw', () => {
    const boom = new Error('boom');
    return expectAll(
      () => {
        throw boom;
      },
      (error) => expect(error).toBe(boom),
    );
  });

  it('rejects every request with what the promise rejected with', () => {
    const boom = new Error('down');
    return expectAll(
      () => Promise.reject(boom),
      (error) => expect(error).toBe(boom),
    );
  });

  it('rejects every request with what an observable errored with', () => {
    const boom = new Error('down');
    return expectAll(
      () => throwError(() => boom),
      (error) => expect(error).toBe(boom),
    );
  });

  it("rejects every request with the throw of a thenable's then", () => {
    const boom = new Error('then');
    const thenable = {
      then() {
        throw boom;
      },
    };
    return expectAll(
      () => thenable as unknown as PromiseLike<string[]>,
      (error) => expect(error).toBe(boom),
    );
  });

  it('rejects every request with the throw of a result that throws when read', () => {
    const boom = new Error('getter');
    const results = ['A'];
    Object.defineProperty(results, 1, {
      get() {
        throw boom;
      },
    });
    return expectAll(
      () => results,
      (error) => expect(error).toBe(boom),
    );
  });

  it('rejects every request with BatchTimeoutError when execute never answers, and aborts its signal', async () => {
    let context: ExecuteContext | undefined;
    const results = await run(['a'], {
      processingTimeoutMs: 20,
      execute: (_items, c) => {
        context = c;
        return NEVER;
      },
    });
    expect(results[0]!.error).toBeInstanceOf(BatchTimeoutError);
    expect(String(results[0]!.error)).toMatch(/batch 1 took longer than 20 ms \(processingTimeoutMs\)/);
    expect(context!.signal.aborted).toBe(true);
  });

  it('keeps only the first answer of an observable that emits twice', async () => {
    const results = await run(['a'], { execute: () => of(['first'], ['second']) });
    expect(results.map((r) => r.value)).toEqual(['first']);
  });

  it('goes on with the next batch after one fails', async () => {
    let call = 0;
    const results = await run(['a', 'b'], {
      maxSize: 1,
      execute: (items) => {
        if (call++ === 0) throw new Error('first');
        return items.map(upper);
      },
    });
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  });
});

describe('lean core: signal(request)', () => {
  it('rejects at once, never sending it, a request whose signal has aborted already', async () => {
    const calls: string[][] = [];
    const results = await run(['a', 'b'], {
      signal: (r) => (r === 'a' ? AbortSignal.abort('before') : undefined),
      execute: (items) => (calls.push(items), items.map(upper)),
    });
    expect(results.map((r) => r.error ?? r.value)).toEqual(['before', 'B']);
    expect(calls).toEqual([['b']]);
  });

  it.each([[{}], [7], ['signal']])('rejects the request whose signal(request) returns %j alone, with a TypeError naming signal', async (bad) => {
    const results = await run(['bad', 'ok'], {
      signal: (r) => (r === 'bad' ? (bad as AbortSignal) : undefined),
      execute: (items) => items.map(upper),
    });
    expect(String(results[0]!.error)).toMatch(/batchDedup: signal\(request\) returned .*; it must return an AbortSignal, undefined or null/);
    expect(results[1]!.value).toBe('OK');
  });

  it('rejects the request whose signal(request) throws alone', async () => {
    const results = await run(['bad', 'ok'], {
      signal: (r) => {
        if (r === 'bad') throw new Error('no signal');
        return null;
      },
      execute: (items) => items.map(upper),
    });
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled']);
  });

  it("rejects the request whose signal's addEventListener throws alone, naming it", async () => {
    const signal = {
      aborted: false,
      addEventListener() {
        throw new Error('sealed');
      },
      removeEventListener() {},
    } as unknown as AbortSignal;
    const results = await run(['bad', 'ok'], { signal: (r) => (r === 'bad' ? signal : undefined), execute: (items) => items.map(upper) });
    expect(String(results[0]!.error)).toMatch(/addEventListener\('abort'\) threw: sealed/);
    expect(results[1]!.value).toBe('OK');
  });

  it('rejects with a TypeError naming the getter a request whose signal.aborted throws', async () => {
    const signal = {
      get aborted(): boolean {
        throw new Error('revoked');
      },
      addEventListener() {},
      removeEventListener() {},
    } as unknown as AbortSignal;
    const results = await run(['a'], { signal: () => signal, execute: (items) => items.map(upper) });
    expect(String(results[0]!.error)).toMatch(/batchDedup: signal\(request\): signal\.aborted threw: revoked/);
  });
});

function batcherSetup(options: Partial<LeanOptions<string, string>> & { durationMs?: number } = {}) {
  const clock = virtualClock();
  const tracked = trackTimers(clock.scheduler);
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => options.durationMs ?? 5, compute: upper });
  const { durationMs: _, ...rest } = options;
  const batcher = leanBatcher<string, string>({ execute: backend.execute, windowMs: 10, scheduler: tracked.scheduler, ...rest });
  return { clock, backend, batcher, tracked };
}

describe('lean core: the promise bridge (createBatcher)', () => {
  it('resolves each process() with its own result and executes duplicates once', async () => {
    const { clock, backend, batcher } = batcherSetup();
    const results = Promise.all([batcher.process('a'), batcher.process('b'), batcher.process('a')]);
    clock.advanceBy(15);
    await expect(results).resolves.toEqual(['A', 'B', 'A']);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]);
  });

  it('resolves processAll with the results in request order', async () => {
    const { clock, batcher } = batcherSetup();
    const all = batcher.processAll(['x', 'y', 'x']);
    clock.runAll();
    await expect(all).resolves.toEqual(['X', 'Y', 'X']);
  });

  it('rejects processAll given something not iterable, naming it', async () => {
    const { batcher } = batcherSetup();
    await expect(batcher.processAll(7 as unknown as string[])).rejects.toThrow(/createBatcher.processAll: requests must be iterable, got 7/);
  });

  it('counts requests, batches and deduplicated requests', async () => {
    const { clock, batcher } = batcherSetup();
    const all = batcher.processAll(['x', 'y', 'x']);
    clock.runAll();
    await all;
    expect(batcher.getStats()).toEqual({ totalRequests: 3, totalBatches: 1, deduplicated: 1, executedItems: 2 });
  });

  it('close() resolves only once every accepted request is answered, then refuses with BatcherClosedError', async () => {
    const { clock, batcher, tracked } = batcherSetup({ windowMs: 50 });
    const answers = [batcher.process('a'), batcher.process('b')];
    const closing = batcher.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await turn();
    expect(closed).toBe(false);
    expect(await drain(clock, closing)).toBe(true);
    await expect(Promise.all(answers)).resolves.toEqual(['A', 'B']);
    await expect(batcher.process('c')).rejects.toBeInstanceOf(BatcherClosedError);
    await expect(batcher.processAll(['c'])).rejects.toBeInstanceOf(BatcherClosedError);
    expect(batcher.closed).toBe(true);
    expect(tracked.pending()).toBe(0);
  });

  it('rejects with the reason at once, never sending it, a request whose signal aborts while it waits', async () => {
    const { clock, backend, batcher } = batcherSetup();
    const controller = new AbortController();
    const answer = batcher.process('a', { signal: controller.signal });
    const other = batcher.process('b');
    clock.advanceBy(3);
    controller.abort('left');
    await expect(answer).rejects.toBe('left');
    clock.runAll();
    await expect(other).resolves.toBe('B');
    expect(backend.calls.map((c) => c.items)).toEqual([['b']]);
  });

  it('rejects at once a request whose signal has aborted before the call, and sends nothing', async () => {
    const { clock, backend, batcher } = batcherSetup();
    await expect(batcher.process('a', { signal: AbortSignal.abort('early') })).rejects.toBe('early');
    clock.runAll();
    expect(backend.calls).toEqual([]);
    expect(batcher.getStats().totalRequests).toBe(1);
  });

  it('rejects at once a request whose signal aborts while its batch executes, and aborts the execution nobody waits for', async () => {
    const { clock, backend, batcher, tracked } = batcherSetup({ durationMs: 100 });
    const controller = new AbortController();
    const answer = batcher.process('a', { signal: controller.signal });
    clock.advanceBy(20);
    expect(backend.calls).toHaveLength(1);
    controller.abort('late');
    await expect(answer).rejects.toBe('late');
    expect(backend.calls[0]!.context.signal.aborted).toBe(true);
    expect(tracked.pending()).toBe(0);
  });

  it('keeps a batch running for the requests still waiting on it when one of them aborts', async () => {
    const { clock, batcher } = batcherSetup({ durationMs: 30 });
    const controller = new AbortController();
    const aborted = batcher.process('a', { signal: controller.signal });
    const kept = batcher.process('a');
    clock.advanceBy(20);
    controller.abort('late');
    await expect(aborted).rejects.toBe('late');
    clock.runAll();
    await expect(kept).resolves.toBe('A');
  });

  it('changes nothing when the signal aborts after the answer, and removes its listener', async () => {
    const { clock, batcher } = batcherSetup();
    let listeners = 0;
    const controller = new AbortController();
    const signal = controller.signal;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<typeof add>) => (listeners++, add(...args))) as typeof add;
    signal.removeEventListener = ((...args: Parameters<typeof remove>) => (listeners--, remove(...args))) as typeof remove;
    const all = batcher.processAll(['a', 'b'], { signal });
    clock.runAll();
    await expect(all).resolves.toEqual(['A', 'B']);
    expect(listeners).toBe(0);
    controller.abort('after');
    await turn();
  });

  it('rejects with BatchTimeoutError at timeoutMs a request still executing', async () => {
    const { clock, batcher, tracked } = batcherSetup({ durationMs: 100 });
    const answer = batcher.process('a', { timeoutMs: 30 });
    const settled = await settleAll(clock, answer);
    expect(settled.status === 'rejected' && String(settled.reason)).toMatch(/BatchTimeoutError: no result within 30 ms \(timeoutMs\)/);
    expect(clock.scheduler.now()).toBeLessThanOrEqual(31);
    expect(tracked.pending()).toBe(0);
  });

  it('rejects with BatchTimeoutError a request still waiting requestTimeoutMs after its arrival', async () => {
    const { clock, backend, batcher } = batcherSetup({ windowMs: 50, requestTimeoutMs: 20 });
    const answer = batcher.process('a');
    clock.advanceBy(20);
    await expect(answer).rejects.toThrow(/request waited longer than 20 ms for a batch \(requestTimeoutMs\)/);
    clock.runAll();
    expect(backend.calls).toEqual([]);
  });

  it('keeps scopes apart per call', async () => {
    const { clock, backend, batcher } = batcherSetup();
    const all = Promise.all([batcher.process('a', { scope: 1 }), batcher.process('a', { scope: '1' }), batcher.process('a', { scope: 1 })]);
    clock.runAll();
    await expect(all).resolves.toEqual(['A', 'A', 'A']);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'a']]);
  });

  it.each([
    [{ timeoutMs: -1 }, /createBatcher.process: timeoutMs must be >= 0 ms/],
    [{ scope: Number.NaN }, /createBatcher.process: scope must be a string, a number \(not NaN\) or a bigint, got NaN/],
    [{ signal: {} }, /createBatcher.process: signal must be an AbortSignal/],
    [{ priority: 1 }, /^createBatcher.process: priority 1 was given but no priorities\(\) is given, so nothing would order by it; create the batcher with priorities: priorities\(\) \(import \{ priorities \} from 'rxjs-batch-dedup\/lite'\)/],
    [{ priorty: 1 }, /^createBatcher.process: unknown option priorty; it takes timeoutMs, signal, scope$/],
  ])('rejects the per-call options %j naming the option', async (bad, message) => {
    const { batcher } = batcherSetup();
    await expect(batcher.process('a', bad as object)).rejects.toThrow(message);
  });

  it('leaves no timer and no listener after close() with calls that had deadlines and signals', async () => {
    const { clock, batcher, tracked } = batcherSetup({ requestTimeoutMs: 500 });
    const controller = new AbortController();
    const all = batcher.processAll(['a', 'b', 'a'], { timeoutMs: 1000, signal: controller.signal });
    const closing = batcher.close();
    expect(await drain(clock, closing)).toBe(true);
    await expect(all).resolves.toEqual(['A', 'B', 'A']);
    expect(tracked.pending()).toBe(0);
  });
});

describe('lean core: user functions that end the pipeline from inside a push', () => {
  it('answers a request whose signal(request) completes the source before completing the output', () => {
    const clock = virtualClock();
    const source = new Subject<string>();
    const seen: string[] = [];
    let completed = false;
    source
      .pipe(leanBatchDedup({ scheduler: clock.scheduler, windowMs: 5, execute: (items: string[]) => items.map(upper), signal: () => (source.complete(), undefined) }))
      .subscribe({ next: (r) => seen.push(String(r.value)), complete: () => (completed = true) });
    source.next('a');
    clock.runAll();
    expect([seen, completed]).toEqual([['A'], true]);
  });

  it('leaves no timer when unsubscribed from inside key(request), and answers nothing after', () => {
    const clock = virtualClock();
    const tracked = trackTimers(clock.scheduler);
    const source = new Subject<string>();
    const seen: unknown[] = [];
    let subscription: Subscription | undefined;
    const unsubscribingKey = (r: string) => (subscription?.unsubscribe(), r);
    subscription = source
      .pipe(leanBatchDedup({ scheduler: tracked.scheduler, windowMs: 5, requestTimeoutMs: 50, execute: (items: string[]) => items, key: unsubscribingKey }))
      .subscribe((r) => seen.push(r));
    source.next('a');
    expect(tracked.pending()).toBe(0);
    clock.runAll();
    expect(seen).toEqual([]);
  });

  it('resolves close() called from a request pushed from inside scope(request) only after the outer request is answered too', async () => {
    const clock = virtualClock();
    let closing: Promise<void> | undefined;
    const answers: string[] = [];
    const batcher = leanBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 0,
      maxSize: 1,
      execute: (items) => items.map(upper),
      scope: (r) => {
        if (r === 'outer') void batcher.process('inner').then((v) => answers.push(v));
        return undefined;
      },
      key: (r) => {
        if (r === 'inner') closing ??= batcher.close();
        return r;
      },
    });
    void batcher.process('outer').then((v) => answers.push(v));
    let answersAtClose: string[] = [];
    expect(await drain(clock, closing!.then(() => void (answersAtClose = answers.slice())))).toBe(true);
    expect(answersAtClose.sort()).toEqual(['INNER', 'OUTER']);
  });

  it('resolves close() called from inside key(request) only after that request is answered', async () => {
    const clock = virtualClock();
    let closing: Promise<void> | undefined;
    let answer = 'none yet';
    const batcher = leanBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      execute: (items) => items.map(upper),
      key: (r) => {
        if (r === 'closer') closing ??= batcher.close();
        return r;
      },
    });
    const closer = batcher.process('closer').then((v) => (answer = v));
    let answerAtClose = '';
    expect(await drain(clock, closing!.then(() => void (answerAtClose = answer)))).toBe(true);
    await closer;
    expect(answerAtClose).toBe('CLOSER');
  });
});
