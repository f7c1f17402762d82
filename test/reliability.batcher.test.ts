/**
 * Reliability properties of the promise bridge, `createBatcher`, on a virtual clock:
 *
 * - random arrivals (`process` and `processStreaming`) with keys and scopes from the hostile domain of
 *   docs/keys.md, per-call deadlines and aborts, timeouts of any size (0, small, 2^31 - 1, 2^31, 3e9, Infinity),
 *   backends that answer, fail, answer malformed or never settle (observables, promises, thenables, async
 *   iterables), embedders that throw, reject, answer malformed or never settle, and `close()` at a random moment;
 * - `configure()` of every live option at random moments, between arrivals and during executions, with
 *   invalid partials among them;
 * - a wall clock that steps back and forward, with the adaptive window, in-flight dedup and the result cache;
 * - semantic dedup where every text embeds alike, so only the scope keeps tenants apart.
 *
 * The library's timers go through `hostClock`, which fires any delay above 2^31 - 1 ms after 1 ms as
 * `setTimeout` does (a long timer the library forgot to chain fires early, and shows). The clock is run moment by
 * moment with promise callbacks in between (`runMoments`), so the timers still pending are read at the very
 * moment `close()` resolves, before any later timer could run.
 */
import fc from 'fast-check';
import { map, timer, VirtualTimeScheduler, type Observable, type ObservableInput } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BatcherClosedError,
  BatchTimeoutError,
  createBatcher,
  createBatchStats,
  type BatchDedupOptions,
  type BatchResult,
  type BatchStats,
  type Batcher,
  type DedupKey,
  type DedupScope,
  type Embedder,
  type ExecuteContext,
} from '../src/index.js';
import { trackTimers } from '../src/testing/index.js';
import {
  backendCall,
  BAD_SCOPES,
  clockStartArb,
  countAbortListeners,
  clockStepArb,
  durationArb,
  expectSaneStats,
  hostClock,
  keyArb,
  keyPoolsArb,
  NEVER_SETTLING,
  OBSERVABLE_KINDS,
  PROMISE_KINDS,
  reordered,
  requestValueArb,
  runMoments,
  sameKey,
  SCOPE_FAMILIES,
  sameScope,
  turn,
  validScope,
  type BackendKind,
} from './support.js';

/** Uncaught exceptions and unhandled rejections, which no hostile backend or embedder may cause. */
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);
beforeEach(() => {
  escaped.length = 0;
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
});
afterEach(() => {
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

/** What settled a caller's promise (or its `processStreaming` result), and when. */
interface Outcome {
  settled: number;
  at: number;
  /** What `probe` read in the moment the caller was answered (the call's abort listeners still registered). */
  probed?: number;
  value?: unknown;
  error?: unknown;
  deduplicated?: boolean;
}

/** Submits one request as `process` or `processStreaming` and records its outcome(s) on `outcome`. */
function submit<T, R>(
  batcher: Batcher<T, R>,
  request: T,
  options: Parameters<Batcher<T, R>['process']>[1],
  streaming: boolean,
  now: () => number,
  probe?: () => number,
): Outcome {
  const outcome: Outcome = { settled: 0, at: Number.NaN };
  const settle = (o: Partial<Outcome>) => Object.assign(outcome, o, { settled: outcome.settled + 1, at: now(), probed: probe?.() });
  if (!streaming) {
    batcher.process(request, options).then(
      (value) => settle({ value }),
      (error: unknown) => settle({ error }),
    );
    return outcome;
  }
  void (async () => {
    try {
      for await (const r of batcher.processStreaming([request], options)) {
        settle(r.status === 'fulfilled' ? { value: r.value, deduplicated: r.deduplicated } : { error: r.error, deduplicated: r.deduplicated });
      }
    } catch (error) {
      settle({ error });
    }
  })();
  return outcome;
}

/** A timeout error that may legitimately come sooner than its limit after arrival: a shared execution's. */
const sharedTimeout = (error: unknown, dedupInFlight: boolean) => dedupInFlight && /processingTimeoutMs/.test(String(error));

// ---------------------------------------------------------------------------------------------------------------
// Hostile arrivals, durations, backends and embedders, and close() at a random moment.

type EmbedKind = 'good' | 'good-async' | 'throws' | 'rejects' | 'wrong-count' | 'nan' | 'never' | 'late';
const EMBED_KINDS: readonly EmbedKind[] = ['good', 'good-async', 'throws', 'rejects', 'wrong-count', 'nan', 'never', 'late'];

type Keying = 'key function' | 'default key';

interface Arrival {
  readonly id: number;
  readonly at: number;
  /** A fresh object: its identity names the sender. */
  readonly request: { readonly q: unknown };
  readonly scope: unknown;
  readonly timeoutMs: number | undefined;
  readonly abortAfter: number | undefined;
  readonly streaming: boolean;
}

const arrivalsArb = (keying: Keying) =>
  fc
    .record({
      pools: keyPoolsArb(keying === 'key function' ? keyArb : requestValueArb),
      picks: fc.array(
        fc.record({
          at: fc.integer({ min: 0, max: 60 }),
          key: fc.nat(),
          copy: fc.boolean(),
          scope: fc.nat(),
          badScope: fc.oneof({ weight: 20, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...BAD_SCOPES).map((s) => ({ s })) }),
          timeoutMs: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: durationArb(0, 40) }),
          abortAfter: fc.oneof(
            { weight: 6, arbitrary: fc.constant(undefined) },
            { weight: 2, arbitrary: fc.integer({ min: 0, max: 30 }) },
            { weight: 1, arbitrary: fc.constant(4e9) },
          ),
          streaming: fc.boolean(),
        }),
        { minLength: 1, maxLength: 20 },
      ),
    })
    .map(({ pools, picks }) =>
      picks.map(({ key, copy, scope, badScope, ...rest }, id): Arrival => {
        const pooled = pools.keys[key % pools.keys.length];
        return { ...rest, id, request: { q: copy ? reordered(pooled) : pooled }, scope: badScope ? badScope.s : pools.scopes[scope % pools.scopes.length] };
      }),
    );

