/**
 * Reliability properties of `batchDedup` over random interleavings of arrivals, backend completions, backends
 * that misbehave in every way the contract names (sync throw, async error, too few or too many results,
 * non-arrays, streams that stop early, repeat an index, give a bad one, or an item with neither value nor error,
 * error midway, and calls that never settle), processing and queue timeouts of any size (small, 2^31 - 1, 2^31,
 * 3e9, Infinity), per-request aborts, user functions (`key`, `scope`, `priority`, `signal`) that throw or return
 * the wrong type, keys and scopes from the hostile domain of docs/keys.md, unsubscription at a random moment and
 * a source that errors; and the same pipeline on a wall clock that steps back and forward, with the adaptive
 * window and the result cache.
 *
 * Virtual time only: every run is a `TestScheduler` run. The library's timers go through `hostClock`, which
 * fires any delay above 2^31 - 1 ms after 1 ms as `setTimeout` does, so a long timer the library forgot to
 * chain fires early and shows; `trackTimers` counts the library's live timers, read at the very moment the
 * stream completes, errors or is unsubscribed.
 */
import fc from 'fast-check';
import { finalize, map, merge, type Observable, of, take, timer, type ObservableInput } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, BatchTimeoutError, createBatchStats, type BatchResult, type BatchStats, type DedupKey, type DedupScope, type ExecuteContext, type StreamedResult } from '../src/index.js';
import { createTestScheduler, trackTimers } from '../src/testing/index.js';
import {
  backendCall,
  clockStartArb,
  clockStepArb,
  durationArb,
  expectSaneStats,
  hostClock,
  keyPoolsArb,
  NEVER_SETTLING,
  OBSERVABLE_KINDS,
  reordered,
  sameKey,
  sameScope,
  type BackendKind,
  arrivalsOf,
  watchedCall,
} from './support.js';

type UserFn = 'key' | 'scope' | 'priority' | 'signal' | 'text';

/**
 * How one request breaks one user function: it throws, or returns `WRONG_RETURNS[fn][wrong]`. Plain data, so
 * that the rest of the request (which similarity dedup compares exactly) holds nothing it cannot encode.
 */
type Fault = { readonly fn: UserFn; readonly throws: true } | { readonly fn: UserFn; readonly throws: false; readonly wrong: number };

interface Req {
  readonly id: number;
  readonly at: number;
  readonly key: DedupKey;
  readonly scope: DedupScope;
  readonly priority: number;
  /** When its caller aborts it, if ever. */
  readonly abortAt: number | undefined;
  readonly fault: Fault | undefined;
}

/** What the backend answers for an item: the item itself, and when (on the pipeline's clock) it answered. */
interface Echo {
  readonly item: Req;
  readonly answeredAt: number;
}

const WRONG_RETURNS: Record<UserFn, readonly unknown[]> = {
  key: [Symbol.for('key'), Number.NaN, new Map(), undefined],
  scope: [null, Number.NaN, {}, true],
  priority: ['high', Number.NaN, undefined],
  signal: ['abort', {}, { aborted: false }, 0],
  text: [42, undefined, null, {}],
};

const faultArb: fc.Arbitrary<Fault | undefined> = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<UserFn>('key', 'scope', 'priority', 'signal', 'text').chain((fn) =>
      fc.oneof(fc.constant<Fault>({ fn, throws: true }), fc.nat(WRONG_RETURNS[fn].length - 1).map((wrong): Fault => ({ fn, throws: false, wrong }))),
    ),
  },
);

const requestsArb = fc
  .record({
    pools: keyPoolsArb(),
    picks: fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 100 }),
        key: fc.nat(),
        copy: fc.boolean(),
        scope: fc.nat(),
        priority: fc.integer({ min: -2, max: 2 }),
        abortAt: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 120 }) }),
        fault: faultArb,
      }),
      { minLength: 1, maxLength: 30 },
    ),
  })
  .map(({ pools, picks }) =>
    picks.map(({ key, copy, scope, ...r }, id): Req => {
      const pooled = pools.keys[key % pools.keys.length] as DedupKey;
      return { ...r, id, key: copy ? reordered(pooled) : pooled, scope: pools.scopes[scope % pools.scopes.length] };
    }),
  );

