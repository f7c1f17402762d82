/** Helpers shared by the test files (not a test file itself). */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  concat,
  defer,
  from,
  ignoreElements,
  map,
  merge,
  NEVER,
  Observable,
  throwError,
  timer,
  type SchedulerAction,
  type SchedulerLike,
  type Subscription,
  type VirtualTimeScheduler,
} from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DedupKey, DedupScope, Embedder } from '../src/index.js';
import type { VirtualClock } from '../src/testing/index.js';

/** Lets pending promise callbacks run (one macrotask turn), e.g. after a virtual clock moved. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Advances the clock 1 ms at a time, letting promise callbacks run in between, until `promise` settles. Small
 * steps matter: jumping to the last timer would fire `processingTimeoutMs` before a promise returned by
 * `execute` had a chance to resolve.
 */
export async function settleAll<V>(clock: VirtualClock, promise: Promise<V>): Promise<PromiseSettledResult<V>> {
  const settled = Promise.allSettled([promise]).then(([r]) => r!);
  let done: PromiseSettledResult<V> | undefined;
  void settled.then((r) => (done = r));
  for (let guard = 0; guard < 500 && !done; guard++) {
    await turn();
    clock.advanceBy(1);
  }
  return settled;
}

/** Runs every timer and promise callback until `closing` (a batcher's `close()`) resolves; returns whether it did. */
export async function drain(clock: VirtualClock, closing: Promise<void>): Promise<boolean> {
  let closed = false;
  void closing.then(() => (closed = true));
  for (let guard = 0; guard < 1000 && !closed; guard++) {
    clock.runAll();
    await turn();
  }
  return closed;
}

/** Waits (on real time) for a condition that the test then asserts; gives up, letting the assertion fail, after 10 s. */
export async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition() && waited < 10_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
}

/** A page shows each file verbatim, so what readers copy is what the tests compile and run. */
export function showsVerbatim(page: string, files: readonly string[]): void {
  describe(page, () => {
    it.each(files)('shows %s verbatim', (file) => {
      const text = readFileSync(new URL(`../${page}`, import.meta.url), 'utf8');
      const code = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
      expect(text).toContain('```ts\n' + code + '```\n');
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile keys and scopes, and the rules of docs/keys.md as a model written apart from the implementation
// (structural comparisons, never an encoding).

/** Strings that read like other keys and scopes, or like their `String()` or JSON: `'1'` and `1`, `'1x'` and `1` + `'x'`. */
export const LOOK_ALIKES = ['x', '1x', '1', '11', '1:1', 'a,b', '', 'null', 'true', '["a"]', '{"a":1}', '1n', '-0', 'NaN', 'undefined'];

/** Scopes a `scope` function may return: strings that look like numbers, numbers (-0 and Infinity too), bigints, none. */
export const SCOPES: readonly DedupScope[] = ['a', 'b', '1', '11', '1:1', '', 'undefined', 1, 11, 0, -0, Infinity, -Infinity, 1n, 11n, undefined];

/** What no scope may be (each rejects its own request). */
export const BAD_SCOPES: readonly unknown[] = [Number.NaN, null, true, {}, ['1'], Symbol.for('scope')];

const keyLeafArb: fc.Arbitrary<DedupKey> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...LOOK_ALIKES) },
  { weight: 2, arbitrary: fc.constantFrom(0, -0, 1, 11, 1.5, -2) },
  { weight: 1, arbitrary: fc.constantFrom(0n, 1n, 11n) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);

/**
 * A key a `key` function may return (`DedupKey`): look-alike strings, numbers, bigints, booleans, null, and
 * arrays and plain objects of these (`['a,b']` against `['a', 'b']`, fields that are `undefined`).
 */
export const keyArb: fc.Arbitrary<DedupKey> = fc.letrec<{ key: DedupKey }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', maxDepth: 2 },
    keyLeafArb,
    keyLeafArb,
    fc.constantFrom<DedupKey>(['a,b'], ['a', 'b'], [1, [2, 3n]], [], {}),
    fc.array(tie('key'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), fc.option(tie('key'), { nil: undefined, freq: 4 }), { maxKeys: 3 }) as fc.Arbitrary<DedupKey>,
  ),
})).key;