const pipelineArb = fc.record({
  windowMs: durationArb(0, 10),
  maxWaitMs: durationArb(0, 20),
  maxSize: fc.integer({ min: 1, max: 5 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: durationArb(1, 20),
  onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
  requestTimeoutMs: fc.option(durationArb(1, 40), { nil: undefined }),
  dedupInFlight: fc.boolean(),
  resultCache: fc.option(fc.record({ ttlMs: fc.integer({ min: 1, max: 40 }) }), { nil: undefined }),
  dedupStrategy: fc.constantFrom('exact' as const, 'exact' as const, 'embedding' as const, 'embedding' as const, 'hybrid' as const),
  embedTimeoutMs: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.constantFrom(2 ** 31, 3e9, Infinity)),
  // Embed-ahead: off (one embed call per batch, when it forms), the default (on once an answer was asynchronous), on.
  embedAhead: fc.constantFrom(false, undefined, true),
});

const scenarioArb = (keying: Keying) =>
  fc.record({
    arrivals: arrivalsArb(keying),
    pipeline: pipelineArb,
    behaviours: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constant<BackendKind>('ok') }, { weight: 4, arbitrary: fc.constantFrom<BackendKind>(...OBSERVABLE_KINDS, ...PROMISE_KINDS) }), {
      minLength: 1,
      maxLength: 8,
    }),
    // Embedders that keep a batch waiting come often: what happens meanwhile (deadlines, aborts, close) is the risk.
    embedders: fc.array(fc.oneof(fc.constantFrom(...EMBED_KINDS), fc.constantFrom<EmbedKind>('good-async', 'late', 'never')), { minLength: 1, maxLength: 4 }),
    durationMs: fc.integer({ min: 0, max: 10 }),
    closeAt: fc.integer({ min: 0, max: 80 }),
  });

function embedAnswer(kind: EmbedKind, texts: string[], scheduler: VirtualTimeScheduler, embedTimeoutMs: number): ReturnType<Embedder> {
  const vectors = () => texts.map(() => [1, 0]);
  const after = <V>(ms: number, settle: (resolve: (v: V) => void, reject: (e: unknown) => void) => void) =>
    new Promise<V>((resolve, reject) => scheduler.schedule(() => settle(resolve, reject), ms));
  switch (kind) {
    case 'good':
      return vectors();
    case 'good-async':
      return after(1, (resolve) => resolve(vectors()));
    case 'throws':
      throw new Error('embed threw');
    case 'rejects':
      return after(1, (_, reject) => reject(new Error('embed rejected')));
    case 'wrong-count':
      return [...vectors(), [1, 0]];
    case 'nan':
      return texts.map(() => [Number.NaN, 0]);
    case 'never':
      return new Promise(() => undefined);
    case 'late':
      return after(embedTimeoutMs + 1, (resolve) => resolve(vectors()));
  }
}

/**
 * When an embed call's batch may fall back to exact dedup: at once for an answer that fails at once, when it
 * rejects, or when `embedTimeoutMs` has passed (a bound that comes with an answer in the same moment may win).
 */
function fallbackMoments(kind: EmbedKind, at: number, embedTimeoutMs: number): number[] {
  const bound = at + embedTimeoutMs;
  switch (kind) {
    case 'good':
      return [];
    case 'good-async':
      return embedTimeoutMs <= 1 ? [bound] : [];
    case 'throws':
    case 'wrong-count':
    case 'nan':
      return [at];
    case 'rejects':
      return [Math.min(at + 1, bound)];
    case 'never':
    case 'late':
      return [bound];
  }
}

