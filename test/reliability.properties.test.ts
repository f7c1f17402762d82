/**
 * Reliability properties of `batchDedup` over random interleavings of arrivals, backend completions, executor
 * failures (sync throw, async error, wrong length, non-array, streams that stop early), processing and queue
 * timeouts, per-request aborts, unsubscription at a random moment and a source that errors. Virtual time only:
 * every run is a `TestScheduler` run, and `trackTimers` counts the library's live timers.
 */
import fc from 'fast-check';
import { concat, ignoreElements, map, merge, Observable, of, throwError, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, BatchTimeoutError, createBatchStats, type BatchResult, type StreamedResult } from '../src/index.js';
import { createTestScheduler, trackTimers } from '../src/testing/index.js';

interface Req {
  readonly id: number;
  readonly at: number;
  readonly key: number;
  readonly scope: string;
  /** When its caller aborts it, if ever. */
  readonly abortAt: number | undefined;
}

/** What the backend answers for an item: everything about the request that asked, so misrouting shows. */
interface Echo {
  readonly id: number;
  readonly key: number;
  readonly scope: string;
}

type Behaviour = 'ok' | 'throw' | 'error-later' | 'wrong-length' | 'non-array' | 'slow' | 'stream-partial' | 'stream-all';

const requestsArb = fc
  .array(
    fc.record({
      at: fc.integer({ min: 0, max: 100 }),
      key: fc.integer({ min: 0, max: 3 }),
      scope: fc.constantFrom('ann', 'bob', 'cy'),
      abortAt: fc.option(fc.integer({ min: 0, max: 120 }), { freq: 4, nil: undefined }),
    }),
    { minLength: 1, maxLength: 30 },
  )
  .map((rs) => rs.map((r, id): Req => ({ ...r, id })));