/** What no key may be (each rejects its own request with a TypeError naming `key(request)`). */
export const BAD_KEYS: readonly unknown[] = [Number.NaN, Infinity, undefined, Symbol.for('key'), new Date(0), new Map(), [undefined], { a: Number.NaN }];

/** A value inside a request under the default key: a key's values, and NaN, +-Infinity, undefined, Dates and bigints. */
export const requestValueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 2 },
    keyLeafArb,
    fc.constantFrom<() => unknown>(
      () => Number.NaN,
      () => Infinity,
      () => -Infinity,
      () => undefined,
      () => new Date(0),
      () => new Date(5),
      () => 9007199254740993n,
    ).map((make) => make()),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** An equal copy: a new object for every array, object and Date, and every object's fields in reverse order. */
export function reordered<V>(value: V): V {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return new Date(value.getTime()) as V;
  if (Array.isArray(value)) return value.map((element: unknown) => reordered(element)) as V;
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(value).reverse()) out[field] = reordered((value as Record<string, unknown>)[field]);
  return out as V;
}

/**
 * Equal as docs/keys.md says, for keys and for the default key: by type and value (NaN equals NaN, -0 equals 0,
 * `'1'`, `1` and `1n` differ), Dates by time, arrays in order, objects whatever their field order, a field
 * holding `undefined` counting as absent.
 */
export function sameKey(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && sameKey(a.getTime(), b.getTime());
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((element, i) => sameKey(element, bb[i]));
  }
  const fields = (o: object) =>
    Object.keys(o)
      .filter((f) => (o as Record<string, unknown>)[f] !== undefined)
      .sort();
  const fa = fields(a);
  const fb = fields(b as object);
  return fa.length === fb.length && fa.every((f, i) => f === fb[i] && sameKey((a as Record<string, unknown>)[f], (b as Record<string, unknown>)[f]));
}

/** Scopes are equal when of one type and one value: `1`, `'1'` and `1n` are three; -0 and 0 are one. */
export const sameScope = (a: unknown, b: unknown): boolean => typeof a === typeof b && a === b;

export const validScope = (s: unknown): boolean =>
  typeof s === 'string' || typeof s === 'bigint' || s === undefined || (typeof s === 'number' && !Number.isNaN(s));

/** A `DedupKey`: strings, finite numbers, bigints, booleans, null, arrays and plain objects of these. */
export function validKey(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'bigint':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) return true;
      if (Array.isArray(value)) return value.every((element) => validKey(element));
      // Objects of no class are plain too (`Object.create(null)`).
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return false;
      return Object.values(value).every((field) => field === undefined || validKey(field));
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Clocks as hosts have them.

/**
 * `inner` as a host's timers and wall clock behave: a delay above 2^31-1 ms fires after 1 ms (as `setTimeout`
 * does; so a long timer the library forgot to chain fires early), and `step(ms)` moves `now()` back or forward
 * while timers keep their delays (as `Date.now()` steps under NTP); `now()` reads `start` more than `inner`'s.
 * Not a virtual clock to the library.
 */
export function hostClock(inner: SchedulerLike, start = 0): { scheduler: SchedulerLike; step(ms: number): void; offset(): number } {
  let offset = start;
  const clamp = (delay = 0) => (delay > 2 ** 31 - 1 ? 1 : delay);
  const scheduler: SchedulerLike = {
    now: () => inner.now() + offset,
    schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S): Subscription {
      return inner.schedule<S>(
        function (this: SchedulerAction<S>, s?: S) {
          const action = this;
          const clamped = Object.create(action) as SchedulerAction<S>;
          clamped.schedule = (nextState?: S, nextDelay?: number) => action.schedule(nextState, clamp(nextDelay));
          work.call(clamped, s);
        },
        clamp(delay),
        state,
      );
    },
  };
  return { scheduler, step: (ms) => (offset += ms), offset: () => offset };
}

/**
 * Runs the timers due at the next moment any timer is due (all of them at that moment) and leaves the clock
 * there. Returns false when no timer is left.
 */