const optionsArb = fc
  .record({
    windowMs: durationArb(0, 15),
    maxSize: fc.integer({ min: 1, max: 6 }),
    minSizeRaw: fc.integer({ min: 1, max: 6 }),
    maxWaitMs: durationArb(0, 30),
    concurrency: fc.integer({ min: 1, max: 3 }),
    processingTimeoutMs: durationArb(1, 25),
    onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
    requestTimeoutMs: fc.option(durationArb(1, 40), { nil: undefined }),
    dedupInFlight: fc.boolean(),
    enablePriorities: fc.boolean(),
    // Similarity dedup with a synchronous embedder: every text is 'same', and the rest of a request holds its
    // id, so it merges nothing by similarity; an embedder that fails falls back to exact dedup by key.
    dedupStrategy: fc.constantFrom('exact' as const, 'exact' as const, 'exact' as const, 'embedding' as const, 'hybrid' as const),
    embedder: fc.constantFrom('good', 'throws', 'nan', 'wrong-count'),
    durationMs: fc.integer({ min: 0, max: 12 }),
  })
  .map(({ minSizeRaw, ...o }) => ({ ...o, minSize: Math.min(minSizeRaw, o.maxSize) }));

type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

const behavioursArb = fc.array(fc.oneof({ weight: 4, arbitrary: fc.constant<BackendKind>('ok') }, { weight: 6, arbitrary: fc.constantFrom<BackendKind>(...OBSERVABLE_KINDS) }), {
  minLength: 1,
  maxLength: 10,
});

/** Also a backend that answers synchronously, with an array (the results arrive inside `execute`'s call). */
const behavioursOrSyncArb = fc.array(fc.constantFrom<BackendKind>('ok', 'array', 'throw', ...OBSERVABLE_KINDS), { minLength: 1, maxLength: 10 });

/**
 * How the run ends: the source completes or errors after its last arrival, the subscriber leaves at a time, or it
 * leaves from inside its `count`-th result (`take(count)`), which may be in the middle of a batch answered
 * synchronously, before the operator's teardown is registered.
 */
type Ending = { kind: 'complete' } | { kind: 'error' } | { kind: 'unsubscribe'; at: number } | { kind: 'take'; count: number; synchronousStart: number };
const endingArb = fc.oneof(
  fc.constant<Ending>({ kind: 'complete' }),
  fc.constant<Ending>({ kind: 'error' }),
  fc.integer({ min: 0, max: 150 }).map((at): Ending => ({ kind: 'unsubscribe', at })),
  // `synchronousStart`: so many of the first requests arrive at 0 and are sent synchronously as the pipeline is
  // subscribed, as `of(...)` or a replayed buffer would: a subscriber can then leave (inside a batch answered
  // synchronously) before the operator's teardown exists.
  fc.record({ count: fc.integer({ min: 1, max: 6 }), synchronousStart: fc.integer({ min: 0, max: 6 }) }).map((e): Ending => ({ kind: 'take', ...e })),
);

interface Call {
  readonly items: Req[];
  readonly signal: AbortSignal;
  readonly individual: boolean;
  /** Virtual time, and the place in the test's own log of events. */
  readonly at: number;
  readonly seq: number;
  /** The call delivered an array, completed or errored: it owes nothing more. */
  finished: boolean;
}

const SOURCE_ERROR = new Error('source failed');

function abortReason(id: number): Error {
  return Object.assign(new Error(`request ${id} aborted`), { name: 'AbortError', requestId: id });
}

/** What a request's user function does: its fault, or its honest answer. */
function call<V>(r: Req, fn: UserFn, honest: () => V): V {
  const fault = r.fault;
  if (fault?.fn !== fn) return honest();
  if (fault.throws) throw new Error(`${fn} failed for request ${r.id}`);
  return WRONG_RETURNS[fn][fault.wrong] as V;
}

/**
 * The fault that surely takes effect: a function is called only where it is needed, `priority` with priorities
 * on, `text` with a similarity strategy, `key` with exact dedup. Where a function may or may not be called
 * (`key` under 'embedding' is needed only by in-flight dedup or a fallback, `text` under 'hybrid' only for the
 * first of each exact group, and neither `text` nor `priority` for a request that joins one in flight), the
 * request may go either way: `brokenFn` says undefined, `mayBreak` the name.
 */