describe('createBatcher reliability under random interleavings', () => {
  it.each<Keying>(['key function', 'default key'])(
    'settles every accepted promise once, in time, with its own answer; withdrawn requests never sent; close() leaves no timer (%s)',
    async (keying) => {
      await fc.assert(
        fc.asyncProperty(scenarioArb(keying), async ({ arrivals, pipeline, behaviours, embedders, durationMs, closeAt }) => {
          const clock = new VirtualTimeScheduler();
          const tracked = trackTimers(hostClock(clock).scheduler);
          // Every run must end: what never settles is only drawn where a finite bound ends it.
          const callersBounded = arrivals.every((a) => Number.isFinite(a.timeoutMs ?? Infinity) || a.at > closeAt);
          const backendBounded = callersBounded || Number.isFinite(pipeline.processingTimeoutMs);
          const embedBounded = callersBounded || Number.isFinite(pipeline.embedTimeoutMs);
          const metaOf = new Map(arrivals.map((a) => [a.request as object, a]));
          /** The test's own log: when each request was aborted, and every backend call. */
          let seq = 0;
          const abortedSeq = new Map<number, number>();
          const calls: { items: Arrival['request'][]; at: number; seq: number; individual: boolean }[] = [];
          /** Each embed call: when, and the moments at which its batch may fall back to exact dedup. */
          const embedCalls: { at: number; seq: number; fallbackAt: number[] }[] = [];
          const arrivedSeq = new Map<number, number>();
          const fallbacks: number[] = [];
          const stats = createBatchStats({ scheduler: tracked.scheduler });
          const recordEmbedFallback = stats.recordEmbedFallback.bind(stats);
          stats.recordEmbedFallback = () => {
            fallbacks.push(clock.now());
            recordEmbedFallback();
          };
          // A similarity batch reports its cache hits and misses when it forms, whether or not it calls the
          // embedder (it may wait for a call in flight, or use vectors embedded ahead): the moments batches formed.
          const formations: { at: number; seq: number }[] = [];
          const recordEmbedCache = stats.recordEmbedCache.bind(stats);
          stats.recordEmbedCache = (hits, misses) => {
            formations.push({ at: clock.now(), seq: seq++ });
            recordEmbedCache(hits, misses);
          };
          const batcher = createBatcher<Arrival['request'], { item: Arrival['request'] }>({
            ...pipeline,
            stats,
            scheduler: tracked.scheduler,
            ...(keying === 'key function' && { key: (r: Arrival['request']) => r.q as DedupKey }),
            // One text for all (no embedding cache): the similarity strategies merge exactly the requests whose
            // rest is equal, and the embedder is asked again for every batch with duplicates.
            text: () => 'same',
            embedCacheSize: 0,
            mergeGuard: false,
            dedupThreshold: 0.5,
            embed: (texts) => {
              let kind = embedders[embedCalls.length % embedders.length]!;
              if (kind === 'late' && !Number.isFinite(pipeline.embedTimeoutMs)) kind = 'never';
              if (!embedBounded && kind === 'never') kind = 'good';
              const at = clock.now();
              embedCalls.push({ at, seq: seq++, fallbackAt: fallbackMoments(kind, at, pipeline.embedTimeoutMs) });
              return embedAnswer(kind, texts, clock, pipeline.embedTimeoutMs);
            },
            execute: (items, context: ExecuteContext) => {
              let kind = behaviours[calls.length % behaviours.length]!;
              if (!backendBounded && NEVER_SETTLING.has(kind)) kind = 'ok';
              calls.push({ items: [...items], at: clock.now(), seq: seq++, individual: context.individual });
              const slowMs = Number.isFinite(pipeline.processingTimeoutMs) ? pipeline.processingTimeoutMs + 5 : durationMs;
              return backendCall(kind, items.map((item) => ({ item })), clock, durationMs, slowMs) as ObservableInput<{ item: Arrival['request'] }[]>;
            },
          });

          const outcomes = new Map<number, Outcome>();
          const accepted = new Set<number>();
          for (const a of arrivals) {
            clock.schedule(() => {
              const controller = new AbortController();
              const listeners = countAbortListeners(controller.signal);
              if (a.abortAfter !== undefined) {
                clock.schedule(() => {
                  abortedSeq.set(a.id, seq++);
                  controller.abort(new Error(`abort ${a.id}`));
                }, a.abortAfter);
              }
              if (!batcher.closed) accepted.add(a.id);
              arrivedSeq.set(a.id, seq++);
              const options = { scope: a.scope as DedupScope, timeoutMs: a.timeoutMs, signal: controller.signal };
              outcomes.set(a.id, submit(batcher, a.request, options, a.streaming, () => clock.now(), listeners));
            }, a.at);
          }
          let closed: { at: number; pending: number } | undefined;
          clock.schedule(() => {
            void batcher.close().then(() => (closed = { at: clock.now(), pending: tracked.pending() }));
          }, closeAt);

          expect(await runMoments(clock, () => closed !== undefined), 'close() resolved').toBe(true);
          await runMoments(clock, () => outcomes.size === arrivals.length && [...outcomes.values()].every((o) => o.settled > 0), 200);
          // Read in the very moment close() resolved: a timer left behind has not fired yet.
          expect(closed!.pending, 'timers left when close() resolved').toBe(0);
          const after = batcher.getStats();
          expect(after.queueDepth).toBe(0);
          expect(after.inFlight).toBe(0);
          expectSaneStats(after);

          for (const a of arrivals) {
            const o = outcomes.get(a.id)!;
            const context = `request ${a.id} ${fc.stringify(a)}: ${o.error === undefined ? 'fulfilled' : String(o.error)}`;
            expect(o.settled, context).toBe(1);
            // Read in the moment its caller was answered: the call left no abort listener on the caller's signal.
            expect(o.probed, `${context}: abort listeners left when it settled`).toBe(0);
            if (!accepted.has(a.id)) {
              expect(o.error, context).toBeInstanceOf(BatcherClosedError);
              continue;
            }
            if (!validScope(a.scope)) {
              expect((o.error as Error).message, context).toMatch(/^createBatcher\.process: scope must be a string, a number \(not NaN\) or a bigint/);
              continue;
            }
            // In time: a deadline or an abort answers the caller at that moment at the latest ...
            if (a.timeoutMs !== undefined && Number.isFinite(a.timeoutMs)) expect(o.at, context).toBeLessThanOrEqual(a.at + a.timeoutMs);
            if (a.abortAfter !== undefined) expect(o.at, context).toBeLessThanOrEqual(a.at + a.abortAfter);
            // ... and no timeout fires early: the request waited at least the limit the error names.
            if (o.error instanceof BatchTimeoutError && !sharedTimeout(o.error, pipeline.dedupInFlight)) {
              expect(o.at - a.at, context).toBeGreaterThanOrEqual(o.error.timeoutMs);
            }
            if (o.error !== undefined) {
              expect(o.error, context).toBeInstanceOf(Error);
              continue;
            }
            // Its own answer: an equal key in the same scope (the executor never saw the scope).
            const answeredFor = metaOf.get((o.value as { item: object }).item)!;
            expect(sameScope(answeredFor.scope, a.scope) && sameKey(answeredFor.request.q, a.request.q), `${context}; answered for ${fc.stringify(answeredFor)}`).toBe(true);
            if (a.streaming && o.deduplicated === false) expect(answeredFor.id, context).toBe(a.id);
          }

          // From the test's own schedule, not from what the library reports: no request reaches the backend after
          // its caller aborted it or its deadline passed (its own timeoutMs, else requestTimeoutMs), and none that
          // was refused.
          const firstCall = new Map<number, (typeof calls)[number]>();
          for (const c of calls) for (const item of c.items) if (!firstCall.has(metaOf.get(item)!.id)) firstCall.set(metaOf.get(item)!.id, c);
          for (const [id, c] of firstCall) {
            const a = arrivals[id]!;
            expect(accepted.has(id), `request ${id} sent though refused`).toBe(true);
            // It left the queue when its batch formed: at the call, or (similarity dedup) at an embed call between
            // its arrival and the call. It must have left before its abort and by its deadline.
            const between = (e: { seq: number }) => e.seq > arrivedSeq.get(id)! && e.seq < c.seq;
            const formed = [c, ...embedCalls.filter(between), ...formations.filter(between)];
            const aborted = abortedSeq.get(id) ?? Infinity;
            const deadline = a.at + (a.timeoutMs ?? pipeline.requestTimeoutMs ?? Infinity);
            const inTime = formed.some((f) => f.seq < aborted && f.at <= deadline);
            expect(inTime, `request ${id} sent at ${c.at}, its batch formed after its abort (${aborted}) or deadline (${deadline})`).toBe(true);
          }
          // The first batch is not formed before min(windowMs, maxWaitMs) from the first arrival, unless maxSize
          // requests had arrived by then or close() had come.
          const first = calls[0];
          const opened = Math.min(...arrivals.map((a) => a.at));
          if (first && first.at < Math.min(opened + Math.min(pipeline.windowMs, pipeline.maxWaitMs), closeAt)) {
            expect(arrivals.filter((a) => a.at <= first.at).length, `first batch at ${first.at}`).toBeGreaterThanOrEqual(pipeline.maxSize);
          }
          // No embedding bound fires early: every fallback is at a moment that an embed call allows (a call in
          // flight is shared by the batches that need its texts, so one call may decide several), or, with
          // embed-ahead, when a batch formed after a call made ahead for its requests had failed.
          const allowed = embedCalls.flatMap((e) => e.fallbackAt);
          for (const at of fallbacks) {
            const atMoment = allowed.includes(at);
            const atFormation = pipeline.embedAhead !== false && formations.some((f) => f.at === at) && allowed.some((m) => m <= at);
            expect(atMoment || atFormation, `a fallback at ${at}; embed calls ${fc.stringify(embedCalls)}`).toBe(true);
          }
          for (let t = 0; t < 3; t++) await turn(); // let stray callbacks of the hostile calls run
          expect(escaped).toEqual([]);
        }),
        { numRuns: 250 },
      );
    },
  );
});