export function runNextMoment(scheduler: VirtualTimeScheduler): boolean {
  const next = scheduler.actions[0];
  if (!next) return false;
  scheduler.maxFrames = next.delay;
  scheduler.flush();
  scheduler.maxFrames = Infinity;
  return true;
}

/**
 * Runs the clock moment by moment, letting promise callbacks run after each, until `done()` or no timer is left
 * (or `maxMoments` have run). So whatever a promise callback reads (`tracked.pending()` when `close()` resolves)
 * is read before any later timer runs.
 */
export async function runMoments(scheduler: VirtualTimeScheduler, done: () => boolean, maxMoments = 5000): Promise<boolean> {
  await turn();
  for (let i = 0; i < maxMoments && !done(); i++) {
    if (!runNextMoment(scheduler)) break;
    await turn();
  }
  return done();
}

/** Scopes that read alike: one value under three types, or one string that is two others side by side. */
export const SCOPE_FAMILIES: readonly (readonly DedupScope[])[] = [
  [1, '1', 1n],
  [11, '11', 11n],
  [0, -0, '0', 0n],
  [1, 11, '1:1', '11'],
  [Infinity, 'Infinity', undefined, 'undefined'],
];

/**
 * Small pools of keys and scopes to pick requests from, so that many requests are equal or look alike; now and
 * then the classic collision (key `'1x'` in scope 1, key `'x'` in scope 11).
 */
export const keyPoolsArb = (keys: fc.Arbitrary<unknown> = keyArb): fc.Arbitrary<{ keys: unknown[]; scopes: DedupScope[] }> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant<{ keys: unknown[]; scopes: DedupScope[] }>({ keys: ['1x', 'x'], scopes: [1, 11] }) },
    {
      weight: 6,
      arbitrary: fc.record({
        keys: fc.array(keys, { minLength: 1, maxLength: 4 }),
        scopes: fc.oneof(fc.constantFrom(...SCOPE_FAMILIES).map((f) => [...f]), fc.subarray([...SCOPES], { minLength: 1, maxLength: 4 })),
      }),
    },
  );

// ---------------------------------------------------------------------------------------------------------------
// Backends that answer well, badly, or never.

/**
 * Ways a backend call may go. The observable ones run on the scheduler alone (inside `TestScheduler.run`); the
 * others need promise callbacks to run between moments (a virtual clock driven with `runMoments`).
 */
export const OBSERVABLE_KINDS = [
  'ok',
  'stream-all',
  'stream-error-null',
  'throw',
  'error-later',
  'wrong-length',
  'too-long',
  'non-array',
  'stream-partial',
  'stream-bad-index',
  'stream-dup-index',
  'stream-neither',
  'errors-midway',
  'defer-throws',
  'slow',
  'never',
] as const;
export const PROMISE_KINDS = ['promise', 'array', 'async-iterable', 'rejects', 'then-throws', 'then-both', 'resolves-non-array', 'never-promise', 'never-then'] as const;
export type BackendKind = (typeof OBSERVABLE_KINDS)[number] | (typeof PROMISE_KINDS)[number];

/** The kinds that never answer: only a timeout (or the caller's own deadline) ends them. */
export const NEVER_SETTLING: ReadonlySet<BackendKind> = new Set<BackendKind>(['never', 'never-promise', 'never-then', 'slow']);

const NOT_A_RESULT: readonly unknown[] = [42, null, undefined, 'results', { results: [] }, 7n, true];

/**
 * One backend call of the given kind, answering `echo` (one answer per item, in order) after `durationMs` on
 * `scheduler`, or misbehaving. `slowMs`: when a 'slow' call answers (past the processing timeout).
 */