function brokenFn(r: Req, options: Options): UserFn | undefined {
  const fn = r.fault?.fn;
  // (A request that joins an equal one in flight needs neither a place in the queue nor dedup.)
  if (fn === 'priority' && (!options.enablePriorities || options.dedupInFlight)) return undefined;
  if (fn === 'text' && (options.dedupStrategy !== 'embedding' || options.dedupInFlight)) return undefined;
  if (fn === 'key' && options.dedupStrategy === 'embedding') return undefined;
  return fn;
}
function mayBreak(r: Req, options: Options): UserFn | undefined {
  const fn = r.fault?.fn;
  if (fn === 'text' && options.dedupStrategy !== 'exact') return fn;
  if (fn === 'key' && options.dedupStrategy === 'embedding') return fn;
  if (fn === 'priority' && options.enablePriorities) return fn;
  return brokenFn(r, options);
}

/** A backend never left to hang where nothing would end it: without a finite processing timeout it answers. */
function boundedKind(kind: BackendKind, options: Options): BackendKind {
  return NEVER_SETTLING.has(kind) && !Number.isFinite(options.processingTimeoutMs) ? 'ok' : kind;
}

function run(requests: Req[], options: Options, behaviours: BackendKind[], ending: Ending) {
  const testScheduler = createTestScheduler();
  const tracked = trackTimers(hostClock(testScheduler).scheduler);
  const stats = createBatchStats({ scheduler: testScheduler });
  const results: { result: BatchResult<Req, Echo>; at: number }[] = [];
  const calls: Call[] = [];
  /** The test's own log: when each request was aborted, by place in the sequence of events. */
  const abortedSeq = new Map<number, number>();
  let seq = 0;
  let terminal: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;
  let pendingAtEnd = -1;
  let pendingAfterTeardown = -1;
  /** For a `take` ending: the place in the log of the result the subscriber left in. */
  let leftAtSeq = -1;
  const { durationMs, embedder, ...pipelineOptions } = options;

  testScheduler.run(() => {
    const controllers = new Map(requests.map((r) => [r.id, new AbortController()]));
    for (const r of requests) {
      if (r.abortAt === undefined) continue;
      testScheduler.schedule(() => {
        abortedSeq.set(r.id, seq++);
        controllers.get(r.id)!.abort(abortReason(r.id));
      }, r.abortAt);
    }

    const execute = (items: Req[], context: ExecuteContext): ObservableInput<Echo[] | StreamedResult<Echo>> => {
      const kind = boundedKind(behaviours[calls.length % behaviours.length]!, options);
      const c: Call = { items, signal: context.signal, individual: context.individual, at: testScheduler.now(), seq: seq++, finished: false };
      calls.push(c);
      if (kind === 'throw') c.finished = true;
      const answers: Echo[] = items.map((item) => ({ item, answeredAt: Number.NaN }));
      const made = backendCall<Echo>(kind, answers, testScheduler, durationMs, options.processingTimeoutMs + 5);
      // An array ('array') is answered synchronously, as from inside the call: `of` keeps it so and lets it be watched.
      const output = (Array.isArray(made) ? of(made) : made) as Observable<unknown>;
      // Each answer says when it was made: stamped as it comes out of the backend, on the pipeline's clock.
      const stamped = output.pipe(
        map((value) =>
          Array.isArray(value)
            ? value.map(stamp)
            : typeof value === 'object' && value !== null && 'value' in value
              ? { ...value, value: stamp((value as { value: unknown }).value) }
              : value,
        ),
      );
      return watchedCall(stamped as Observable<Echo[] | StreamedResult<Echo>>, c);
    };
    const stamp = (e: unknown) => (typeof e === 'object' && e !== null && 'item' in e ? { item: (e as Echo).item, answeredAt: tracked.scheduler.now() } : e);

    const source = arrivalsOf(requests, ending.kind === 'take' && ending.synchronousStart > 0, ending.kind === 'error' ? SOURCE_ERROR : undefined);

    const subscription = source
      .pipe(
        batchDedup<Req, Echo>({
          ...pipelineOptions,
          execute,
          key: (r) => call(r, 'key', () => r.key),
          scope: (r) => call(r, 'scope', () => r.scope),
          ...(pipelineOptions.enablePriorities && { priority: (r: Req) => call(r, 'priority', () => r.priority) }),
          signal: (r) => call(r, 'signal', () => controllers.get(r.id)!.signal),
          text: (r) => call(r, 'text', () => 'same'),
          embed: (texts) => {
            if (embedder === 'throws') throw new Error('embed failed');
            return texts.map(() => (embedder === 'nan' ? [Number.NaN, 0] : [1, 0])).concat(embedder === 'wrong-count' ? [[1, 0]] : []);
          },
          embedCacheSize: 0,
          mergeGuard: false,
          dedupThreshold: 0.5,
          stats,
          scheduler: tracked.scheduler,
        }),
        (results$) =>
          ending.kind === 'take'
            ? results$.pipe(
                take(ending.count),
                // Runs after the pipeline's teardown (finalizers run in the order they were added).
                finalize(() => {
                  pendingAfterTeardown = tracked.pending();
                }),
              )
            : results$,
      )
      .subscribe({
        next: (result) => {
          results.push({ result, at: testScheduler.now() });
          if (ending.kind === 'take' && results.length === ending.count) leftAtSeq = seq++;
        },
        error: (error: unknown) => {
          pendingAtEnd = tracked.pending();
          terminal = { kind: 'error', error };
        },
        complete: () => {
          pendingAtEnd = tracked.pending();
          terminal = { kind: 'complete' };
        },
      });
    if (ending.kind === 'unsubscribe') {
      testScheduler.schedule(() => {
        subscription.unsubscribe();
        pendingAfterTeardown = tracked.pending();
      }, ending.at);
    }
  });
  return { results, calls, abortedSeq, terminal, pendingAtEnd, pendingAfterTeardown, leftAtSeq, stats: stats.snapshot() };
}

