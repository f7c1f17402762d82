/**
 * What is alive at the moment of an ending (H-ATK4, stop 17): the engine (`createBatcher`, `batchDedup`) with
 * similarity dedup whose embed calls are joined across batches and never answer, answer late or fail, the
 * semantic result cache, a shared store whose calls never answer, answer late or fail (`storeTimeoutMs`),
 * `onTimeout: 'individual'` retries, streamed executors that never complete, `requestTimeoutMs`, per-call
 * deadlines and aborts. The endings: `close()` at any moment (read inside `close().then`), the source completing
 * or erroring (read inside the callback), a subscriber leaving from inside a result (read right after).
 *
 * Promises checked at that moment: no library timer is left (but a store write or lease release under way, the
 * documented exception of reliability row 7, each gone at `storeTimeoutMs`), every backend call that still owed
 * answers has its signal aborted; and over the run: every request answered once, with an answer computed for a
 * request of its scope and of a text its embedder puts in the same group, stats that add up.
 *
 * The weights make the rare paths common: most runs are semantic, most embed calls are joined by a later batch
 * (few texts, windows shorter than embedding), a third of the embed calls and store calls never answer.
 */
import fc from 'fast-check';
import { concat, from, mergeMap, NEVER, Observable, Subject, take, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  batchDedup,
  createBatcher,
  createBatchStats,
  sharedStore,
  type BatchResult,
  type DedupScope,
  type Embedder,
  type ExecuteContext,
  type ResultStore,
  type SharedStore,
} from '../src/index.js';
import * as lite from '../src/lite/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { backendCall, expectSaneStats, runMoments, sameScope, type BackendKind, watchedCall } from './support.js';

interface Req {
  readonly id: number;
  readonly text: string;
}
interface Echo {
  readonly id: number;
}

/** Texts and their group: texts of one group embed to one vector (merged by similarity), others apart. */
const TEXTS = ['alpha question', 'alpha question?', 'bravo question', 'bravo question!', 'charlie question'];
const GROUP = [0, 0, 1, 1, 2];
const vectorOf = (text: string): number[] => {
  const v = [0, 0, 0];
  v[GROUP[TEXTS.indexOf(text)]!] = 1;
  return v;
};
const SCOPES: readonly DedupScope[] = [1, '1', 1n, undefined];

const EMBED_KINDS = ['ok', 'late', 'never', 'rejects', 'throws', 'nan', 'nan-one', 'short'] as const;
type EmbedKind = (typeof EMBED_KINDS)[number];
const embedKindArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant<EmbedKind>('ok') },
  { weight: 2, arbitrary: fc.constant<EmbedKind>('late') },
  { weight: 3, arbitrary: fc.constant<EmbedKind>('never') },
  { weight: 1, arbitrary: fc.constantFrom<EmbedKind>('rejects', 'throws', 'nan') },
  { weight: 2, arbitrary: fc.constantFrom<EmbedKind>('nan-one', 'short') },
);
const STORE_KINDS = ['ok', 'late', 'never', 'rejects'] as const;
type StoreKind = (typeof STORE_KINDS)[number];
const storeKindArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant<StoreKind>('ok') },
  { weight: 1, arbitrary: fc.constant<StoreKind>('late') },
  { weight: 2, arbitrary: fc.constant<StoreKind>('never') },
  { weight: 1, arbitrary: fc.constant<StoreKind>('rejects') },
);
/** Every item streamed, then the stream stays open: the library stops listening after the last item. */
type Kind = BackendKind | 'stream-open';
const backendArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Kind>('ok', 'promise', 'stream-all') },
  { weight: 1, arbitrary: fc.constant<Kind>('stream-open') },
  { weight: 2, arbitrary: fc.constantFrom<Kind>('never', 'slow', 'stream-partial', 'never-promise') },
  { weight: 1, arbitrary: fc.constantFrom<Kind>('throw', 'rejects', 'error-later', 'wrong-length', 'errors-midway') },
);