// ---------------------------------------------------------------------------------------------------------------
// configure() of every live option at random moments, between arrivals and during executions.

/** A request: its key and scope are whatever the key and scope functions in force read from it. */
interface CReq {
  readonly a: number;
  readonly b: number;
  readonly s: string | number | bigint;
  readonly text: string;
}

/** Key functions of different equality (`String(r.a)` is `r.a`'s equality under another type). */
const KEYS: ((r: CReq) => DedupKey)[] = [(r) => r.a, (r) => [r.a, r.b], (r) => String(r.a), (r) => ({ b: r.b })];
const SCOPE_FNS: (((r: CReq) => DedupScope) | undefined)[] = [undefined, (r) => r.s, (r) => r.a];
const STRATEGIES = ['exact', 'embedding', 'hybrid'] as const;

/** The live options, as the test models them (functions by their index in the lists above). */
interface Live {
  windowMs: number;
  maxSize: number;
  minSize: number;
  maxWaitMs: number;
  concurrency: number;
  processingTimeoutMs: number;
  onTimeout: 'reject' | 'individual';
  requestTimeoutMs: number;
  maxQueueSize: number;
  key: number;
  scope: number;
  dedupStrategy: (typeof STRATEGIES)[number];
  dedupThreshold: number;
  enableDedup: boolean;
  embedTimeoutMs: number;
  execute: number;
}

/** Options whose change keeps what was shared (src/internal/inFlight.ts, docs/keys.md); any other starts a generation. */
const KEEP_SHARING = new Set(['windowMs', 'maxSize', 'minSize', 'maxWaitMs', 'concurrency', 'processingTimeoutMs', 'onTimeout', 'requestTimeoutMs', 'maxQueueSize']);

const liveValueArbs: { [K in keyof Live]: fc.Arbitrary<Live[K]> } = {
  windowMs: durationArb(0, 6),
  maxSize: fc.integer({ min: 1, max: 5 }),
  minSize: fc.integer({ min: 1, max: 3 }),
  maxWaitMs: durationArb(0, 15),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: durationArb(1, 30),
  onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
  requestTimeoutMs: durationArb(1, 30),
  maxQueueSize: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constant(Infinity)),
  key: fc.nat(KEYS.length - 1),
  scope: fc.nat(SCOPE_FNS.length - 1),
  dedupStrategy: fc.constantFrom(...STRATEGIES),
  dedupThreshold: fc.constantFrom(0.5, 0.9, 1),
  enableDedup: fc.boolean(),
  embedTimeoutMs: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.constantFrom(2 ** 31, Infinity)),
  execute: fc.nat(1),
};