const show = (r: Req) => `request ${r.id} (key ${fc.stringify(r.key)}, scope ${fc.stringify(r.scope)})`;

/** Each result is its own: an answer for an equal key in an equal scope, or an error; a broken function named. */
function expectOwnAnswers(results: { result: BatchResult<Req, Echo> }[], options: Options): void {
  for (const { result } of results) {
    const own = result.request;
    const broken = brokenFn(own, options);
    if (result.status === 'rejected') {
      expect(result.error).toBeInstanceOf(Error);
      // No timeout fires early: the request waited at least the limit the error names (a request that joined
      // an execution in flight shares its outcome, so that execution's time is what counts).
      const joinedInFlight = result.deduplicated && /processingTimeoutMs/.test(String(result.error));
      if (result.error instanceof BatchTimeoutError && !joinedInFlight) {
        expect(result.latencyMs, `${show(own)}: ${String(result.error)}`).toBeGreaterThanOrEqual(result.error.timeoutMs);
      }
      const may = mayBreak(own, options);
      if (may && result.error instanceof TypeError && /\(request\)/.test(result.error.message)) expect(result.error.message).toContain(`${may}(request)`);
      continue;
    }
    expect(broken, `${show(own)} was answered though its ${broken} is broken`).toBeUndefined();
    const answeredFor = result.value.item;
    // Its own answer: the same key and the same scope (never another tenant's), and the very request unless shared.
    expect(sameScope(answeredFor.scope, own.scope) && sameKey(answeredFor.key, own.key), `${show(own)} answered for ${show(answeredFor)}`).toBe(true);
    if (!result.deduplicated) expect(answeredFor.id).toBe(own.id);
  }
}

/**
 * Judged from the test's own schedule, not from what the library reports: no request reaches the backend
 * after its caller aborted it, or after its queue deadline passed, or with a user function broken; a call
 * never holds two equal requests (exact and hybrid dedup); a request is sent once (an 'individual' retry aside).
 */
function expectSentOnlyWhenAllowed(requests: Req[], calls: Call[], abortedSeq: Map<number, number>, options: Options): void {
  const firstCall = new Map<number, Call>();
  for (const c of calls) {
    for (const [i, a] of c.items.entries()) {
      // ('embedding' compares the rest of the request, here its id, not the key.)
      for (const b of options.dedupStrategy === 'embedding' ? [] : c.items.slice(i + 1)) {
        expect(sameScope(a.scope, b.scope) && sameKey(a.key, b.key), `one call had ${show(a)} and ${show(b)}`).toBe(false);
      }
      if (!c.individual) expect(firstCall.has(a.id), `${show(a)} sent twice`).toBe(false);
      if (!firstCall.has(a.id)) firstCall.set(a.id, c);
    }
  }
  for (const r of requests) {
    const sent = firstCall.get(r.id);
    if (!sent) continue;
    expect(brokenFn(r, options), `${show(r)} was sent though its ${brokenFn(r, options)} is broken`).toBeUndefined();
    const aborted = abortedSeq.get(r.id);
    expect(aborted === undefined || aborted > sent.seq, `${show(r)} sent at ${sent.at} after its abort at ${r.abortAt}`).toBe(true);
    if (options.requestTimeoutMs !== undefined) {
      expect(sent.at, `${show(r)} sent after its queue deadline`).toBeLessThanOrEqual(r.at + options.requestTimeoutMs);
    }
  }
}