export function backendCall<E>(kind: BackendKind, echo: E[], scheduler: SchedulerLike, durationMs: number, slowMs: number): unknown {
  const later = timer(durationMs, scheduler);
  const wait = later.pipe(ignoreElements());
  const failure = new Error(`backend: ${kind}`);
  switch (kind) {
    case 'ok':
      return later.pipe(map(() => echo));
    case 'array':
      return echo;
    case 'promise':
      return new Promise<E[]>((resolve) => scheduler.schedule(() => resolve(echo), durationMs));
    case 'stream-all':
      return merge(...echo.map((value, index) => timer((index * 3) % 7, scheduler).pipe(map(() => ({ index, value })))));
    case 'stream-error-null':
      return concat(wait, from(echo.map((value, index) => ({ index, value, error: null })).reverse()));
    case 'async-iterable':
      return (async function* () {
        for (const [index, value] of echo.entries()) yield { index, value };
      })();
    case 'throw':
      throw failure;
    case 'error-later':
      return concat(wait, throwError(() => failure));
    case 'rejects':
      return new Promise((_, reject) => scheduler.schedule(() => reject(failure), durationMs));
    case 'then-throws':
      return {
        then() {
          throw failure;
        },
      };
    case 'then-both':
      return {
        then(resolve: (v: E[]) => void, reject: (e: unknown) => void) {
          reject(failure);
          resolve(echo);
          throw new Error('and threw');
        },
      };
    case 'wrong-length':
      return later.pipe(map(() => echo.slice(1)));
    case 'too-long':
      return later.pipe(map(() => [...echo, ...echo]));
    case 'non-array':
      return later.pipe(map(() => NOT_A_RESULT[echo.length % NOT_A_RESULT.length]));
    case 'resolves-non-array':
      return Promise.resolve(NOT_A_RESULT[echo.length % NOT_A_RESULT.length]);
    case 'stream-partial':
      return concat(wait, from(echo.filter((_, i) => i % 2 === 0).map((value, k) => ({ index: k * 2, value }))));
    case 'stream-bad-index':
      return concat(wait, from([{ index: echo.length - 1, value: echo[echo.length - 1] }, { index: [echo.length, -1, 0.5, '0'][echo.length % 4], value: echo[0] }]));
    case 'stream-dup-index':
      return concat(wait, from([{ index: 0, value: echo[0] }, { index: 0, value: echo[echo.length - 1] }, ...echo.slice(1).map((value, k) => ({ index: k + 1, value }))]));
    case 'stream-neither':
      return concat(wait, from([{ index: 0 }]));
    case 'errors-midway':
      return concat(wait, new Observable((subscriber) => {
        subscriber.next({ index: 0, value: echo[0] });
        subscriber.error(failure);
      }));
    case 'defer-throws':
      return defer(() => {
        throw failure;
      });
    case 'slow':
      return timer(slowMs, scheduler).pipe(map(() => echo));
    case 'never':
      return NEVER;
    case 'never-promise':
      return new Promise(() => undefined);
    case 'never-then':
      return { then: () => undefined };
  }
}

const DAY = 24 * 60 * 60 * 1000;

/** Delays where host timers go wrong: the largest a host timer holds, one past it, far past it, and never. */
export const HUGE_DELAYS = [2 ** 31 - 1, 2 ** 31, 3e9, Infinity] as const;

/** Mostly a small duration in [min, max], now and then one of `huge`. */
export const durationArb = (min: number, max: number, huge: readonly number[] = HUGE_DELAYS): fc.Arbitrary<number> =>
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(...huge) });

/** A step of a wall clock: back or forward, from 1 ms to three days, mostly small. */
export const clockStepArb: fc.Arbitrary<number> = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 1000 }) },
      { weight: 2, arbitrary: fc.integer({ min: 1000, max: 10 * 60 * 1000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 10 * 60 * 1000, max: 3 * DAY }) },
    ),
  )
  .map(([back, ms]) => (back ? -ms : ms));

/** Where a wall clock starts: zero, or a `Date.now()` of today. */
export const clockStartArb = fc.constantFrom(0, 1_700_000_000_000);

/** Every number in a stats snapshot finite and >= 0. */
export function expectSaneStats(stats: object, where = 'stats'): void {
  for (const [name, value] of Object.entries(stats)) {
    if (typeof value === 'number') expect(Number.isFinite(value) && value >= 0, `${where}.${name} = ${value}`).toBe(true);
    else if (typeof value === 'object' && value !== null) expectSaneStats(value, `${where}.${name}`);
  }
}

/**
 * Counts the abort listeners on `signal` that are still registered (added and neither removed nor, for a `once`
 * listener, fired), so a test can read them at the very moment a call settles.
 */
