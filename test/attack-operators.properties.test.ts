/**
 * The operators composed by hand under what test/reliability.composed.test.ts does not draw (H-ATK2): a
 * `createBatchFeedback()` channel shared by the collector and `fanOut`, `adaptiveBuffer` as well as `bufferWindow`,
 * a stage between the collector and dedup that drops batches (`filter`) or holds them (`delay`), similarity dedup
 * in `dedupBy` (`'embedding'`, `'hybrid'`) with embedders that answer late, never, twice, throw, reject with
 * non-Errors, or give NaN, zero, wrong-count or shared typed-array vectors, texts that are empty or lone
 * surrogates, and a wall clock that steps back and forth. Every text embeds to the same vector, so only the scope
 * and the rest of the request (its key) keep requests apart.
 *
 * Promises checked: every request that reaches dedup is answered exactly once, with its own result (same scope,
 * same key; the very request unless `deduplicated`); the source's ending comes last; no timer is left; after the
 * subscriber leaves, no backend or embedder call starts and every unfinished call is aborted; `fanOut` never runs
 * more calls at once than its concurrency (the channel's); a text is embedded once per run by an embedder that
 * answers well.
 */
import fc from 'fast-check';
import { delay, filter, finalize, Observable, of, Subject, take, tap, type MonoTypeOperatorFunction, type OperatorFunction, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  adaptiveBuffer,
  bufferWindow,
  createBatchFeedback,
  dedupBy,
  fanOut,
  type BatchResult,
  type DedupKey,
  type DedupScope,
  type Embedder,
  type ExecuteContext,
} from '../src/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { backendCall, clockStepArb, durationArb, hostClock, keyPoolsArb, NEVER_SETTLING, OBSERVABLE_KINDS, reordered, runMoments, sameKey, sameScope, type BackendKind, watchedCall } from './support.js';

/** A request: its text and its key, nothing else, so that two requests of one key differ only in their text. */
interface Req {
  readonly query: string;
  readonly key: DedupKey;
}
interface Meta {
  readonly id: number;
  readonly at: number;
  readonly scope: DedupScope;
}
interface Echo {
  readonly item: Req;
}

const TEXTS = ['alpha question', 'bravo question', '', '\uD800', 'alpha question?', 'order 1234', 'order 1243'];

const requestsArb = fc
  .record({
    pools: keyPoolsArb(),
    picks: fc.array(
      fc.record({ at: fc.integer({ min: 0, max: 60 }), key: fc.nat(), copy: fc.boolean(), scope: fc.nat(), text: fc.nat({ max: TEXTS.length - 1 }) }),
      { minLength: 1, maxLength: 20 },
    ),
  })
  .map(({ pools, picks }) =>
    picks.map(({ at, key, copy, scope, text }, id) => {
      const pooled = pools.keys[key % pools.keys.length] as DedupKey;
      return { id, at, text: TEXTS[text]!, key: copy ? reordered(pooled) : pooled, scope: pools.scopes[scope % pools.scopes.length] };
    }),
  );

const EMBED_KINDS = ['sync', 'async', 'typed-shared', 'twice', 'throws', 'rejects-null', 'rejects-string', 'nan', 'zero', 'wrong-count', 'never'] as const;
type EmbedKind = (typeof EMBED_KINDS)[number];
/** The kinds that answer well: each text is embedded once per run. */
const WELL: ReadonlySet<EmbedKind> = new Set<EmbedKind>(['sync', 'async', 'typed-shared', 'twice']);

const scenarioArb = fc
  .record({
    adaptive: fc.boolean(),
    withFeedback: fc.boolean(),
    windowMs: durationArb(0, 15),
    maxSize: fc.integer({ min: 1, max: 6 }),
    minSizeRaw: fc.integer({ min: 1, max: 6 }),
    maxWaitMs: durationArb(0, 30),
    concurrency: fc.integer({ min: 1, max: 3 }),
    processingTimeoutMs: durationArb(1, 25),
    onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
    durationMs: fc.integer({ min: 0, max: 12 }),
    middle: fc.oneof(
      fc.constant<{ kind: 'none' }>({ kind: 'none' }),
      fc.record({ kind: fc.constant('drop' as const), every: fc.integer({ min: 2, max: 3 }) }),
      fc.record({ kind: fc.constant('delay' as const), ms: fc.integer({ min: 0, max: 20 }) }),
    ),
    strategy: fc.constantFrom('exact' as const, 'embedding' as const, 'hybrid' as const),
    mergeGuard: fc.boolean(),
    embedKinds: fc.array(fc.constantFrom<EmbedKind>(...EMBED_KINDS), { minLength: 1, maxLength: 4 }),
    embedDelayMs: fc.integer({ min: 0, max: 10 }),
    embedTimeoutMs: durationArb(1, 20),
    embedCacheSize: fc.constantFrom(0, 4096),
    clockStart: fc.constantFrom(0, 1_700_000_000_000),
    steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 80 }), clockStepArb), { maxLength: 3 }),
  })
  .map(({ minSizeRaw, ...o }) => ({ ...o, minSize: Math.min(minSizeRaw, o.maxSize) }));
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

