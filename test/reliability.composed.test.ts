/**
 * The composed pipeline, `bufferWindow` -> `dedupBy` -> `fanOut`, under random interleavings: the same promises
 * test/reliability.properties.test.ts holds the fused `batchDedup` to, for users who wire the three operators
 * themselves. Keys and scopes are numbers, strings, arrays and objects (equal ones built apart); backends answer
 * well, badly, late, synchronously or never; the run ends by completion, a source error, an unsubscription at
 * any moment, or a `take(n)` that leaves inside a result, with requests sent synchronously at subscription.
 */
import fc from 'fast-check';
import { finalize, map, type Observable, of, take, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { bufferWindow, dedupBy, fanOut, type BatchResult, type DedupKey, type DedupScope, type ExecuteContext } from '../src/index.js';
import { createTestScheduler, trackTimers } from '../src/testing/index.js';
import { arrivalsOf, backendCall, durationArb, hostClock, keyPoolsArb, NEVER_SETTLING, OBSERVABLE_KINDS, reordered, sameKey, sameScope, type BackendKind, watchedCall } from './support.js';

interface Req {
  readonly id: number;
  readonly at: number;
  readonly key: DedupKey;
  readonly scope: DedupScope;
}

interface Echo {
  readonly item: Req;
}

const requestsArb = fc
  .record({
    pools: keyPoolsArb(),
    picks: fc.array(fc.record({ at: fc.integer({ min: 0, max: 60 }), key: fc.nat(), copy: fc.boolean(), scope: fc.nat() }), { minLength: 1, maxLength: 24 }),
  })
  .map(({ pools, picks }) =>
    picks.map(({ key, copy, scope, at }, id): Req => {
      const pooled = pools.keys[key % pools.keys.length] as DedupKey;
      return { id, at, key: copy ? reordered(pooled) : pooled, scope: pools.scopes[scope % pools.scopes.length] };
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
    durationMs: fc.integer({ min: 0, max: 12 }),
  })
  .map(({ minSizeRaw, ...o }) => ({ ...o, minSize: Math.min(minSizeRaw, o.maxSize) }));
type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

/** The observable kinds, and a backend that answers synchronously with an array. */
const behavioursArb = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<BackendKind>('ok', 'array', 'throw') },
    { weight: 2, arbitrary: fc.constantFrom<BackendKind>(...OBSERVABLE_KINDS) },
  ),
  { minLength: 1, maxLength: 10 },
);

/** `take`: leaves inside its `count`-th result; its first `synchronousStart` requests arrive at 0, synchronously. */
type Ending = { kind: 'complete' } | { kind: 'error' } | { kind: 'unsubscribe'; at: number } | { kind: 'take'; count: number; synchronousStart: number };
const endingArb = fc.oneof(
  fc.constant<Ending>({ kind: 'complete' }),
  fc.constant<Ending>({ kind: 'error' }),
  fc.integer({ min: 0, max: 100 }).map((at): Ending => ({ kind: 'unsubscribe', at })),
  fc.record({ count: fc.integer({ min: 1, max: 6 }), synchronousStart: fc.integer({ min: 0, max: 6 }) }).map((e): Ending => ({ kind: 'take', ...e })),
);

interface Call {
  readonly items: readonly Req[];
  readonly signal: AbortSignal;
  readonly seq: number;
  finished: boolean;
}

const SOURCE_ERROR = new Error('source failed');