const scenarioArb = fc.record({
  picks: fc.array(
    fc.record({
      at: fc.integer({ min: 0, max: 30 }),
      text: fc.nat({ max: TEXTS.length - 1 }),
      scope: fc.nat({ max: SCOPES.length - 1 }),
      timeoutMs: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 3 }),
      abortAt: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 4 }),
    }),
    { minLength: 1, maxLength: 14 },
  ),
  strategy: fc.oneof({ weight: 4, arbitrary: fc.constantFrom('embedding' as const, 'hybrid' as const) }, { weight: 1, arbitrary: fc.constant('exact' as const) }),
  semanticCache: fc.boolean(),
  cache: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  store: fc.oneof({ weight: 2, arbitrary: fc.constantFrom('plain' as const, 'leases' as const) }, { weight: 1, arbitrary: fc.constant('none' as const) }),
  storeKinds: fc.array(storeKindArb, { minLength: 1, maxLength: 4 }),
  storeTimeoutMs: fc.integer({ min: 1, max: 12 }),
  embedKinds: fc.array(embedKindArb, { minLength: 1, maxLength: 4 }),
  embedDelayMs: fc.integer({ min: 1, max: 15 }),
  embedTimeoutMs: fc.integer({ min: 1, max: 20 }),
  embedCacheSize: fc.constantFrom(0, 64),
  windowMs: fc.integer({ min: 0, max: 4 }),
  maxSize: fc.integer({ min: 1, max: 4 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: fc.integer({ min: 1, max: 25 }),
  onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
  requestTimeoutMs: fc.option(fc.integer({ min: 1, max: 40 }), { freq: 2 }),
  dedupInFlight: fc.boolean(),
  backends: fc.array(backendArb, { minLength: 1, maxLength: 5 }),
  durationMs: fc.integer({ min: 0, max: 10 }),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

interface Call {
  readonly items: readonly Req[];
  readonly signal: AbortSignal;
  finished: boolean;
}
interface StoreWrite {
  readonly at: number;
  settled: boolean;
}

/** The pieces both entry points share: embedder, store, executor, and what the test saw of them. */
function harness(s: Scenario, clock: ReturnType<typeof virtualClock>, onCall: (where: 'embed' | 'execute') => void = () => undefined) {
  const vts = clock.scheduler;
  const tracked = trackTimers(vts);
  const calls: Call[] = [];
  const writes: StoreWrite[] = [];
  let listening = 0;
  let embedCalls = 0;
  let storeCalls = 0;
  const later = <V>(ms: number, answer: (resolve: (v: V) => void, reject: (e: unknown) => void) => void) =>
    new Promise<V>((resolve, reject) => vts.schedule(() => answer(resolve, reject), ms));

  const embed: Embedder = (texts) => {
    onCall('embed');
    const kind = s.embedKinds[embedCalls++ % s.embedKinds.length]!;
    switch (kind) {
      case 'ok':
        return later(1, (resolve) => resolve(texts.map(vectorOf)));
      case 'late':
        return later(s.embedDelayMs, (resolve) => resolve(texts.map(vectorOf)));
      case 'never':
        return new Promise(() => undefined);
      case 'rejects':
        return later(1, (_, reject) => reject(new Error('embed rejected')));
      case 'throws':
        throw new Error('embed threw');
      case 'nan':
        return texts.map(() => [Number.NaN, 0, 0]);
      case 'nan-one':
        // Fails for one text of the call only (late, so batches of other texts wait on it).
        return later(s.embedDelayMs, (resolve) => resolve(texts.map((t, i) => (i === texts.length - 1 ? [Number.NaN, 1, 0] : vectorOf(t)))));
      case 'short':
        return later(1, (resolve) => resolve(texts.slice(1).map(vectorOf)));
    }
  };

  const table = new Map<string, unknown>();
  const leased = new Set<string>();
  function reply<V>(answer: () => V, write = false): PromiseLike<V> {
    const kind = s.storeKinds[storeCalls++ % s.storeKinds.length]!;
    const w: StoreWrite | undefined = write ? { at: vts.now(), settled: false } : undefined;
    if (w) writes.push(w);
    const made = answerOf(kind, answer);
    // Settled once the library can have heard it: these callbacks run before the library's own (registered first),
    // in the promise-callback turn after the moment the store answered. In that moment the library's bound timer
    // is rightly still there: an ending told in it (a backend's answer of the same moment) used to see a release
    // answered at once counted as done while its timer waited for that turn.
    const settle = () => {
      if (w) w.settled = true;
    };
    made.then(settle, settle);
    return made;
  }
  function answerOf<V>(kind: StoreKind, answer: () => V): Promise<V> {
    const done = <X>(x: X) => x;
    switch (kind) {
      case 'ok':
        return later(1, (resolve) => resolve(done(answer())));
      case 'late':
        return later(s.storeTimeoutMs + 2, (resolve) => resolve(done(answer())));
      case 'never':
        return new Promise(() => undefined);
      case 'rejects':
        return later(1, (_, reject) => reject(done(new Error('store rejected'))));
    }
  }
  const resultStore: ResultStore = {
    get: (keys) => reply(() => keys.map((key) => table.get(key))),
    set: (entries) =>
      reply(() => {
        for (const [key, value] of entries) table.set(key, JSON.parse(JSON.stringify(value)));
      }, true),
    ...(s.store === 'leases' && {
      leases: {
        leaseMs: 6,
        claim: (keys: readonly string[]) =>
          reply(() =>
            keys.map((key) => {
              const free = !leased.has(key);
              if (free) leased.add(key);
              return free;
            }),
          ),
        release: (keys: readonly string[]) =>
          reply(() => {
            for (const key of keys) leased.delete(key);
          }, true),
        wait: (keys: readonly string[]) => reply(() => keys.map((key) => table.get(key))),
      },
    }),
  };

  const execute = (items: Req[], context: ExecuteContext) => {
    onCall('execute');
    const kind = s.backends[calls.length % s.backends.length]!;
    const c: Call = { items, signal: context.signal, finished: false };
    calls.push(c);
    if (kind === 'throw') c.finished = true;
    const echo = items.map((r) => ({ id: r.id }));
    const made =
      kind === 'stream-open'
        ? concat(timer(s.durationMs, vts).pipe(mergeMap(() => from(echo.map((value, index) => ({ index, value }))))), NEVER)
        : backendCall<Echo>(kind, echo, vts, s.durationMs, s.processingTimeoutMs + 5);
    if (made instanceof Observable) {
      const watched = watchedCall(made, c);
      // Counted while the library listens: it lets go of every call's output by the ending.
      return new Observable<unknown>((subscriber) => {
        listening++;
        const inner = watched.subscribe(subscriber);
        return () => {
          listening--;
          inner.unsubscribe();
        };
      }) as Observable<Echo[]>;
    }
    if (Array.isArray(made)) c.finished = true;
    else if (made && typeof (made as PromiseLike<unknown>).then === 'function') {
      void Promise.resolve(made as PromiseLike<unknown>).then(
        () => (c.finished = true),
        () => (c.finished = true),
      );
    } else if (kind === 'async-iterable') c.finished = true;
    return made as Echo[];
  };

  const options = {
    windowMs: s.windowMs,
    maxSize: s.maxSize,
    concurrency: s.concurrency,
    processingTimeoutMs: s.processingTimeoutMs,
    onTimeout: s.onTimeout,
    dedupInFlight: s.dedupInFlight,
    ...(s.requestTimeoutMs !== null && { requestTimeoutMs: s.requestTimeoutMs }),
    dedupStrategy: s.strategy,
    key: (r: Req) => r.text,
    scheduler: tracked.scheduler,
    ...(s.strategy !== 'exact' && {
      embed,
      text: (r: Req) => r.text,
      mergeGuard: false,
      dedupThreshold: 0.9,
      embedTimeoutMs: s.embedTimeoutMs,
      embedCacheSize: s.embedCacheSize,
    }),
    ...(s.cache && {
      resultCache: {
        ttlMs: 1000,
        ...(s.semanticCache && s.strategy !== 'exact' && { semantic: true }),
        ...(s.store !== 'none' && { store: sharedStore(resultStore), storeTimeoutMs: s.storeTimeoutMs }),
      },
    }),
    execute,
  };

  /** Library timers allowed at an ending: store writes and lease releases under way, within their bound. */
  const allowedAtEnd = () => writes.filter((w) => !w.settled && vts.now() <= w.at + s.storeTimeoutMs).length;
  /** Calls that still owed answers and were not aborted, and call outputs still listened to. */
  const unaborted = () => calls.filter((c) => !c.finished && !c.signal.aborted).length + listening;
  return { tracked, options, calls, allowedAtEnd, unaborted };
}

const show = (r: Req, scope: DedupScope) => `request ${r.id} (${JSON.stringify(r.text)}, scope ${fc.stringify(scope)})`;

type Harness = ReturnType<typeof harness>;
type Stats = ReturnType<typeof createBatchStats>;
type MakeBatcher = (s: Scenario, h: Harness, stats: Stats) => { process: ReturnType<typeof createBatcher<Req, Echo>>['process']; close(): Promise<void> };

/**
 * `rxjs-batch-dedup/lite`: exact dedup only, the features as their objects: `resultCache()` with the hostile
 * store, `priorities()` with a huge aging rate and `adaptiveWindow()`, each drawn through a flag of the scenario.
 */
const liteBatcher: MakeBatcher = (s, h, stats) => {
  // What /lite does not take (similarity dedup and its options; the flat resultCache) is left out.
  const rest: Record<string, unknown> = { ...h.options };
  for (const name of ['resultCache', 'embed', 'text', 'mergeGuard', 'dedupThreshold', 'embedTimeoutMs', 'embedCacheSize']) delete rest[name];
  const rc = h.options.resultCache as { ttlMs: number; store?: SharedStore; storeTimeoutMs?: number } | undefined;
  const options = {
    ...rest,
    execute: h.options.execute,
    dedupStrategy: 'exact',
    stats,
    engine: lite.engine(),
    ...(rc && { resultCache: lite.resultCache({ ttlMs: rc.ttlMs, ...(rc.store !== undefined && { store: rc.store, storeTimeoutMs: rc.storeTimeoutMs }) }) }),
    ...(s.semanticCache && { priorities: lite.priorities({ priority: (r: Req) => r.id % 3, agingPerSecond: 1e9 }) }),
    ...(s.embedCacheSize > 0 && { adaptive: lite.adaptiveWindow({ targetLatencyMs: 5, minWindowMs: 0, maxWindowMs: 8 }) }),
  } as lite.BatchDedupOptions<Req, Echo>;
  return lite.createBatcher<Req, Echo>(options);
};
const mainBatcher: MakeBatcher = (_s, h, stats) => createBatcher<Req, Echo>({ ...h.options, stats });
/** The options /lite's lean core takes (it refuses the others, naming what brings them). */
const LEAN = ['windowMs', 'maxSize', 'minSize', 'maxWaitMs', 'scheduler', 'execute', 'concurrency', 'processingTimeoutMs', 'key', 'scope', 'enableDedup', 'dedupInFlight', 'requestTimeoutMs'];
/**
 * `rxjs-batch-dedup/lite` on its default path, the lean core: the harness's options it takes (no stats recorder,
 * no result cache or store, onTimeout 'reject'; a streamed answer fails its batch). Its stats are not judged.
 */
const liteLeanBatcher: MakeBatcher = (_s, h) =>
  lite.createBatcher<Req, Echo>(Object.fromEntries(Object.entries(h.options).filter(([name]) => LEAN.includes(name))) as unknown as lite.LeanOptions<Req, Echo>);

describe('createBatcher: what is alive when close() resolves', () => {
  it.each([
    ['main, with similarity dedup', mainBatcher],
    ['/lite with engine(), resultCache(), priorities() and adaptiveWindow()', liteBatcher],
    ['/lite, lean core', liteLeanBatcher],
  ] as const)('%s: no timer (but store writes within their bound), every unfinished call aborted; each call settled once with an answer of its scope and group', async (_, make) => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, fc.integer({ min: 0, max: 45 }), async (s, closeAt) => {
        const clock = virtualClock();
        const vts = clock.scheduler;
        const h = harness(s, clock);
        const stats = createBatchStats({ scheduler: h.tracked.scheduler });
        const batcher = make(s, h, stats);
        const requests = s.picks.map((p, id) => ({ ...p, request: { id, text: TEXTS[p.text]! } as Req, scope: SCOPES[p.scope] }));
        const byId = new Map(requests.map((r) => [r.request.id, r]));
        const settled: { id: number; outcome: PromiseSettledResult<Echo> }[] = [];
        let closed: { pending: number; allowed: number; unaborted: number } | undefined;
        for (const r of requests) {
          vts.schedule(() => {
            const controller = r.abortAt === null ? undefined : new AbortController();
            if (controller) vts.schedule(() => controller.abort(new Error(`caller ${r.request.id} left`)), r.abortAt! - r.at < 0 ? 0 : r.abortAt! - r.at);
            const promise = batcher.process(r.request, {
              ...(r.scope !== undefined && { scope: r.scope }),
              ...(r.timeoutMs !== null && { timeoutMs: r.timeoutMs }),
              ...(controller && { signal: controller.signal }),
            });
            promise.then(
              (value) => settled.push({ id: r.request.id, outcome: { status: 'fulfilled', value } }),
              (reason: unknown) => settled.push({ id: r.request.id, outcome: { status: 'rejected', reason } }),
            );
          }, r.at);
        }
        vts.schedule(() => {
          void batcher.close().then(() => (closed = { pending: h.tracked.pending(), allowed: h.allowedAtEnd(), unaborted: h.unaborted() }));
        }, closeAt);
        await runMoments(vts, () => closed !== undefined, 3000);
        expect(closed, 'close() resolved').toBeDefined();
        expect(closed!.pending, `timers left at close() (store writes under way: ${closed!.allowed})`).toBeLessThanOrEqual(closed!.allowed);
        expect(closed!.unaborted, 'calls that owed answers, not aborted at close()').toBe(0);
        const accepted = requests.filter((r) => r.at <= closeAt).map((r) => r.request.id);
        const ids = settled.map((x) => x.id);
        expect(new Set(ids).size, 'a call settled twice').toBe(ids.length);
        for (const id of accepted) expect(ids, `request ${id} never settled`).toContain(id);
        for (const { id, outcome } of settled) {
          const own = byId.get(id)!;
          if (outcome.status === 'rejected') {
            expect(outcome.reason).toBeInstanceOf(Error);
            continue;
          }
          const by = byId.get(outcome.value.id);
          expect(by, `request ${id} answered with ${JSON.stringify(outcome.value)}`).toBeDefined();
          const ok = sameScope(by!.scope, own.scope) && GROUP[TEXTS.indexOf(by!.request.text)] === GROUP[TEXTS.indexOf(own.request.text)];
          expect(ok, `${show(own.request, own.scope)} answered for ${show(by!.request, by!.scope)}`).toBe(true);
        }
        if (make === liteLeanBatcher) return; // no stats recorder on the lean core
        const snapshot = stats.snapshot();
        expectSaneStats(snapshot);
        expect(snapshot.completed).toBe(snapshot.totalRequests);
        // Calls after close() are refused (BatcherClosedError) and are no requests of the pipeline.
        const taken = settled.filter((x) => x.outcome.status === 'fulfilled' || (x.outcome.reason as Error).name !== 'BatcherClosedError');
        expect(snapshot.totalRequests).toBe(taken.length);
        expect(snapshot.queueDepth).toBe(0);
        expect(snapshot.inFlight).toBe(0);
        // Each rejection counted once, as what it was (docs/stats.md).
        const rejected = taken.filter((x) => x.outcome.status === 'rejected').map((x) => (x.outcome as PromiseRejectedResult).reason as Error);
        expect(snapshot.timeouts, 'timeouts').toBe(rejected.filter((e) => e.name === 'BatchTimeoutError').length);
        expect(snapshot.errors, 'errors').toBe(rejected.filter((e) => e.name !== 'BatchTimeoutError').length);
        expect(snapshot.dedupRate).toBeLessThanOrEqual(1);
        expect(snapshot.semanticCacheHits).toBeLessThanOrEqual(snapshot.cacheHits);
        expect(snapshot.storeHits + snapshot.storeJoins).toBeLessThanOrEqual(snapshot.executedItems);
        expect(snapshot.expired).toBeLessThanOrEqual(snapshot.timeouts);
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 300) },
    );
  }, 120_000);
});