const optionsArb = fc
  .record({
    windowMs: fc.integer({ min: 0, max: 15 }),
    maxSize: fc.integer({ min: 1, max: 6 }),
    minSizeRaw: fc.integer({ min: 1, max: 6 }),
    maxWaitMs: fc.integer({ min: 0, max: 30 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
    processingTimeoutMs: fc.integer({ min: 1, max: 25 }),
    onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
    requestTimeoutMs: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
    dedupInFlight: fc.boolean(),
    enablePriorities: fc.boolean(),
    durationMs: fc.integer({ min: 0, max: 12 }),
  })
  .map(({ minSizeRaw, ...o }) => ({ ...o, minSize: Math.min(minSizeRaw, o.maxSize) }));

type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

const behavioursArb = fc.array(
  fc.constantFrom<Behaviour>('ok', 'ok', 'ok', 'throw', 'error-later', 'wrong-length', 'non-array', 'slow', 'stream-partial', 'stream-all'),
  { minLength: 1, maxLength: 10 },
);

/** How the run ends: the source completes or errors after its last arrival, or the subscriber leaves at a time. */
const endingArb = fc.oneof(
  fc.constant<Ending>({ kind: 'complete' }),
  fc.constant<Ending>({ kind: 'error' }),
  fc.integer({ min: 0, max: 150 }).map((at): Ending => ({ kind: 'unsubscribe', at })),
);
type Ending = { kind: 'complete' } | { kind: 'error' } | { kind: 'unsubscribe'; at: number };

interface Call {
  readonly items: Req[];
  readonly signal: AbortSignal;
  /** The call delivered an array, completed or errored: it owes nothing more. */
  finished: boolean;
}

const SOURCE_ERROR = new Error('source failed');

function abortReason(id: number): Error {
  return Object.assign(new Error(`request ${id} aborted`), { name: 'AbortError', requestId: id });
}

function run(requests: Req[], options: Options, behaviours: Behaviour[], ending: Ending) {
  const testScheduler = createTestScheduler();
  const tracked = trackTimers(testScheduler);
  const stats = createBatchStats({ scheduler: testScheduler });
  const results: { result: BatchResult<Req, Echo>; at: number }[] = [];
  const calls: Call[] = [];
  let terminal: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;
  let pendingAfterTeardown = -1;
  const { durationMs, ...pipelineOptions } = options;

  testScheduler.run(() => {
    const controllers = new Map(requests.map((r) => [r.id, new AbortController()]));
    for (const r of requests) {
      if (r.abortAt !== undefined) testScheduler.schedule(() => controllers.get(r.id)!.abort(abortReason(r.id)), r.abortAt);
    }

    const execute = (items: Req[], context: { signal: AbortSignal }): Observable<Echo[] | StreamedResult<Echo>> => {
      const behaviour = behaviours[calls.length % behaviours.length]!;
      const call: Call = { items, signal: context.signal, finished: false };
      calls.push(call);
      const echo = items.map((r): Echo => ({ id: r.id, key: r.key, scope: r.scope }));
      const later = timer(durationMs);
      const wait = later.pipe(ignoreElements());
      let output: Observable<Echo[] | StreamedResult<Echo> | number>;
      switch (behaviour) {
        case 'ok':
          output = later.pipe(map(() => echo));
          break;
        case 'throw':
          call.finished = true;
          throw new Error('sync failure');
        case 'error-later':
          output = concat(wait, throwError(() => new Error('async failure')));
          break;
        case 'wrong-length':
          output = later.pipe(map(() => [...echo, ...echo]));
          break;
        case 'non-array':
          output = later.pipe(map(() => 42));
          break;
        case 'slow':
          output = timer(options.processingTimeoutMs + 5).pipe(map(() => echo));
          break;
        case 'stream-partial':
          output = concat(wait, of(...echo.filter((_, i) => i % 2 === 0).map((value, k) => ({ index: k * 2, value }))));
          break;
        case 'stream-all':
          output = merge(...echo.map((value, index) => timer((index * 3) % 7).pipe(map(() => ({ index, value })))));
          break;
      }
      return watched(output as Observable<Echo[] | StreamedResult<Echo>>, call);
    };

    const arrivals = merge(...requests.map((r) => timer(r.at).pipe(map(() => r))));
    const lastArrival = Math.max(...requests.map((r) => r.at));
    const source = ending.kind === 'error' ? concat(arrivals, timer(lastArrival + 1).pipe(map(() => { throw SOURCE_ERROR; }))) : arrivals;

    const subscription = source
      .pipe(
        batchDedup<Req, Echo>({
          ...pipelineOptions,
          execute,
          key: (r) => String(r.key),
          scope: (r) => r.scope,
          priority: (r) => r.key,
          signal: (r) => controllers.get(r.id)!.signal,
          stats,
          scheduler: tracked.scheduler,
        }),
      )
      .subscribe({
        next: (result) => results.push({ result, at: testScheduler.now() }),
        error: (error: unknown) => (terminal = { kind: 'error', error }),
        complete: () => (terminal = { kind: 'complete' }),
      });
    if (ending.kind === 'unsubscribe') {
      testScheduler.schedule(() => {
        subscription.unsubscribe();
        pendingAfterTeardown = tracked.pending();
      }, ending.at);
    }
  });
  return { results, calls, terminal, pendingAfterTeardown, livingTimers: tracked.pending(), stats: stats.snapshot() };
}

/**
 * Marks the call finished once it has delivered everything it owes: the library stops listening, without
 * aborting, after an array or after the last item of a stream, so those calls are not expected to be aborted.
 */
function watched<V>(output: Observable<V>, call: Call): Observable<V> {
  const streamed = new Set<number>();
  return new Observable<V>((subscriber) =>
    output.subscribe({
      next: (value) => {
        if (Array.isArray(value)) call.finished = true;
        else streamed.add((value as { index: number }).index);
        if (streamed.size === call.items.length) call.finished = true;
        subscriber.next(value);
      },
      error: (error: unknown) => {
        call.finished = true;
        subscriber.error(error);
      },
      complete: () => {
        call.finished = true;
        subscriber.complete();
      },
    }),
  );
}

function expectOwnAnswers(results: { result: BatchResult<Req, Echo> }[]): void {
  for (const { result } of results) {
    if (result.status === 'rejected') {
      expect(result.error).toBeInstanceOf(Error);
      continue;
    }
    const echo = result.value!;
    // Its own answer: same key and the same scope (never another tenant's), and the very request unless shared.
    expect(echo.key).toBe(result.request.key);
    expect(echo.scope).toBe(result.request.scope);
    if (!result.deduplicated) expect(echo.id).toBe(result.request.id);
  }
}

describe('batchDedup reliability under random interleavings', () => {
  it('answers every request exactly once, with its own result, and leaves no timer behind', () => {
    fc.assert(
      fc.property(
        requestsArb,
        optionsArb,
        behavioursArb,
        fc.oneof(fc.constant<Ending>({ kind: 'complete' }), fc.constant<Ending>({ kind: 'error' })),
        (requests, options, behaviours, ending) => {
          const { results, calls, terminal, livingTimers, stats } = run(requests, options, behaviours, ending);
          expect(results.map(({ result }) => result.request.id).sort((a, b) => a - b)).toEqual(requests.map((r) => r.id));
          expectOwnAnswers(results);
          // A source error is forwarded, and only after every request has its result.
          expect(terminal).toEqual(ending.kind === 'error' ? { kind: 'error', error: SOURCE_ERROR } : { kind: 'complete' });
          for (const items of calls.map((c) => c.items)) {
            expect(new Set(items.map((r) => `${r.scope}/${r.key}`)).size).toBe(items.length);
          }
          const sent = new Set(calls.flatMap((c) => c.items.map((r) => r.id)));
          for (const { result } of results) {
            // A request withdrawn by its abort or its queue deadline never reached the backend.
            const withdrawn =
              result.batchId === 0 &&
              ((result.error as { requestId?: number } | undefined)?.requestId === result.request.id ||
                result.error instanceof BatchTimeoutError);
            if (withdrawn) expect(sent.has(result.request.id)).toBe(false);
          }
          expect(stats.completed).toBe(requests.length);
          expect(stats.queueDepth).toBe(0);
          expect(stats.inFlight).toBe(0);
          expect(livingTimers).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('after unsubscription at any moment: no result, no live timer, every unfinished backend call aborted', () => {
    fc.assert(
      fc.property(requestsArb, optionsArb, behavioursArb, endingArb, (requests, options, behaviours, ending) => {
        const { results, calls, pendingAfterTeardown, livingTimers } = run(requests, options, behaviours, ending);
        const ids = results.map(({ result }) => result.request.id);
        expect(new Set(ids).size).toBe(ids.length); // never two results for one request
        expectOwnAnswers(results);
        expect(livingTimers).toBe(0);
        if (ending.kind !== 'unsubscribe') return;
        for (const { at } of results) expect(at).toBeLessThanOrEqual(ending.at);
        expect(pendingAfterTeardown).toBe(0);
        for (const call of calls) expect(call.finished || call.signal.aborted).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
