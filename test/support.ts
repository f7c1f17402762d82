/** Helpers shared by the test files (not a test file itself). */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { SchedulerAction, SchedulerLike, Subscription, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DedupKey, DedupScope } from '../src/index.js';
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
 * while timers keep their delays (as `Date.now()` steps under NTP). Not a virtual clock to the library.
 */
export function hostClock(inner: SchedulerLike): { scheduler: SchedulerLike; step(ms: number): void; offset(): number } {
  let offset = 0;
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