/** A value each option refuses (and an unknown option, and a change of one fixed at creation). */
const INVALID: [string, unknown][] = [
  ['windowMs', -1],
  ['maxSize', 0],
  ['minSize', 1.5],
  ['maxWaitMs', Number.NaN],
  ['concurrency', 0],
  ['processingTimeoutMs', 0],
  ['onTimeout', 'later'],
  ['requestTimeoutMs', -5],
  ['maxQueueSize', 0],
  ['key', 'a'],
  ['scope', 42],
  ['dedupStrategy', 'fuzzy'],
  ['dedupThreshold', 2],
  ['enableDedup', 'yes'],
  ['embedTimeoutMs', 0],
  ['execute', undefined],
  ['windowMS', 5],
  ['enablePriorities', true],
];

/** One or two options at a time, so that changes that keep what is shared come alone too. */
const someLiveArb: fc.Arbitrary<Partial<Live>> = fc
  .subarray(Object.keys(liveValueArbs) as (keyof Live)[], { minLength: 1, maxLength: 2 })
  .chain((names) => fc.record(Object.fromEntries(names.map((name) => [name, liveValueArbs[name]])) as { [K in keyof Live]: fc.Arbitrary<Live[K]> }));

const partialArb: fc.Arbitrary<{ valid: Partial<Live>; invalid: [string, unknown] | undefined }> = fc.record({
  valid: someLiveArb,
  invalid: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...INVALID) }),
});

/** Texts t0..t5 on a circle, 0.5 rad apart: neighbours similar, far ones not. */
const vectorOf = (text: string) => [Math.cos(Number(text.slice(1)) * 0.5), Math.sin(Number(text.slice(1)) * 0.5)];
const similarity = (x: CReq, y: CReq) => Math.cos((Number(x.text.slice(1)) - Number(y.text.slice(1))) * 0.5);