/** Backends whose every end the test sees (answered, failed) before the library can start another call. */
const WELL_FORMED: ReadonlySet<BackendKind> = new Set<BackendKind>(['ok', 'array', 'throw', 'stream-all', 'stream-error-null', 'error-later', 'defer-throws']);

const behavioursArb = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom<BackendKind>('ok', 'array', 'throw') },
    { weight: 2, arbitrary: fc.constantFrom<BackendKind>(...OBSERVABLE_KINDS) },
  ),
  { minLength: 1, maxLength: 8 },
);

type Ending = { kind: 'complete' } | { kind: 'error' } | { kind: 'unsubscribe'; at: number } | { kind: 'take'; count: number };
const finishingArb = fc.constantFrom<Ending>({ kind: 'complete' }, { kind: 'error' });
const leavingArb = fc.oneof(
  fc.integer({ min: 0, max: 100 }).map((at): Ending => ({ kind: 'unsubscribe', at })),
  fc.integer({ min: 1, max: 6 }).map((count): Ending => ({ kind: 'take', count })),
);

interface Call {
  readonly items: readonly Req[];
  readonly signal: AbortSignal;
  readonly seq: number;
  finished: boolean;
}

const SOURCE_ERROR = new Error('source failed');

type Generated = { id: number; at: number; text: string; key: DedupKey; scope: DedupScope };