export function countAbortListeners(signal: AbortSignal): () => number {
  const live = new Map<unknown, boolean>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  // Registered first, so it runs first: the `once` listeners are gone once the abort has been dispatched.
  add('abort', () => {
    for (const [listener, once] of live) if (once) live.delete(listener);
  });
  signal.addEventListener = ((type: string, listener: unknown, options?: boolean | AddEventListenerOptions) => {
    if (type === 'abort' && listener) live.set(listener, typeof options === 'object' && options.once === true);
    add(type, listener as EventListener, options);
  }) as AbortSignal['addEventListener'];
  signal.removeEventListener = ((type: string, listener: unknown, options?: boolean | EventListenerOptions) => {
    if (type === 'abort') live.delete(listener);
    remove(type, listener as EventListener, options);
  }) as AbortSignal['removeEventListener'];
  return () => live.size;
}

/** Texts for hostile-embedder tests: a pool of distinct questions. */
export const POOL = ['alpha question', 'bravo question', 'charlie question', 'delta question', 'echo question'];
export const DIMENSIONS = POOL.length;
/** Good vectors: each text of the pool its own axis, so nothing merges and every answer is the text's own. */
export const axis = (text: string, dimensions = DIMENSIONS): number[] => {
  const v = new Array<number>(dimensions).fill(0);
  v[POOL.indexOf(text) % dimensions] = 1;
  return v;
};

// ---------------------------------------------------------------------------------------------------------------
// Harness pieces of the reliability properties (fused batchDedup and the composed operators).

/** A backend call as the test saw it; `finished` once it owes nothing more. */
export interface WatchedCall {
  readonly items: readonly unknown[];
  finished: boolean;
}

/**
 * `output`, marking `c` finished once it has delivered everything it owes: the library stops listening, without
 * aborting, after an array (or anything else that is not a streamed item) and after the last item of a stream,
 * so those calls are not expected to be aborted.
 */
export function watchedCall<V>(output: Observable<V>, c: WatchedCall): Observable<V> {
  const streamed = new Set<unknown>();
  return new Observable<V>((subscriber) =>
    output.subscribe({
      next: (value) => {
        if (typeof value !== 'object' || value === null || !('index' in value)) c.finished = true;
        else streamed.add((value as { index: unknown }).index);
        if (streamed.size >= c.items.length) c.finished = true;
        subscriber.next(value);
      },
      error: (error: unknown) => {
        c.finished = true;
        subscriber.error(error);
      },
      complete: () => {
        c.finished = true;
        subscriber.complete();
      },
    }),
  );
}

/**
 * Each request at its time `at` (on the ambient TestScheduler); with `synchronous`, those at 0 are sent
 * synchronously as the source is subscribed, as `of(...)` or a replayed buffer would. With `error`, the source
 * then fails 1 ms after the last arrival.
 */
export function arrivalsOf<R extends { readonly at: number }>(requests: readonly R[], synchronous: boolean, error?: Error): Observable<R> {
  const arrivals = merge(
    from(synchronous ? requests.filter((r) => r.at === 0) : []),
    ...requests.filter((r) => !synchronous || r.at !== 0).map((r) => timer(r.at).pipe(map(() => r))),
  );
  if (!error) return arrivals;
  const lastArrival = Math.max(...requests.map((r) => r.at));
  return concat(
    arrivals,
    timer(lastArrival + 1).pipe(
      map(() => {
        throw error;
      }),
    ),
  );
}

/** Advances `clock` `ms` times by 1 ms, letting promise callbacks run after each step. */
export async function runFor(clock: VirtualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t++) {
    clock.advanceBy(1);
    await turn();
  }
}

/** An embedder that answers the `axis` vectors `delayMs` after each call, on `clock`, noting each call's texts. */
export function slowAxis(clock: VirtualClock, delayMs: number): { embed: Embedder; calls: string[][] } {
  const calls: string[][] = [];
  const embed: Embedder = (texts) => {
    calls.push([...texts]);
    return new Promise((resolve) => clock.scheduler.schedule(() => resolve(texts.map((t) => axis(t))), delayMs));
  };
  return { embed, calls };
}