/**
 * What each caller got, judged from the test's own schedule and the calls the backend saw, not from what the
 * library reports: a fulfilled answer came from a backend call made before the caller aborted and before its
 * queue deadline passed (for a request that joined an equal one, waiting or in flight, the call that answered it
 * is the one holding the item it was answered with: a follower whose abort or deadline is ignored shows here,
 * though it never reaches the backend itself); an abort reason answers only its own request, one that did
 * abort, at the moment it aborted (or arrived, if it came aborted); a queue deadline answers at the deadline.
 */
function expectAnswersFollowSchedule(
  results: { result: BatchResult<Req, Echo>; at: number }[],
  calls: Call[],
  abortedSeq: Map<number, number>,
  options: Options,
): void {
  const firstCall = new Map<number, Call>();
  for (const c of calls) for (const item of c.items) if (!firstCall.has(item.id)) firstCall.set(item.id, c);
  for (const { result, at } of results) {
    const r = result.request;
    const aborted = abortedSeq.get(r.id);
    if (result.status === 'fulfilled') {
      const from = firstCall.get(result.value.item.id);
      expect(from, `${show(r)} answered with ${show(result.value.item)}, which no backend call held`).toBeDefined();
      expect(aborted === undefined || from!.seq < aborted, `${show(r)} aborted at ${r.abortAt}, answered from a call made at ${from!.at}`).toBe(true);
      if (options.requestTimeoutMs !== undefined) {
        expect(from!.at, `${show(r)} answered from a call made after its queue deadline`).toBeLessThanOrEqual(r.at + options.requestTimeoutMs);
      }
      continue;
    }
    const error = result.error;
    if (error instanceof Error && error.name === 'AbortError') {
      expect((error as Error & { requestId?: number }).requestId, `${show(r)} answered with another request's abort`).toBe(r.id);
      expect(aborted, `${show(r)} answered with an abort that never happened`).toBeDefined();
      expect(at, `${show(r)} answered with its abort (at ${r.abortAt}) late`).toBe(Math.max(r.abortAt!, r.at));
    } else if (error instanceof BatchTimeoutError && /requestTimeoutMs/.test(error.message)) {
      expect(options.requestTimeoutMs).toBeDefined();
      expect(at, `${show(r)}: ${error.message}`).toBe(r.at + options.requestTimeoutMs!);
    }
  }
}

/**
 * The first batch is not formed before its window or `maxWaitMs` (whichever is shorter) has passed since the
 * first arrival, unless `maxSize` requests had arrived by then or the source had ended.
 */
function expectNoEarlyFirstBatch(requests: Req[], calls: Call[], options: Options): void {
  const first = calls[0];
  if (!first) return;
  const opened = Math.min(...requests.map((r) => r.at));
  const lastArrival = Math.max(...requests.map((r) => r.at));
  if (first.at >= opened + Math.min(options.windowMs, options.maxWaitMs) || first.at >= lastArrival) return;
  const arrived = requests.filter((r) => r.at <= first.at).length;
  expect(arrived, `first batch at ${first.at}, window opened at ${opened}`).toBeGreaterThanOrEqual(options.maxSize);
}