type Ending = { kind: 'complete' } | { kind: 'error' } | { kind: 'take'; count: number };
const endingArb = fc.oneof(
  fc.constantFrom<Ending>({ kind: 'complete' }, { kind: 'error' }),
  fc.integer({ min: 1, max: 8 }).map((count): Ending => ({ kind: 'take', count })),
);

/** The counterexample of seed 2050482168 (a red CI run on Node 24), run first in every run of the property below. */
const FOLLOWER_PROMOTED_AFTER_TAKE = {"picks":[{"at":1,"text":0,"scope":0,"timeoutMs":null,"abortAt":null},{"at":0,"text":0,"scope":0,"timeoutMs":null,"abortAt":null},{"at":0,"text":0,"scope":0,"timeoutMs":null,"abortAt":null}],"strategy":"hybrid","semanticCache":false,"cache":true,"store":"plain","storeKinds":["late"],"storeTimeoutMs":1,"embedKinds":["nan-one"],"embedDelayMs":1,"embedTimeoutMs":1,"embedCacheSize":0,"windowMs":0,"maxSize":1,"concurrency":1,"processingTimeoutMs":1,"onTimeout":"individual","requestTimeoutMs":1,"dedupInFlight":false,"backends":["stream-open"],"durationMs":0} as unknown as Scenario;
/** Seed -936587408 (found locally, 2,000 runs): a lease release answered in the moment the output completes. */
const RELEASE_ANSWERED_AT_THE_ENDING = {"picks":[{"at":20,"text":0,"scope":0,"timeoutMs":null,"abortAt":null},{"at":1,"text":1,"scope":0,"timeoutMs":null,"abortAt":null},{"at":1,"text":1,"scope":1,"timeoutMs":null,"abortAt":null},{"at":0,"text":0,"scope":1,"timeoutMs":null,"abortAt":null},{"at":0,"text":0,"scope":1,"timeoutMs":null,"abortAt":null}],"strategy":"embedding","semanticCache":true,"cache":true,"store":"leases","storeKinds":["ok"],"storeTimeoutMs":2,"embedKinds":["never","ok"],"embedDelayMs":1,"embedTimeoutMs":8,"embedCacheSize":0,"windowMs":0,"maxSize":1,"concurrency":2,"processingTimeoutMs":7,"onTimeout":"reject","requestTimeoutMs":null,"dedupInFlight":false,"backends":["promise"],"durationMs":3} as unknown as Scenario;