function run(requests: Req[], options: Options, behaviours: BackendKind[], ending: Ending) {
  const testScheduler = createTestScheduler();
  const tracked = trackTimers(hostClock(testScheduler).scheduler);
  const results: BatchResult<Req, Echo>[] = [];
  const calls: Call[] = [];
  let seq = 0;
  let leftAtSeq = -1;
  let terminal: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;
  let pendingAtEnd = -1;
  let pendingAfterTeardown = -1;
  const { durationMs, windowMs, maxSize, minSize, maxWaitMs, concurrency, processingTimeoutMs, onTimeout } = options;

  testScheduler.run(() => {
    const execute = (items: Req[], context: ExecuteContext) => {
      const picked = behaviours[calls.length % behaviours.length]!;
      // A backend that never answers is left only where a finite processing timeout ends it.
      const kind = NEVER_SETTLING.has(picked) && !Number.isFinite(processingTimeoutMs) ? 'ok' : picked;
      const c: Call = { items, signal: context.signal, seq: seq++, finished: false };
      calls.push(c);
      if (kind === 'throw') c.finished = true;
      const made = backendCall<Echo>(kind, items.map((item) => ({ item })), testScheduler, durationMs, processingTimeoutMs + 5);
      return watchedCall((Array.isArray(made) ? of(made) : made) as Observable<unknown>, c) as Observable<Echo[]>;
    };
    const source = arrivalsOf(requests, ending.kind === 'take' && ending.synchronousStart > 0, ending.kind === 'error' ? SOURCE_ERROR : undefined);
    const leaving: OperatorFunction<BatchResult<Req, Echo>, BatchResult<Req, Echo>> = (results$) =>
      ending.kind === 'take'
        ? results$.pipe(
            take(ending.count),
            finalize(() => {
              pendingAfterTeardown = tracked.pending();
            }),
          )
        : results$;
    const subscription = source
      .pipe(
        bufferWindow({ windowMs, maxSize, minSize, maxWaitMs, scheduler: tracked.scheduler }),
        dedupBy<Req>({ key: (r) => r.key, scope: (r) => r.scope }),
        fanOut<Req, Echo>({ execute, concurrency, processingTimeoutMs, onTimeout, scheduler: tracked.scheduler }),
        leaving,
      )
      .subscribe({
        next: (result) => {
          results.push(result);
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
        leftAtSeq = seq++;
        subscription.unsubscribe();
        pendingAfterTeardown = tracked.pending();
      }, ending.at);
    }
  });
  return { results, calls, leftAtSeq, terminal, pendingAtEnd, pendingAfterTeardown };
}

const show = (r: Req) => `request ${r.id} (key ${fc.stringify(r.key)}, scope ${fc.stringify(r.scope)})`;

/** Each fulfilled result answers an equal key in an equal scope, and the very request unless it was shared. */
function expectOwnAnswers(results: BatchResult<Req, Echo>[]): void {
  for (const result of results) {
    if (result.status === 'rejected') {
      expect(result.error).toBeInstanceOf(Error);
      continue;
    }
    const own = result.request;
    const answeredFor = result.value.item;
    expect(sameScope(answeredFor.scope, own.scope) && sameKey(answeredFor.key, own.key), `${show(own)} answered for ${show(answeredFor)}`).toBe(true);
    if (!result.deduplicated) expect(answeredFor.id).toBe(own.id);
  }
}

describe('bufferWindow -> dedupBy -> fanOut under random interleavings', () => {
  it('answers every request exactly once, with its own result; forwards the source error last; leaves no timer', () => {
    fc.assert(
      fc.property(requestsArb, optionsArb, behavioursArb, fc.constantFrom<Ending>({ kind: 'complete' }, { kind: 'error' }), (requests, options, behaviours, ending) => {
        const { results, terminal, pendingAtEnd } = run(requests, options, behaviours, ending);
        expect(results.map((r) => r.request.id).sort((a, b) => a - b)).toEqual(requests.map((r) => r.id));
        expectOwnAnswers(results);
        expect(terminal).toEqual(ending.kind === 'error' ? { kind: 'error', error: SOURCE_ERROR } : { kind: 'complete' });
        expect(pendingAtEnd).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('after the subscriber leaves (at a time, or inside a result): no result, no backend call, no timer; every unfinished call aborted', () => {
    fc.assert(
      fc.property(requestsArb, optionsArb, behavioursArb, endingArb, (generated, options, behaviours, ending) => {
        const requests = ending.kind === 'take' ? generated.map((r, i) => (i < ending.synchronousStart ? { ...r, at: 0 } : r)) : generated;
        const { results, calls, leftAtSeq, pendingAfterTeardown } = run(requests, options, behaviours, ending);
        const ids = results.map((r) => r.request.id);
        expect(new Set(ids).size).toBe(ids.length);
        expectOwnAnswers(results);
        if (ending.kind === 'take') expect(results.length).toBeLessThanOrEqual(ending.count);
        if (leftAtSeq < 0) return; // it never left: the run completed first
        for (const c of calls) expect(c.seq, 'a backend call after the subscriber left').toBeLessThan(leftAtSeq);
        expect(pendingAfterTeardown).toBe(0);
        for (const c of calls) expect(c.finished || c.signal.aborted).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