async function run(generated: Generated[], s: Scenario, behaviours: BackendKind[], ending: Ending) {
  const clock = virtualClock();
  const vts = clock.scheduler;
  const host = hostClock(vts, s.clockStart);
  const tracked = trackTimers(host.scheduler);
  const scheduler = tracked.scheduler;
  const meta = new Map<Req, Meta>();
  const requests = generated.map((g) => {
    const request: Req = { query: g.text, key: g.key };
    meta.set(request, { id: g.id, at: g.at, scope: g.scope });
    return request;
  });
  const metaOf = (r: Req) => meta.get(r)!;

  const results: BatchResult<Req, Echo>[] = [];
  const calls: Call[] = [];
  const embedCalls: { texts: string[]; seq: number }[] = [];
  const dropped = new Set<number>();
  /** The requests that reached dedupBy (RxJS's `delay` drops what it holds when the source errors). */
  const reached = new Set<number>();
  let seq = 0;
  let leftAtSeq = -1;
  const released = new Set<Call>();
  let overConcurrency = 0;
  let terminal: { kind: 'complete' } | { kind: 'error'; error: unknown } | undefined;
  let pendingAtEnd = -1;
  let pendingAfterTeardown = -1;
  const { durationMs, processingTimeoutMs, concurrency } = s;

  const execute = (items: Req[], context: ExecuteContext) => {
    const picked = behaviours[calls.length % behaviours.length]!;
    const kind = NEVER_SETTLING.has(picked) && !Number.isFinite(processingTimeoutMs) ? 'ok' : picked;
    const c: Call = { items, signal: context.signal, seq: seq++, finished: false };
    calls.push(c);
    if (kind === 'throw') c.finished = true;
    // Calls still owing answers (not finished, aborted or let go): never `concurrency` of them when another starts.
    const owing = calls.filter((other) => other !== c && !other.finished && !other.signal.aborted && !released.has(other)).length;
    if (!context.individual && owing >= concurrency) overConcurrency++;
    const made = backendCall<Echo>(kind, items.map((item) => ({ item })), vts, durationMs, processingTimeoutMs + 5);
    const counted = new Observable<unknown>((subscriber) => {
      const inner = watchedCall((Array.isArray(made) ? of(made) : made) as Observable<unknown>, c).subscribe(subscriber);
      return () => {
        released.add(c);
        inner.unsubscribe();
      };
    });
    return counted as Observable<Echo[]>;
  };

  const vector = () => [1, 0, 0];
  const embed: Embedder = (texts) => {
    const kind = s.embedKinds[embedCalls.length % s.embedKinds.length]!;
    // What never answers only where embedTimeoutMs ends it.
    const k: EmbedKind = kind === 'never' && !Number.isFinite(s.embedTimeoutMs) ? 'async' : kind;
    embedCalls.push({ texts: [...texts], seq: seq++ });
    const later = <V>(answer: (resolve: (v: V) => void, reject: (e: unknown) => void) => void) =>
      new Promise<V>((resolve, reject) => vts.schedule(() => answer(resolve, reject), s.embedDelayMs));
    switch (k) {
      case 'sync':
        return texts.map(vector);
      case 'async':
        return later((resolve) => resolve(texts.map(vector)));
      case 'typed-shared': {
        const shared = new Float32Array([0, 1, 0]);
        return texts.map(() => shared);
      }
      case 'twice':
        // A thenable that calls back twice: the first answer counts.
        return {
          then(resolve: (v: number[][]) => void) {
            resolve(texts.map(vector));
            resolve(texts.map(() => [0, 0, 1]));
          },
        } as unknown as PromiseLike<number[][]>;
      case 'throws':
        throw new Error('embed threw');
      case 'rejects-null':
        return later((_, reject) => reject(null));
      case 'rejects-string':
        return later((_, reject) => reject('no vectors'));
      case 'nan':
        return texts.map(() => [Number.NaN, 1, 0]);
      case 'zero':
        return texts.map(() => [0, 0, 0]);
      case 'wrong-count':
        return later((resolve) => resolve(texts.slice(1).map(vector)));
      case 'never':
        return new Promise(() => undefined);
    }
  };

  const feedback = s.withFeedback ? createBatchFeedback(concurrency) : undefined;
  const windowOptions = { windowMs: s.windowMs, maxSize: s.maxSize, minSize: s.minSize, maxWaitMs: s.maxWaitMs, scheduler, feedback };
  const collector: OperatorFunction<Req, Req[]> = s.adaptive
    ? adaptiveBuffer<Req>({ ...windowOptions, windowMs: Number.isFinite(s.windowMs) ? s.windowMs : 50 })
    : bufferWindow<Req>(windowOptions);
  let batchesSeen = 0;
  const middle: MonoTypeOperatorFunction<Req[]> =
    s.middle.kind === 'drop'
      ? (() => {
          const every = s.middle.every;
          return filter<Req[]>((batch) => {
            const keep = batchesSeen++ % every !== 0;
            if (!keep) for (const r of batch) dropped.add(metaOf(r).id);
            return keep;
          });
        })()
      : s.middle.kind === 'delay'
        ? delay<Req[]>(s.middle.ms, vts)
        : (batches) => batches;
  const dedup = dedupBy<Req>({
    dedupStrategy: s.strategy,
    key: (r) => r.key,
    scope: (r) => metaOf(r).scope,
    ...(s.strategy === 'exact' ? {} : { embed, mergeGuard: s.mergeGuard, embedTimeoutMs: s.embedTimeoutMs, embedCacheSize: s.embedCacheSize }),
    scheduler,
  });
  const executeStage = fanOut<Req, Echo>({ execute, processingTimeoutMs, onTimeout: s.onTimeout, scheduler, ...(feedback ? { feedback } : { concurrency }) });

  const source = new Subject<Req>();
  const leaving: MonoTypeOperatorFunction<BatchResult<Req, Echo>> = (results$) =>
    ending.kind === 'take'
      ? results$.pipe(
          take(ending.count),
          finalize(() => {
            pendingAfterTeardown = tracked.pending();
          }),
        )
      : results$;
  let left = false;
  const subscription: Subscription = source.pipe(
    collector,
    middle,
    tap((batch) => batch.forEach((r) => reached.add(metaOf(r).id))),
    dedup,
    executeStage,
    leaving,
  ).subscribe({
    next: (result) => {
      results.push(result);
      if (ending.kind === 'take' && results.length === ending.count) {
        leftAtSeq = seq++;
        left = true;
      }
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
  for (const [at, ms] of s.steps) vts.schedule(() => host.step(ms), at);
  for (const request of requests) vts.schedule(() => source.next(request), metaOf(request).at);
  const lastArrival = Math.max(...generated.map((g) => g.at));
  if (ending.kind === 'complete') vts.schedule(() => source.complete(), lastArrival + 1);
  if (ending.kind === 'error') vts.schedule(() => source.error(SOURCE_ERROR), lastArrival + 1);
  if (ending.kind === 'unsubscribe') {
    vts.schedule(() => {
      leftAtSeq = seq++;
      left = true;
      subscription.unsubscribe();
      pendingAfterTeardown = tracked.pending();
    }, ending.at);
  }
  await runMoments(vts, () => terminal !== undefined || (left && ending.kind !== 'take') || (left && pendingAfterTeardown >= 0), 3000);
  // Whatever was still due after the ending runs now: nothing may start.
  await runMoments(vts, () => false, 300);
  return { requests, metaOf, results, calls, embedCalls, dropped, reached, leftAtSeq, terminal, pendingAtEnd, pendingAfterTeardown, overConcurrency };
}

type Run = Awaited<ReturnType<typeof run>>;

function expectOwnAnswers({ results, metaOf }: Run): void {
  for (const result of results) {
    if (result.status === 'rejected') {
      expect(result.error).toBeInstanceOf(Error);
      continue;
    }
    const own = result.request;
    const answeredFor = result.value.item;
    const show = (r: Req) => `request ${metaOf(r).id} (key ${fc.stringify(r.key)}, scope ${fc.stringify(metaOf(r).scope)}, text ${JSON.stringify(r.query)})`;
    expect(sameScope(metaOf(answeredFor).scope, metaOf(own).scope) && sameKey(answeredFor.key, own.key), `${show(own)} answered for ${show(answeredFor)}`).toBe(true);
    if (!result.deduplicated) expect(answeredFor).toBe(own);
  }
}

function expectEmbedderUse(r: Run, s: Scenario): void {
  for (const call of r.embedCalls) expect(new Set(call.texts).size, `texts sent twice in one call: ${JSON.stringify(call.texts)}`).toBe(call.texts.length);
  // An answer as late as embedTimeoutMs may lose to it: that call failed, and its texts are asked again.
  const inTime = s.embedDelayMs < s.embedTimeoutMs || !s.embedKinds.includes('async');
  if (s.embedCacheSize > 0 && inTime && s.embedKinds.every((k) => WELL.has(k))) {
    const sent = r.embedCalls.flatMap((c) => c.texts);
    expect(new Set(sent).size, `a text embedded twice: ${JSON.stringify(r.embedCalls.map((c) => c.texts))}`).toBe(sent.length);
  }
}

describe('composed by hand, with a feedback channel, adaptiveBuffer, a stage in between, similarity dedup, hostile embedders and a stepping clock', () => {
  it('answers every request that reached dedup exactly once, with its own result; the ending comes last; no timer left; concurrency kept', async () => {
    await fc.assert(
      fc.asyncProperty(requestsArb, scenarioArb, behavioursArb, finishingArb, async (requests, s, behaviours, ending) => {
        const r = await run(requests, s, behaviours, ending);
        const expected = requests.map((q) => q.id).filter((id) => !r.dropped.has(id));
        if (ending.kind === 'complete' || s.middle.kind !== 'delay') expect([...r.reached].sort((a, b) => a - b)).toEqual(expected);
        expect(r.results.map((x) => r.metaOf(x.request).id).sort((a, b) => a - b)).toEqual([...r.reached].sort((a, b) => a - b));
        expectOwnAnswers(r);
        expect(r.terminal).toEqual(ending.kind === 'error' ? { kind: 'error', error: SOURCE_ERROR } : { kind: 'complete' });
        expect(r.pendingAtEnd).toBe(0);
        // Judged where the test sees a call end before the library moves on: well-formed answers and failures.
        // (Retries of `'individual'` are not counted against it: the docs do not say whether they hold a slot.)
        if (s.onTimeout === 'reject' && behaviours.every((b) => WELL_FORMED.has(b))) expect(r.overConcurrency).toBe(0);
        expectEmbedderUse(r, s);
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 150) },
    );
  });

  it('after the subscriber leaves (at a time, or inside a result): no result, no backend or embedder call, no timer; every unfinished call aborted', async () => {
    await fc.assert(
      fc.asyncProperty(requestsArb, scenarioArb, behavioursArb, leavingArb, async (requests, s, behaviours, ending) => {
        const r = await run(requests, s, behaviours, ending);
        const ids = r.results.map((x) => r.metaOf(x.request).id);
        expect(new Set(ids).size).toBe(ids.length);
        expectOwnAnswers(r);
        if (ending.kind === 'take') expect(r.results.length).toBeLessThanOrEqual(ending.count);
        if (r.leftAtSeq < 0) return; // it never left: the run ended first
        for (const c of r.calls) expect(c.seq, 'a backend call after the subscriber left').toBeLessThan(r.leftAtSeq);
        for (const c of r.embedCalls) expect(c.seq, 'an embedder call after the subscriber left').toBeLessThan(r.leftAtSeq);
        expect(r.pendingAfterTeardown).toBe(0);
        for (const c of r.calls) expect(c.finished || c.signal.aborted).toBe(true);
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 150) },
    );
  });
});