describe('batchDedup: what is alive when the output ends or the subscriber leaves from inside a result', () => {
  it('no timer (but store writes within their bound), every unfinished call aborted; each request answered once, of its scope and group', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, endingArb, async (s, ending) => {
        const clock = virtualClock();
        const vts = clock.scheduler;
        const h = harness(s, clock);
        const requests = s.picks.map((p, id) => ({ ...p, request: { id, text: TEXTS[p.text]! } as Req, scope: SCOPES[p.scope] }));
        const byId = new Map(requests.map((r) => [r.request.id, r]));
        const scopeOf = new Map(requests.map((r) => [r.request, r.scope]));
        const source = new Subject<Req>();
        const results: BatchResult<Req, Echo>[] = [];
        let seen: { kind: string; pending: number; allowed: number; unaborted: number } | undefined;
        const look = (kind: string) => (seen = { kind, pending: h.tracked.pending(), allowed: h.allowedAtEnd(), unaborted: h.unaborted() });
        const failure = new Error('source failed');
        const controllers = new Map<Req, AbortController>();
        for (const r of requests) {
          if (r.abortAt === null) continue;
          const controller = new AbortController();
          controllers.set(r.request, controller);
          vts.schedule(() => controller.abort(new Error(`caller ${r.request.id} left`)), r.abortAt);
        }
        const output = source.pipe(
          batchDedup<Req, Echo>({ ...h.options, scope: (r) => scopeOf.get(r), signal: (r) => controllers.get(r)?.signal }),
        );
        const subscription = (ending.kind === 'take' ? output.pipe(take(ending.count)) : output).subscribe({
          next: (result) => results.push(result),
          error: () => look('error'),
          complete: () => look('complete'),
        });
        for (const r of requests) vts.schedule(() => source.next(r.request), r.at);
        const last = Math.max(...requests.map((r) => r.at));
        if (ending.kind === 'complete') vts.schedule(() => source.complete(), last + 1);
        if (ending.kind === 'error') vts.schedule(() => source.error(failure), last + 1);
        await runMoments(vts, () => seen !== undefined || subscription.closed, 3000);
        if (ending.kind === 'take' && subscription.closed) look('take');
        if (ending.kind !== 'take') expect(seen?.kind).toBe(ending.kind);
        if (seen) {
          expect(seen.pending, `timers left at ${seen.kind} (store writes under way: ${seen.allowed})`).toBeLessThanOrEqual(seen.allowed);
          expect(seen.unaborted, `calls that owed answers, not aborted at ${seen.kind}`).toBe(0);
        }
        const ids = results.map((x) => x.request.id);
        expect(new Set(ids).size, 'a request answered twice').toBe(ids.length);
        if (ending.kind !== 'take') expect(ids.length).toBe(requests.length);
        for (const result of results) {
          if (result.status === 'rejected') {
            expect(result.error).toBeInstanceOf(Error);
            continue;
          }
          const own = byId.get(result.request.id)!;
          const by = byId.get(result.value.id);
          expect(by, `request ${own.request.id} answered with ${JSON.stringify(result.value)}`).toBeDefined();
          const ok = sameScope(by!.scope, own.scope) && GROUP[TEXTS.indexOf(by!.request.text)] === GROUP[TEXTS.indexOf(own.request.text)];
          expect(ok, `${show(own.request, own.scope)} answered for ${show(by!.request, by!.scope)}`).toBe(true);
          // A store hit is answered as a streamed item of the execution, deduplicated: false (see the report).
          if (!result.deduplicated && s.store !== 'none' && s.cache) expect(by!.request.text).toBe(own.request.text);
          else if (!result.deduplicated) expect(by!.request).toBe(own.request);
        }
      }),
      {
        numRuns: Number(process.env['ATK_RUNS'] ?? 300),
        // Found in CI (seed 2050482168): a request left by its deadline is refused, the subscriber leaves inside that
        // answer (take), and the engine went on to promote an equal follower, arming its deadline after the end.
        examples: [
          [FOLLOWER_PROMOTED_AFTER_TAKE, { kind: 'take', count: 1 }],
          [RELEASE_ANSWERED_AT_THE_ENDING, { kind: 'complete' }],
        ],
      },
    );
  }, 120_000);
});