describe('batchDedup reliability under random interleavings', () => {
  it('answers every request exactly once, with its own result; no withdrawn request sent; no timer left when it completes', () => {
    fc.assert(
      fc.property(
        requestsArb,
        optionsArb,
        behavioursArb,
        fc.oneof(fc.constant<Ending>({ kind: 'complete' }), fc.constant<Ending>({ kind: 'error' })),
        (requests, options, behaviours, ending) => {
          const { results, calls, abortedSeq, terminal, pendingAtEnd, stats } = run(requests, options, behaviours, ending);
          expect(results.map(({ result }) => result.request.id).sort((a, b) => a - b)).toEqual(requests.map((r) => r.id));
          expectOwnAnswers(results, options);
          // A source error is forwarded, and only after every request has its result.
          expect(terminal).toEqual(ending.kind === 'error' ? { kind: 'error', error: SOURCE_ERROR } : { kind: 'complete' });
          expectSentOnlyWhenAllowed(requests, calls, abortedSeq, options);
          expectAnswersFollowSchedule(results, calls, abortedSeq, options);
          expectNoEarlyFirstBatch(requests, calls, options);
          // A request aborted before it arrived is refused with its own reason.
          for (const { result } of results) {
            const r = result.request;
            if (r.abortAt !== undefined && r.abortAt <= r.at && brokenFn(r, options) !== 'signal') {
              expect(result.error, show(r)).toEqual(abortReason(r.id));
            }
          }
          expect(stats.completed).toBe(requests.length);
          expect(stats.queueDepth).toBe(0);
          expect(stats.inFlight).toBe(0);
          expectSaneStats(stats);
          // Read in the very moment the stream ended: a timer left behind has not fired yet.
          expect(pendingAtEnd).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('after unsubscription at any moment: no result, no live timer, every unfinished backend call aborted', () => {
    fc.assert(
      fc.property(requestsArb, optionsArb, behavioursOrSyncArb, endingArb, (generated, options, behaviours, ending) => {
        const requests = ending.kind === 'take' ? generated.map((r, i) => (i < ending.synchronousStart ? { ...r, at: 0 } : r)) : generated;
        const { results, calls, abortedSeq, pendingAtEnd, pendingAfterTeardown, leftAtSeq, terminal } = run(requests, options, behaviours, ending);
        const ids = results.map(({ result }) => result.request.id);
        expect(new Set(ids).size).toBe(ids.length); // never two results for one request
        expectOwnAnswers(results, options);
        expectSentOnlyWhenAllowed(requests, calls, abortedSeq, options);
        expectAnswersFollowSchedule(results, calls, abortedSeq, options);
        if (ending.kind === 'take') {
          expect(results.length).toBeLessThanOrEqual(ending.count);
          if (leftAtSeq < 0) return; // fewer results than `count`: the run ended as 'complete'
          // No backend call starts after the subscriber left, not even later in the same synchronous flush.
          for (const c of calls) expect(c.seq).toBeLessThan(leftAtSeq);
          expect(pendingAfterTeardown).toBe(0);
          for (const c of calls) expect(c.finished || c.signal.aborted).toBe(true);
          return;
        }
        if (terminal) expect(pendingAtEnd).toBe(0);
        if (ending.kind !== 'unsubscribe') return;
        for (const { at } of results) expect(at).toBeLessThanOrEqual(ending.at);
        // Read in the very moment of unsubscription (after the run every timer has fired, leaked or not).
        expect(pendingAfterTeardown).toBe(0);
        for (const c of calls) expect(c.finished || c.signal.aborted).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('batchDedup on a wall clock that steps back and forward', () => {
  const scenarioArb = fc.record({
    requests: requestsArb.map((rs) => rs.map((r) => ({ ...r, abortAt: undefined, fault: undefined }))),
    start: clockStartArb,
    /** Steps of the clock, each at a moment within the arrivals' span or just after. */
    steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 130 }), clockStepArb), { maxLength: 6 }),
    adaptive: fc.boolean(),
    windowMs: fc.integer({ min: 0, max: 15 }),
    maxSize: fc.integer({ min: 1, max: 6 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
    processingTimeoutMs: fc.integer({ min: 1, max: 30 }),
    dedupInFlight: fc.boolean(),
    resultCache: fc.option(fc.record({ ttlMs: fc.integer({ min: 1, max: 80 }) }), { nil: undefined }),
    durationMs: fc.integer({ min: 0, max: 12 }),
    behaviours: fc.array(fc.oneof({ weight: 6, arbitrary: fc.constant<BackendKind>('ok') }, { weight: 4, arbitrary: fc.constantFrom<BackendKind>(...OBSERVABLE_KINDS) }), {
      minLength: 1,
      maxLength: 6,
    }),
  });

  it('answers every request once, its own answer; latencies >= 0; stats finite; no cached answer older than ttlMs', () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const testScheduler = createTestScheduler();
        const clock = hostClock(testScheduler, sc.start);
        const tracked = trackTimers(clock.scheduler);
        const stats = createBatchStats({ scheduler: clock.scheduler });
        type Stamped = Echo & { readonly answeredAtInner: number };
        const results: BatchResult<Req, Stamped>[] = [];
        const snapshots: BatchStats[] = [];
        /** When each request arrived: on the pipeline's clock, and in virtual time. */
        const arrivedAt = new Map<number, { clock: number; inner: number }>();
        /** Virtual times of steps back. */
        const stepsBack: number[] = [];
        let completed = false;
        let pendingAtEnd = -1;
        let calls = 0;
        testScheduler.run(() => {
          for (const [at, ms] of sc.steps) {
            testScheduler.schedule(() => {
              clock.step(ms);
              if (ms < 0) stepsBack.push(testScheduler.now());
              snapshots.push(stats.snapshot());
            }, at);
          }
          const stamp = (e: unknown) =>
            typeof e === 'object' && e !== null && 'item' in e ? { item: (e as Echo).item, answeredAt: clock.scheduler.now(), answeredAtInner: testScheduler.now() } : e;
          merge(...sc.requests.map((r) => timer(r.at).pipe(map(() => {
            arrivedAt.set(r.id, { clock: clock.scheduler.now(), inner: testScheduler.now() });
            return r;
          }))))
            .pipe(
              batchDedup<Req, Stamped>({
                adaptive: sc.adaptive,
                windowMs: sc.windowMs,
                maxSize: sc.maxSize,
                concurrency: sc.concurrency,
                processingTimeoutMs: sc.processingTimeoutMs,
                dedupInFlight: sc.dedupInFlight,
                resultCache: sc.resultCache,
                key: (r) => r.key,
                scope: (r) => r.scope,
                stats,
                scheduler: tracked.scheduler,
                execute: (items) => {
                  const kind = sc.behaviours[calls++ % sc.behaviours.length]!;
                  const answers = items.map((item) => ({ item, answeredAt: Number.NaN }));
                  const output = backendCall(kind, answers, testScheduler, sc.durationMs, sc.processingTimeoutMs + 5) as Observable<unknown>;
                  return output.pipe(
                    map((value) =>
                      Array.isArray(value)
                        ? value.map(stamp)
                        : typeof value === 'object' && value !== null && 'value' in value
                          ? { ...value, value: stamp((value as { value: unknown }).value) }
                          : value,
                    ),
                  ) as Observable<Stamped[]>;
                },
              }),
            )
            .subscribe({
              next: (r) => {
                results.push(r);
                snapshots.push(stats.snapshot());
              },
              complete: () => {
                pendingAtEnd = tracked.pending();
                completed = true;
              },
            });
        });
        expect(completed).toBe(true);
        expect(pendingAtEnd).toBe(0);
        expect(results.map((r) => r.request.id).sort((a, b) => a - b)).toEqual(sc.requests.map((r) => r.id));
        for (const result of results) {
          const own = result.request;
          expect(Number.isFinite(result.latencyMs) && result.latencyMs >= 0, `latencyMs = ${result.latencyMs}`).toBe(true);
          if (result.status !== 'fulfilled') continue;
          const answeredFor = result.value.item;
          expect(sameScope(answeredFor.scope, own.scope) && sameKey(answeredFor.key, own.key), `${show(own)} answered for ${show(answeredFor)}`).toBe(true);
          if (result.batchId !== 0) continue;
          // From the cache: stored when the backend answered; served at arrival, while younger than ttlMs on the
          // clock (an entry from the clock's future, after a step back, is never served) ...
          const ttlMs = sc.resultCache!.ttlMs;
          const arrival = arrivedAt.get(own.id)!;
          const age = arrival.clock - result.value.answeredAt;
          expect(age >= 0 && age < ttlMs, `${show(own)} served a cached answer aged ${age} ms on the clock (ttlMs ${ttlMs})`).toBe(true);
          // ... and in virtual time too, unless the clock stepped back in between.
          const stored = result.value.answeredAtInner;
          if (!stepsBack.some((t) => t >= stored && t <= arrival.inner)) expect(arrival.inner - stored).toBeLessThan(ttlMs);
        }
        for (const snapshot of [...snapshots, stats.snapshot()]) expectSaneStats(snapshot);
      }),
      { numRuns: 200 },
    );
  });
});