describe('createBatcher under configure() of every live option at random moments', () => {
  const scenarioArb = fc.record({
    requests: fc.array(
      fc.record({
        a: fc.nat(2),
        b: fc.nat(2),
        s: fc.constantFrom<string | number | bigint>('1', 1, 1n),
        text: fc.nat(3).map((n) => `t${n}`),
        at: fc.integer({ min: 0, max: 40 }),
        timeoutMs: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: durationArb(0, 30) }),
      }),
      { minLength: 1, maxLength: 20 },
    ),
    initial: fc.record({
      ...liveValueArbs,
      processingTimeoutMs: durationArb(5, 30),
      requestTimeoutMs: fc.oneof({ weight: 3, arbitrary: fc.constant(Infinity) }, { weight: 1, arbitrary: liveValueArbs.requestTimeoutMs }),
      maxQueueSize: fc.oneof({ weight: 3, arbitrary: fc.constant(Infinity) }, { weight: 1, arbitrary: liveValueArbs.maxQueueSize }),
    }),
    changes: fc.array(fc.record({ at: fc.integer({ min: 0, max: 50 }), partial: partialArb }), { maxLength: 8 }),
    dedupInFlight: fc.boolean(),
    resultCache: fc.option(fc.record({ ttlMs: fc.integer({ min: 1, max: 40 }) }), { nil: undefined }),
    durationMs: fc.integer({ min: 0, max: 10 }),
    embedMs: fc.integer({ min: 0, max: 3 }),
    closeAt: fc.integer({ min: 20, max: 70 }),
  });

  /** The options a model stands for. */
  type Answer = { item: CReq; call: number };
  function optionsOf(live: Partial<Live>, executors: BatchDedupOptions<CReq, Answer>['execute'][]): Partial<BatchDedupOptions<CReq, Answer>> {
    const { key, scope, execute, ...plain } = live;
    return {
      ...plain,
      ...(key !== undefined && { key: KEYS[key] }),
      ...(scope !== undefined && { scope: SCOPE_FNS[scope] }),
      ...(execute !== undefined && { execute: executors[execute] }),
    };
  }

  it('every accepted promise settles once, with an answer its settings allow; invalid partials change nothing; close() leaves no timer', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        const clock = new VirtualTimeScheduler();
        const tracked = trackTimers(hostClock(clock).scheduler);
        let seq = 0;
        const initial: Live = { ...sc.initial, minSize: Math.min(sc.initial.minSize, sc.initial.maxSize) };
        /** The live options after each accepted configure(), with the generation each belongs to. */
        const states: { live: Live; generation: number }[] = [{ live: initial, generation: 0 }];
        const current = () => states[states.length - 1]!;
        const calls: { seq: number; generation: number; at: number; size: number; maxSizeBound: number; executor: number; wanted: number[] }[] = [];
        /** The executor each batch first ran on: its 'individual' retries may keep it. */
        const batchExecutor = new Map<number, number>();
        let maxSizeSoFar = initial.maxSize;
        const answer = (items: CReq[], context: ExecuteContext, kind: 'observable' | 'promise') => {
          const executor = kind === 'observable' ? 0 : 1;
          const { generation, live } = current();
          if (!batchExecutor.has(context.batchId)) batchExecutor.set(context.batchId, executor);
          const wanted = context.individual ? [live.execute, batchExecutor.get(context.batchId)!] : [live.execute];
          const call = calls.push({ seq: seq++, generation, at: clock.now(), size: items.length, maxSizeBound: maxSizeSoFar, executor, wanted }) - 1;
          const answers = items.map((item) => ({ item, call }));
          return kind === 'observable'
            ? timer(sc.durationMs, clock).pipe(map(() => answers))
            : new Promise<typeof answers>((resolve) => clock.schedule(() => resolve(answers), sc.durationMs));
        };
        const executors: BatchDedupOptions<CReq, Answer>['execute'][] = [(items, c) => answer(items, c, 'observable'), (items, c) => answer(items, c, 'promise')];
        const batcher = createBatcher<CReq, Answer>({
          ...(optionsOf(initial, executors) as BatchDedupOptions<CReq, Answer>),
          dedupInFlight: sc.dedupInFlight,
          resultCache: sc.resultCache,
          mergeGuard: false,
          scheduler: tracked.scheduler,
          embed: (texts) =>
            sc.embedMs === 0 ? texts.map(vectorOf) : new Promise((resolve) => clock.schedule(() => resolve(texts.map(vectorOf)), sc.embedMs)),
        });

        const arrivals: { seq: number; generation: number; at: number; accepted: boolean }[] = [];
        const outcomes: Outcome[] = [];
        sc.requests.forEach((r, id) => {
          const request: CReq = { a: r.a, b: r.b, s: r.s, text: r.text };
          clock.schedule(() => {
            arrivals[id] = { seq: seq++, generation: current().generation, at: clock.now(), accepted: !batcher.closed };
            outcomes[id] = submit(batcher, request, r.timeoutMs === undefined ? undefined : { timeoutMs: r.timeoutMs }, false, () => clock.now());
          }, r.at);
        });
        const refusals: string[] = [];
        for (const { at, partial } of sc.changes) {
          clock.schedule(() => {
            const before = current().live;
            const merged = { ...before, ...partial.valid };
            const invalid = partial.invalid !== undefined || merged.minSize > merged.maxSize;
            const options = { ...optionsOf(partial.valid, executors), ...(partial.invalid && { [partial.invalid[0]]: partial.invalid[1] }) };
            if (batcher.closed) {
              try {
                batcher.configure(options);
                refusals.push(`configure(${fc.stringify(options)}) accepted after close()`);
              } catch (error) {
                if (!(error instanceof BatcherClosedError)) refusals.push(`configure() after close() gave ${String(error)}`);
              }
              return;
            }
            const windowBefore = batcher.getStats().currentWindowMs;
            // The new state is in force from inside configure(): a batch it makes due runs under it at once.
            const changesShared = (Object.keys(partial.valid) as (keyof Live)[]).some((name) => !KEEP_SHARING.has(name) && merged[name] !== before[name]);
            if (!invalid) {
              states.push({ live: merged, generation: current().generation + (changesShared ? 1 : 0) });
              maxSizeSoFar = Math.max(maxSizeSoFar, merged.maxSize);
            }
            let thrown: unknown;
            try {
              batcher.configure(options);
            } catch (error) {
              thrown = error;
            }
            if (invalid) {
              // Refused whole, naming the call: nothing of it applied.
              if (!(thrown instanceof Error) || !/^createBatcher\.configure: /.test(thrown.message)) refusals.push(`configure(${fc.stringify(options)}) gave ${String(thrown)}`);
              if (batcher.getStats().currentWindowMs !== windowBefore) refusals.push(`configure(${fc.stringify(options)}) moved the window`);
              return;
            }
            if (thrown !== undefined) refusals.push(`configure(${fc.stringify(options)}) threw ${String(thrown)}`);
            if (batcher.getStats().currentWindowMs !== merged.windowMs) refusals.push(`configure(${fc.stringify(options)}) left the window at ${batcher.getStats().currentWindowMs}`);
          }, at);
        }
        let closed: { pending: number } | undefined;
        clock.schedule(() => void batcher.close().then(() => (closed = { pending: tracked.pending() })), sc.closeAt);

        expect(await runMoments(clock, () => closed !== undefined), 'close() resolved').toBe(true);
        await runMoments(clock, () => outcomes.filter(Boolean).length === sc.requests.length && outcomes.every((o) => o.settled > 0), 200);
        expect(refusals).toEqual([]);
        expect(closed!.pending, 'timers left when close() resolved').toBe(0);
        expectSaneStats(batcher.getStats());

        const byGeneration = (g: number) => states.filter((s) => s.generation === g).map((s) => s.live);
        const keyOf = (l: Live, r: CReq) => KEYS[l.key]!(r);
        const scopeOf = (l: Live, r: CReq) => SCOPE_FNS[l.scope]?.(r);
        const requests = sc.requests.map((r) => ({ a: r.a, b: r.b, s: r.s, text: r.text }));
        sc.requests.forEach((r, id) => {
          const o = outcomes[id]!;
          const arrival = arrivals[id]!;
          const context = `request ${id} ${fc.stringify(r)}: ${o.error === undefined ? fc.stringify(o.value) : String(o.error)}`;
          expect(o.settled, context).toBe(1);
          if (!arrival.accepted) return expect(o.error, context).toBeInstanceOf(BatcherClosedError);
          if (o.error !== undefined) {
            expect(o.error, context).toBeInstanceOf(Error);
            if (o.error instanceof BatchTimeoutError && !sharedTimeout(o.error, sc.dedupInFlight)) expect(o.at - arrival.at, context).toBeGreaterThanOrEqual(o.error.timeoutMs);
            return;
          }
          const { item: x, call } = o.value as { item: CReq; call: number };
          const own = requests[id]!;
          const execution = calls[call]!;
          const same = (l: Live) => sameScope(scopeOf(l, x), scopeOf(l, own));
          if (execution.seq < arrival.seq) {
            // Answered by an execution that began before it arrived (joined, or cached): only within one
            // generation, and only for a request equal under that generation's key and scope.
            expect(execution.generation, `${context}; from generation ${execution.generation}, arrived in ${arrival.generation}`).toBe(arrival.generation);
            expect(byGeneration(arrival.generation).some((l) => same(l) && sameKey(keyOf(l, x), keyOf(l, own))), `${context}; answered for ${fc.stringify(x)}`).toBe(true);
          } else if (x.a !== own.a || x.b !== own.b || x.s !== own.s || x.text !== own.text) {
            // Merged in its own batch: under settings in force at some moment between its arrival and the call.
            const allowed = states
              .filter((s) => s.generation >= arrival.generation && s.generation <= execution.generation)
              .some(({ live: l }) => {
                if (!same(l) || !l.enableDedup) return false;
                if (l.dedupStrategy === 'exact') return sameKey(keyOf(l, x), keyOf(l, own));
                // Similar with the same rest, or (the batch fell back to exact dedup: embed late or failed) equal keys.
                if (l.dedupStrategy === 'embedding') {
                  const similar = x.a === own.a && x.b === own.b && sameScope(x.s, own.s) && similarity(x, own) >= l.dedupThreshold - 1e-6;
                  return similar || sameKey(keyOf(l, x), keyOf(l, own));
                }
                return true; // hybrid: an exact group led into a similar one; the scope is what must hold
              });
            expect(allowed, `${context}; merged with ${fc.stringify(x)} in call ${call}`).toBe(true);
          }
        });
        for (const c of calls) {
          expect(c.size, `a call of ${c.size} items`).toBeLessThanOrEqual(c.maxSizeBound);
          // The execute in force is the one called.
          expect(c.wanted, `call at ${c.at}`).toContain(c.executor);
        }
        expect(escaped).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Semantic dedup where every text embeds alike: only the scope keeps tenants apart.

describe('createBatcher with semantic dedup', () => {
  it('merges everything it may within a scope and nothing across scopes (scopes that read alike included)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 30 }), key: fc.integer({ min: 0, max: 5 }), tenant: fc.nat(2) }), { minLength: 1, maxLength: 25 }),
        fc.constantFrom(...SCOPE_FAMILIES, ['t1', 't2', 't3']),
        fc.constantFrom('embedding' as const, 'hybrid' as const),
        fc.array(fc.constantFrom<BackendKind>('ok', 'ok', 'throw', 'wrong-length', 'promise', 'rejects'), { minLength: 1, maxLength: 8 }),
        async (arrivals, tenants, dedupStrategy, behaviours) => {
          const clock = new VirtualTimeScheduler();
          const tracked = trackTimers(hostClock(clock).scheduler);
          let calls = 0;
          /** The texts of every backend call. */
          const executed: string[][] = [];
          const scopeOf = (tenant: number) => tenants[tenant % tenants.length] as DedupScope;
          // The tenant's label is in the text (so the answer shows whose it is), and its scope only in
          // process(..., { scope }); every text gets the same vector, so any two requests the batcher is allowed
          // to compare merge, and a merge across scopes that read alike (1, '1', 1n) shows.
          const label = (tenant: number) => (Object.is(scopeOf(tenant), -0) ? '0' : fc.stringify(scopeOf(tenant))); // -0 is scope 0
          const batcher = createBatcher<string, string>({
            windowMs: 5,
            maxSize: 8,
            processingTimeoutMs: 10,
            scheduler: tracked.scheduler,
            dedupStrategy,
            dedupThreshold: 0.5,
            mergeGuard: false,
            embed: (texts) => texts.map(() => [1, 0, 0]),
            execute: (items) => {
              executed.push([...items]);
              return backendCall(behaviours[calls++ % behaviours.length]!, items.map((text) => `answer for ${text}`), clock, 3, 3) as ObservableInput<string[]>;
            },
          });
          const outcomes = arrivals.map(({ at, key, tenant }) => {
            const outcome: { o?: Outcome } = {};
            clock.schedule(() => (outcome.o = submit(batcher, `${label(tenant)}: question ${key}`, { scope: scopeOf(tenant) }, false, () => clock.now())), at);
            return outcome;
          });
          let pendingAtClose: number | undefined;
          clock.schedule(() => void batcher.close().then(() => (pendingAtClose = tracked.pending())), 31);
          expect(await runMoments(clock, () => pendingAtClose !== undefined)).toBe(true);
          expect(pendingAtClose, 'timers left when close() resolved').toBe(0);
          outcomes.forEach(({ o }, id) => {
            expect(o!.settled).toBe(1);
            if (o!.error === undefined) expect(o!.value).toMatch(new RegExp(`^answer for ${label(arrivals[id]!.tenant).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
          });
          // Within a scope everything may merge, so a call never holds two requests of one scope.
          for (const texts of executed) {
            const labels = texts.map((text) => text.slice(0, text.indexOf(':')));
            expect(new Set(labels).size, `one call executed ${JSON.stringify(texts)}`).toBe(labels.length);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// A wall clock that steps back and forward.

describe('createBatcher on a wall clock that steps back and forward', () => {
  const scenarioArb = fc.record({
    arrivals: arrivalsArb('key function').map((as) => as.map((a) => ({ ...a, scope: validScope(a.scope) ? a.scope : 'a', abortAfter: undefined }))),
    start: clockStartArb,
    steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 70 }), clockStepArb), { maxLength: 6 }),
    adaptive: fc.boolean(),
    windowMs: fc.integer({ min: 0, max: 10 }),
    maxSize: fc.integer({ min: 1, max: 5 }),
    processingTimeoutMs: fc.integer({ min: 1, max: 20 }),
    dedupInFlight: fc.boolean(),
    resultCache: fc.option(fc.record({ ttlMs: fc.integer({ min: 1, max: 60 }) }), { nil: undefined }),
    durationMs: fc.integer({ min: 0, max: 10 }),
    behaviours: fc.array(fc.oneof({ weight: 3, arbitrary: fc.constantFrom<BackendKind>('ok', 'promise') }, { weight: 1, arbitrary: fc.constantFrom<BackendKind>(...OBSERVABLE_KINDS) }), {
      minLength: 1,
      maxLength: 6,
    }),
    closeAt: fc.integer({ min: 0, max: 80 }),
  });

  it('answers every request once with its own answer; latencies >= 0; stats finite; no cached answer older than ttlMs', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        const clock = new VirtualTimeScheduler();
        const host = hostClock(clock, sc.start);
        const tracked = trackTimers(host.scheduler);
        const stepsBack: number[] = [];
        for (const [at, ms] of sc.steps) {
          clock.schedule(() => {
            host.step(ms);
            if (ms < 0) stepsBack.push(clock.now());
          }, at);
        }
        const metaOf = new Map(sc.arrivals.map((a) => [a.request as object, a]));
        type Stamped = { item: Arrival['request']; answeredAt: number; answeredAtInner: number };
        let calls = 0;
        const batcher = createBatcher<Arrival['request'], Stamped>({
          adaptive: sc.adaptive,
          windowMs: sc.windowMs,
          maxSize: sc.maxSize,
          processingTimeoutMs: sc.processingTimeoutMs,
          dedupInFlight: sc.dedupInFlight,
          resultCache: sc.resultCache,
          key: (r) => r.q as DedupKey,
          scheduler: tracked.scheduler,
          execute: (items) => {
            const kind = sc.behaviours[calls++ % sc.behaviours.length]!;
            // The answers say when they were made, on the batcher's clock and in virtual time.
            const stamp = (item: Arrival['request']): Stamped => ({ item, answeredAt: host.scheduler.now(), answeredAtInner: clock.now() });
            if (kind === 'promise') return new Promise<Stamped[]>((resolve) => clock.schedule(() => resolve(items.map(stamp)), sc.durationMs));
            const output = backendCall(kind, items.map(stamp), clock, sc.durationMs, sc.processingTimeoutMs + 5) as Observable<unknown>;
            // Stamped again as each answer comes out of the backend: that is when the cache stores it.
            const restamp = (v: unknown) => (typeof v === 'object' && v !== null && 'item' in v ? stamp((v as Stamped).item) : v);
            return output.pipe(
              map((value) =>
                Array.isArray(value)
                  ? value.map(restamp)
                  : typeof value === 'object' && value !== null && 'value' in value
                    ? { ...value, value: restamp((value as { value: unknown }).value) }
                    : value,
              ),
            ) as Observable<Stamped[]>;
          },
        });
        const results = new Map<number, { result: BatchResult<Arrival['request'], Stamped>; clock: number; inner: number }[]>();
        const arrivedAt = new Map<number, { clock: number; inner: number }>();
        const accepted = new Set<number>();
        for (const a of sc.arrivals) {
          clock.schedule(() => {
            if (batcher.closed) return;
            accepted.add(a.id);
            arrivedAt.set(a.id, { clock: host.scheduler.now(), inner: clock.now() });
            results.set(a.id, []);
            void (async () => {
              for await (const result of batcher.processStreaming([a.request], { scope: a.scope as DedupScope, timeoutMs: a.timeoutMs })) {
                results.get(a.id)!.push({ result, clock: host.scheduler.now(), inner: clock.now() });
              }
            })();
          }, a.at);
        }
        let closed: { pending: number } | undefined;
        clock.schedule(() => void batcher.close().then(() => (closed = { pending: tracked.pending() })), sc.closeAt);
        expect(await runMoments(clock, () => closed !== undefined)).toBe(true);
        await runMoments(clock, () => [...results.values()].every((r) => r.length > 0), 200);
        expect(closed!.pending, 'timers left when close() resolved').toBe(0);
        expectSaneStats(batcher.getStats());

        for (const id of accepted) {
          const a = sc.arrivals[id]!;
          const got = results.get(id)!;
          expect(got, `request ${id}`).toHaveLength(1);
          const { result } = got[0]!;
          expect(Number.isFinite(result.latencyMs) && result.latencyMs >= 0, `latencyMs = ${result.latencyMs}`).toBe(true);
          if (result.status !== 'fulfilled') continue;
          const answeredFor = metaOf.get(result.value.item)!;
          expect(sameScope(answeredFor.scope, a.scope) && sameKey(answeredFor.request.q, a.request.q), `request ${id} answered for ${fc.stringify(answeredFor)}`).toBe(true);
          if (result.batchId !== 0) continue;
          // From the cache: served at arrival while younger than ttlMs on the clock (never from the clock's
          // future after a step back), and in virtual time too unless the clock stepped back in between.
          const ttlMs = sc.resultCache!.ttlMs;
          const arrival = arrivedAt.get(id)!;
          const age = arrival.clock - result.value.answeredAt;
          expect(age >= 0 && age < ttlMs, `request ${id} served a cached answer aged ${age} ms on the clock (ttlMs ${ttlMs})`).toBe(true);
          const stored = result.value.answeredAtInner;
          if (!stepsBack.some((t) => t >= stored && t <= arrival.inner)) expect(arrival.inner - stored).toBeLessThan(ttlMs);
        }
      }),
      { numRuns: 200 },
    );
  });
});