/**
 * `configure()` from inside `embed`, `execute` and a result's callback, with values at the edges (0, -0, 2^31,
 * huge, Infinity where it means no limit) and values it must refuse (NaN, strings, objects of no prototype or with
 * a throwing `toString`, a fixed option changed): a refused one throws `createBatcher.configure: ...`, naming the
 * option; a valid one takes; the promises of the first property hold throughout.
 */
const GOOD: readonly Record<string, unknown>[] = [
  { windowMs: 0 },
  { windowMs: -0 },
  { windowMs: 2 ** 31 },
  { maxWaitMs: 3 },
  { maxSize: 2 ** 31 },
  { maxSize: 1 },
  { concurrency: 1 },
  { concurrency: 2 ** 31 },
  { concurrency: Infinity },
  { processingTimeoutMs: 2 },
  { onTimeout: 'individual' },
  { requestTimeoutMs: 5 },
  { requestTimeoutMs: Infinity },
  { maxQueueSize: 2 ** 31 },
  { dedupThreshold: 1 },
  { dedupThreshold: 0.95 },
  { enableDedup: false },
  { enableDedup: true },
  { embedTimeoutMs: 2 },
  { embedCacheSize: 0 },
  { dedupStrategy: 'exact' },
  { dedupStrategy: 'hybrid' },
  { key: (r: Req) => `${r.text}!` },
  { costPerRequestUsd: 1e300 },
  { windowMs: 1, maxSize: 3, dedupThreshold: 0.99 },
];
const noText = Object.create(null) as object;
const throwsText = { toString: () => { throw new Error('no text'); } };
const BAD: readonly Record<string, unknown>[] = [
  { windowMs: Number.NaN },
  { windowMs: '5' },
  { maxSize: 0 },
  { maxSize: 1.5 },
  { concurrency: -0 },
  { processingTimeoutMs: -1 },
  { dedupThreshold: Number.NaN },
  { dedupThreshold: 1.0000001 },
  { embedTimeoutMs: noText },
  { requestTimeoutMs: throwsText },
  { onTimeout: 'retry' },
  { maxQueueSize: 0 },
  { dedupInFlight: 'yes' },
  { resultCache: { ttlMs: 1 } },
  { windowMs: 0, maxSize: 0 },
  { windwMs: 3 },
];
const changeArb = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...GOOD) }, { weight: 1, arbitrary: fc.constantFrom(...BAD) });

describe('createBatcher: configure() from inside embed, execute and a result, at the edges', () => {
  it('a refused change throws createBatcher.configure: and changes nothing; every call settles once, with an answer of its scope and group; close() leaves nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenarioArb,
        fc.array(fc.tuple(fc.constantFrom('embed' as const, 'execute' as const, 'result' as const), fc.nat({ max: 6 }), changeArb), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 0, max: 45 }),
        async (s, plan, closeAt) => {
          const clock = virtualClock();
          const vts = clock.scheduler;
          const seen = { embed: 0, execute: 0, result: 0 };
          const wrong: string[] = [];
          let batcher: ReturnType<typeof createBatcher<Req, Echo>> | undefined;
          const onCall = (where: 'embed' | 'execute' | 'result') => {
            const count = seen[where]++;
            for (const [at, n, change] of plan) {
              if (at !== where || n !== count || !batcher || batcher.closed) continue;
              const bad = BAD.includes(change);
              const windowBefore = stats.snapshot().currentWindowMs;
              try {
                batcher.configure(change as never);
                if (bad) wrong.push(`accepted ${fc.stringify(change)}`);
              } catch (error) {
                const message = error instanceof Error ? error.message : String(error);
                // The semantic result cache needs similarity dedup: leaving it is refused, rightly.
                const needsSimilarity = /^createBatcher\.configure: resultCache\.semantic needs dedupStrategy/.test(message);
                if (!bad && !needsSimilarity) wrong.push(`refused ${fc.stringify(change)}: ${message}`);
                else if (!message.startsWith('createBatcher.configure: ')) wrong.push(`refused ${fc.stringify(change)} saying ${message}`);
                if (stats.snapshot().currentWindowMs !== windowBefore) wrong.push(`refused ${fc.stringify(change)}, yet the window changed`);
              }
            }
          };
          const h = harness(s, clock, onCall);
          const stats: ReturnType<typeof createBatchStats> = createBatchStats({ scheduler: h.tracked.scheduler });
          batcher = createBatcher<Req, Echo>({ ...h.options, stats });
          const requests = s.picks.map((p, id) => ({ ...p, request: { id, text: TEXTS[p.text]! } as Req, scope: SCOPES[p.scope] }));
          const byId = new Map(requests.map((r) => [r.request.id, r]));
          const settled: { id: number; outcome: PromiseSettledResult<Echo> }[] = [];
          let closed: { pending: number; allowed: number; unaborted: number } | undefined;
          for (const r of requests) {
            vts.schedule(() => {
              const promise = batcher!.process(r.request, {
                ...(r.scope !== undefined && { scope: r.scope }),
                ...(r.timeoutMs !== null && { timeoutMs: r.timeoutMs }),
              });
              promise.then(
                (value) => {
                  settled.push({ id: r.request.id, outcome: { status: 'fulfilled', value } });
                  onCall('result');
                },
                (reason: unknown) => {
                  settled.push({ id: r.request.id, outcome: { status: 'rejected', reason } });
                  onCall('result');
                },
              );
            }, r.at);
          }
          vts.schedule(() => {
            void batcher!.close().then(() => (closed = { pending: h.tracked.pending(), allowed: h.allowedAtEnd(), unaborted: h.unaborted() }));
          }, closeAt);
          await runMoments(vts, () => closed !== undefined, 3000);
          expect(wrong).toEqual([]);
          expect(closed, 'close() resolved').toBeDefined();
          expect(closed!.pending, `timers left at close() (store writes under way: ${closed!.allowed})`).toBeLessThanOrEqual(closed!.allowed);
          expect(closed!.unaborted, 'calls that owed answers, not aborted at close()').toBe(0);
          const ids = settled.map((x) => x.id);
          expect(new Set(ids).size, 'a call settled twice').toBe(ids.length);
          for (const r of requests) if (r.at <= closeAt) expect(ids, `request ${r.request.id} never settled`).toContain(r.request.id);
          for (const { id, outcome } of settled) {
            const own = byId.get(id)!;
            if (outcome.status === 'rejected') {
              expect(outcome.reason).toBeInstanceOf(Error);
              continue;
            }
            const by = byId.get(outcome.value.id)!;
            const ok = sameScope(by.scope, own.scope) && GROUP[TEXTS.indexOf(by.request.text)] === GROUP[TEXTS.indexOf(own.request.text)];
            expect(ok, `${show(own.request, own.scope)} answered for ${show(by.request, by.scope)}`).toBe(true);
          }
          const snapshot = stats.snapshot();
          expectSaneStats(snapshot);
          expect(snapshot.completed).toBe(snapshot.totalRequests);
        },
      ),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 300) },
    );
  }, 120_000);
});
