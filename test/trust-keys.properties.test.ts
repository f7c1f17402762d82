/**
 * Properties of keys and scopes over a hostile domain (issue 11 items 1, 2 and 5), through `createBatcher` and
 * `batchDedup` with in-flight dedup and the result cache on, in virtual time:
 *
 * - keys and scopes of every type (strings that look like the encoding of other keys, numbers with NaN,
 *   +-Infinity and -0, bigints, arrays, nested objects, symbols, functions, Maps, Dates, class instances,
 *   circular structures): no request is answered with a result computed for a request of another scope or of
 *   a different key, and a key or scope outside the rules rejects that request alone, with the right error;
 * - the default key, over the same domain, by its own rules (docs/keys.md);
 * - `configure()` of key, scope, dedupStrategy and dedupThreshold between arrivals and during executions:
 *   nothing computed under old settings answers a request that arrived after the change.
 *
 * The models below are written apart from the implementation: structural comparisons, not encodings.
 */
import fc from 'fast-check';
import { map, merge, timer, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, stableKey, type BatchDedupOptions, type DedupKey, type DedupScope } from '../src/index.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

// ---------------------------------------------------------------------------------------------------------------
// The hostile domain.

class Point {
  constructor(readonly x: number) {}
}
const SYMBOL_A = Symbol('a');
const SYMBOL_B = Symbol('b');
const aFunction = () => 1;
const circularObject: Record<string, unknown> = { a: 1 };
circularObject['self'] = circularObject;
const circularArray: unknown[] = [1];
circularArray.push(circularArray);

/** Strings that read like the encodings (or String()) of other values. */
const LOOK_ALIKES = ['', '1', '11', '1x', 'x', '1n', 'a,b', 'null', 'true', 'NaN', 'Infinity', 'undefined', '"a"', '["a"]', '[1]', '{"a":1}', 'D0', '~', '\u0000text', '\u0000undefined', '-0', '0'];

const primitiveArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...LOOK_ALIKES),
  fc.string({ maxLength: 2 }),
  fc.integer({ min: -2, max: 11 }),
  fc.constantFrom(0, -0, Number.NaN, Infinity, -Infinity, 1.5),
  fc.bigInt({ min: -2n, max: 11n }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
);

/** Values no key may hold (the default key takes Dates). New instances each time, so none is shared by identity. */
const exoticArb: fc.Arbitrary<unknown> = fc.constantFrom<() => unknown>(
  () => SYMBOL_A,
  () => SYMBOL_B,
  () => aFunction,
  () => new Map([['a', 1]]),
  () => new Set([1]),
  () => new Date(0),
  () => new Date(1),
  () => new Point(1),
  () => new Uint8Array([1]),
  () => circularObject,
  () => circularArray,
).map((make) => make());

const valueArb: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    primitiveArb,
    primitiveArb,
    exoticArb,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom('a', 'b', 'c', 'a b'), tie('value'), { maxKeys: 3 }),
  ),
})).value;

const scopeArb: fc.Arbitrary<unknown> = fc.constantFrom<() => unknown>(
  () => undefined,
  () => 'a',
  () => '1',
  () => '11',
  () => '',
  () => 'undefined',
  () => 1,
  () => 11,
  () => 0,
  () => -0,
  () => Infinity,
  () => 1n,
  () => 11n,
  () => Number.NaN,
  () => null,
  () => true,
  () => SYMBOL_A,
  () => ({}),
  () => ['1'],
).map((make) => make());

/** An equal copy (objects' fields in reverse order), or the value itself, or a look-alike string of it. */
function variant(value: unknown, how: number): unknown {
  if (how === 1) return copy(value, new Set());
  if (how === 2) {
    try {
      return stableKey(value);
    } catch {
      return fc.stringify(value);
    }
  }
  if (how === 3) return fc.stringify(value);
  return value;
}

function copy(value: unknown, path: Set<unknown>): unknown {
  if (typeof value !== 'object' || value === null || path.has(value)) return value;
  if (value instanceof Date) return new Date(value.getTime());
  if (Array.isArray(value)) {
    path.add(value);
    const out = value.map((element) => copy(element, path));
    path.delete(value);
    return out;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  path.add(value);
  const out: Record<string, unknown> = {};
  for (const field of Object.keys(value).reverse()) out[field] = copy((value as Record<string, unknown>)[field], path);
  path.delete(value);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// The models: what may be a key or a scope, and when two are equal.

const isPlain = (value: object) => Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null;

/** A user's key: strings, finite numbers, bigints, booleans, null, arrays and plain objects of these. */
function validKey(value: unknown, ancestors: unknown[] = []): boolean {
  switch (typeof value) {
    case 'string':
    case 'bigint':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (ancestors.includes(value)) return false;
  const inside = [...ancestors, value];
  if (Array.isArray(value)) return value.every((element) => validKey(element, inside));
  if (!isPlain(value)) return false;
  return Object.values(value).every((field) => field === undefined || validKey(field, inside));
}

/** The default key: also NaN, +-Infinity, undefined and Dates; no symbols, functions, other instances or cycles. */
function encodable(value: unknown, ancestors: unknown[] = []): boolean {
  if (typeof value === 'symbol' || typeof value === 'function') return false;
  if (typeof value !== 'object' || value === null || value instanceof Date) return true;
  if (ancestors.includes(value)) return false;
  const inside = [...ancestors, value];
  if (Array.isArray(value)) return value.every((element) => encodable(element, inside));
  if (!isPlain(value)) return false;
  return Object.values(value).every((field) => encodable(field, inside));
}

/** Equal by value and type: numbers by value (NaN equals NaN, -0 equals 0), Dates by time, arrays in order, objects ignoring field order and undefined fields. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a !== typeof b) return false;
  if (typeof a === 'number') return a === b || (Number.isNaN(a) && Number.isNaN(b));
  if (typeof a !== 'object' || a === null || b === null) return a === b;
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && sameValue(a.getTime(), b.getTime());
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((element, i) => sameValue(element, bb[i]));
  }
  const fields = (o: object) =>
    Object.keys(o)
      .filter((f) => (o as Record<string, unknown>)[f] !== undefined)
      .sort();
  const fa = fields(a);
  const fb = fields(b as object);
  return fa.length === fb.length && fa.every((f, i) => f === fb[i] && sameValue((a as Record<string, unknown>)[f], (b as Record<string, unknown>)[f]));
}

const validScope = (s: unknown) => typeof s === 'string' || typeof s === 'bigint' || s === undefined || (typeof s === 'number' && !Number.isNaN(s));
/** Scopes of different types never match; -0 and 0 are one scope. */
const sameScope = (a: unknown, b: unknown) => typeof a === typeof b && a === b;

// ---------------------------------------------------------------------------------------------------------------
// Running requests through createBatcher and batchDedup.

interface Sent {
  readonly id: number;
  readonly at: number;
  /** What the pipeline is given: the request object, or with the default key possibly a bare value. */
  readonly request: unknown;
  readonly key: unknown;
  readonly scope: unknown;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

const optionsArb = fc.record({
  windowMs: fc.integer({ min: 0, max: 4 }),
  maxSize: fc.integer({ min: 1, max: 6 }),
  durationMs: fc.integer({ min: 1, max: 8 }),
  ttlMs: fc.integer({ min: 1, max: 30 }),
  maxEntries: fc.integer({ min: 1, max: 6 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  dedupStrategy: fc.constantFrom('exact' as const, 'exact' as const, 'hybrid' as const, 'embedding' as const),
});
type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

/** Options of both front ends: the backend answers each item with the item itself, after `durationMs`. */
function pipelineOptions<T>(o: Options, scheduler: BatchDedupOptions<T, T>['scheduler'], execute: (items: T[]) => Observable<T[]>): BatchDedupOptions<T, T> {
  return {
    windowMs: o.windowMs,
    maxSize: o.maxSize,
    concurrency: o.concurrency,
    dedupStrategy: o.dedupStrategy,
    // One text for all: the similarity strategies then merge exactly the requests whose rest is equal.
    text: () => 'same',
    dedupInFlight: true,
    resultCache: { ttlMs: o.ttlMs, maxEntries: o.maxEntries },
    scheduler,
    execute,
  };
}

/** Runs the requests through createBatcher (per-call scope when `perCallScope`) on a virtual clock. */
async function throughBatcher(sent: readonly Sent[], o: Options, grouping: Partial<BatchDedupOptions<unknown, unknown>>, perCallScope: boolean) {
  const clock = virtualClock();
  const batcher = createBatcher<unknown, unknown>({
    ...pipelineOptions<unknown>(o, clock.scheduler, (items) => timer(o.durationMs, clock.scheduler).pipe(map(() => items))),
    ...grouping,
  });
  // Filled as the promises settle; a request never answered stays undefined (and fails the check).
  const outcomes: (Outcome | undefined)[] = new Array(sent.length);
  for (const s of sent) {
    clock.scheduler.schedule(() => {
      const options = perCallScope && s.scope !== undefined ? { scope: s.scope as DedupScope } : undefined;
      batcher.process(s.request, options).then(
        (value) => (outcomes[s.id] = { ok: true, value }),
        (error: unknown) => (outcomes[s.id] = { ok: false, error }),
      );
    }, s.at);
  }
  clock.runAll();
  await turn();
  return outcomes;
}

/** Runs the requests through batchDedup in a TestScheduler run. */
function throughOperator(sent: readonly Sent[], o: Options, grouping: Partial<BatchDedupOptions<unknown, unknown>>): Outcome[] {
  const scheduler = createTestScheduler();
  const outcomes: Outcome[] = new Array(sent.length);
  const idOf = new Map<unknown, number>();
  scheduler.run(() => {
    // batchDedup emits results with their request: the request objects are distinct, so they name the sender.
    const arrivals = merge(...sent.map((s) => timer(s.at).pipe(map(() => s.request))));
    for (const s of sent) idOf.set(s.request, s.id);
    arrivals
      .pipe(
        batchDedup<unknown, unknown>({
          ...pipelineOptions<unknown>(o, scheduler, (items) => timer(o.durationMs).pipe(map(() => items))),
          ...grouping,
        }),
      )
      .subscribe((result) => {
        outcomes[idOf.get(result.request)!] = result.status === 'fulfilled' ? { ok: true, value: result.value } : { ok: false, error: result.error };
      });
  });
  return outcomes;
}

/** Each request: its key and scope picked from small pools (so many are equal, or look alike), at a frame. */
function requestsArb(pools: { keys: fc.Arbitrary<unknown[]>; scopes: fc.Arbitrary<unknown[]> }) {
  return fc
    .record({
      keys: pools.keys,
      scopes: pools.scopes,
      picks: fc.array(
        fc.record({ key: fc.nat(), how: fc.nat(3), scope: fc.nat(), at: fc.integer({ min: 0, max: 30 }) }),
        { minLength: 1, maxLength: 16 },
      ),
    })
    .map(({ keys, scopes, picks }) =>
      picks.map((p) => ({ key: variant(keys[p.key % keys.length], p.how), scope: scopes[p.scope % scopes.length], at: p.at })),
    );
}

function describeOutcome(outcome: Outcome | undefined): string {
  if (!outcome) return 'no answer';
  return outcome.ok ? 'fulfilled' : `rejected: ${(outcome.error as Error).message}`;
}

describe('keys and scopes from a hostile domain', () => {
  const picked = requestsArb({ keys: fc.array(valueArb, { minLength: 1, maxLength: 4 }), scopes: fc.array(scopeArb, { minLength: 1, maxLength: 4 }) });

  /** Every request answered once: rejected exactly when its key or scope breaks the rules, else with a result computed for an equal request. */
  function check(sent: readonly Sent[], outcomes: readonly (Outcome | undefined)[], where: string, computedFor: (value: unknown) => Sent) {
    expect(outcomes.length).toBe(sent.length);
    for (const s of sent) {
      const outcome = outcomes[s.id];
      const context = `request ${s.id} (key ${fc.stringify(s.key)}, scope ${fc.stringify(s.scope)}): ${describeOutcome(outcome)}`;
      if (!validScope(s.scope)) {
        expect(outcome?.ok, context).toBe(false);
        expect(((outcome as { error: Error }).error).message, context).toMatch(new RegExp(`^${where}: scope\\(request\\) returned `));
      } else if (!validKey(s.key)) {
        expect(outcome?.ok, context).toBe(false);
        expect(((outcome as { error: Error }).error).message, context).toMatch(new RegExp(`^${where}: key\\(request\\) returned `));
      } else {
        expect(outcome?.ok, context).toBe(true);
        const x = computedFor((outcome as { value: unknown }).value);
        expect(sameScope(x.scope, s.scope), `${context}; answered for scope ${fc.stringify(x.scope)}`).toBe(true);
        expect(sameValue(x.key, s.key), `${context}; answered for key ${fc.stringify(x.key)}`).toBe(true);
      }
    }
  }

  const asSent = (requests: { key: unknown; scope: unknown; at: number }[]): Sent[] =>
    requests.map((r, id) => {
      const request = { key: r.key, scope: r.scope };
      return { id, at: r.at, request, ...request };
    });
  const custom = {
    key: (r: unknown) => (r as { key: DedupKey }).key,
    scope: (r: unknown) => (r as { scope: DedupScope }).scope,
  };

  it('createBatcher: no request is answered for another scope or another key; bad keys and scopes reject only their request', async () => {
    await fc.assert(
      fc.asyncProperty(picked, optionsArb, async (requests, o) => {
        const sent = asSent(requests);
        const byRequest = new Map(sent.map((s) => [s.request, s]));
        const outcomes = await throughBatcher(sent, o, custom, false);
        check(sent, outcomes, 'createBatcher', (value) => byRequest.get(value)!);
      }),
      { numRuns: 150 },
    );
  });

  it('batchDedup: the same', () => {
    fc.assert(
      fc.property(picked, optionsArb, (requests, o) => {
        const sent = asSent(requests);
        const byRequest = new Map(sent.map((s) => [s.request, s]));
        const outcomes = throughOperator(sent, o, custom);
        check(sent, outcomes, 'batchDedup', (value) => byRequest.get(value)!);
      }),
      { numRuns: 150 },
    );
  });

  it('the default key, with process(request, { scope }): answered for an equal request of the same scope, or rejected for what it cannot encode', async () => {
    await fc.assert(
      fc.asyncProperty(picked, optionsArb, fc.boolean(), async (requests, o, bare) => {
        // Bare values exercise the primitive fast path; wrapped ones can be told apart by identity.
        const sent = requests.map((r, id): Sent => ({ id, at: r.at, request: bare ? r.key : { v: r.key }, key: r.key, scope: bare ? undefined : r.scope }));
        const byRequest = new Map(sent.map((s) => [s.request, s]));
        const outcomes = await throughBatcher(sent, o, {}, true);
        for (const s of sent) {
          const outcome = outcomes[s.id];
          const context = `request ${s.id} (${fc.stringify(s.request)}, scope ${fc.stringify(s.scope)}): ${describeOutcome(outcome)}`;
          if (!validScope(s.scope)) {
            expect(outcome?.ok, context).toBe(false);
            expect((outcome as { error: Error }).error.message, context).toMatch(/^createBatcher\.process: scope must be a string, a number \(not NaN\) or a bigint/);
          } else if (!encodable(s.key)) {
            expect(outcome?.ok, context).toBe(false);
            const message = (outcome as { error: Error }).error.message;
            expect(message, context).toMatch(/cannot encode .* at request/);
            expect(message, context).not.toMatch(/key\(request\)/);
          } else {
            expect(outcome?.ok, context).toBe(true);
            const value = (outcome as { value: unknown }).value;
            if (bare) {
              expect(sameValue(value, s.request), `${context}; answered for ${fc.stringify(value)}`).toBe(true);
            } else {
              const x = byRequest.get(value)!;
              expect(sameScope(x.scope, s.scope), `${context}; answered for scope ${fc.stringify(x.scope)}`).toBe(true);
              expect(sameValue(x.key, s.key), `${context}; answered for ${fc.stringify(x.request)}`).toBe(true);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// configure() between arrivals and during executions.

interface Req {
  readonly a: number;
  readonly b: number;
  readonly s: string | number | bigint;
  readonly text: string;
}

const KEYS: ((r: Req) => DedupKey)[] = [(r) => r.a, (r) => r.b, (r) => [r.a, r.b], (r) => String(r.a), (r) => ({ b: r.b, a: r.a })];
const SCOPES: (((r: Req) => DedupScope) | undefined)[] = [undefined, (r) => r.s, (r) => r.a, (r) => BigInt(r.b)];
const STRATEGIES = ['exact', 'embedding', 'hybrid'] as const;
const THRESHOLDS = [0.5, 0.9, 1];

interface Settings {
  key: number;
  scope: number;
  strategy: (typeof STRATEGIES)[number];
  threshold: number;
}

type Change = { key: number } | { scope: number } | { dedupStrategy: (typeof STRATEGIES)[number] } | { dedupThreshold: number } | { windowMs: number };

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.nat(KEYS.length - 1).map((key) => ({ key })),
  fc.nat(SCOPES.length - 1).map((scope) => ({ scope })),
  fc.constantFrom(...STRATEGIES).map((dedupStrategy) => ({ dedupStrategy })),
  fc.constantFrom(...THRESHOLDS).map((dedupThreshold) => ({ dedupThreshold })),
  fc.integer({ min: 0, max: 4 }).map((windowMs) => ({ windowMs })),
);

/** Texts t0..t5 on a circle, 0.5 rad apart: similar neighbours, dissimilar far ones. */
const embed = (texts: string[]) => texts.map((t) => [Math.cos(Number(t.slice(1)) * 0.5), Math.sin(Number(t.slice(1)) * 0.5)]);
const similarity = (x: Req, y: Req) => Math.cos((Number(x.text.slice(1)) - Number(y.text.slice(1))) * 0.5);

describe('configure() never lets what was computed under old settings answer a new request', () => {
  const scenarioArb = fc.record({
    requests: fc.array(
      fc.record({
        a: fc.nat(2),
        b: fc.nat(2),
        s: fc.constantFrom<string | number | bigint>('x', 'y', 1, 1n),
        text: fc.nat(5).map((n) => `t${n}`),
        at: fc.integer({ min: 0, max: 40 }),
      }),
      { minLength: 1, maxLength: 20 },
    ),
    changes: fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), change: changeArb }), { maxLength: 8 }),
    durationMs: fc.integer({ min: 1, max: 12 }),
    embedMs: fc.integer({ min: 0, max: 3 }),
    windowMs: fc.integer({ min: 0, max: 4 }),
    ttlMs: fc.integer({ min: 1, max: 40 }),
  });

  it('a request that arrives after a change of key, scope, strategy or threshold joins no older execution and gets no older cached result', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async ({ requests, changes, durationMs, embedMs, windowMs, ttlMs }) => {
        const clock = virtualClock();
        const scheduler = clock.scheduler;
        let seq = 0;
        /** The settings after each change of dedup settings (a windowMs change keeps the generation). */
        const generations: Settings[] = [{ key: 0, scope: 0, strategy: 'exact', threshold: 0.9 }];
        const current = () => generations[generations.length - 1]!;
        const calls: { seq: number; generation: number }[] = [];
        const batcher = createBatcher<Req, { item: Req; call: number }>({
          windowMs,
          scheduler,
          dedupInFlight: true,
          resultCache: { ttlMs },
          mergeGuard: false,
          key: KEYS[0],
          dedupThreshold: 0.9,
          // Some embeddings take virtual time, so that a change can come while a batch is being deduplicated.
          embed: (texts) =>
            embedMs === 0 ? embed(texts) : new Promise((resolve) => scheduler.schedule(() => resolve(embed(texts)), embedMs)),
          execute: (items) => {
            const call = calls.push({ seq: ++seq, generation: generations.length - 1 }) - 1;
            return timer(durationMs, scheduler).pipe(map(() => items.map((item) => ({ item, call }))));
          },
        });
        const arrivals: { seq: number; generation: number }[] = [];
        const outcomes: Promise<Outcome>[] = [];
        let answered = 0;
        requests.forEach((r, id) => {
          const request: Req = { a: r.a, b: r.b, s: r.s, text: r.text };
          scheduler.schedule(() => {
            arrivals[id] = { seq: ++seq, generation: generations.length - 1 };
            outcomes[id] = batcher.process(request).then(
              (value): Outcome => ({ ok: true, value }),
              (error: unknown): Outcome => ({ ok: false, error }),
            );
            void outcomes[id].then(() => answered++);
          }, r.at);
        });
        for (const { at, change } of changes) {
          scheduler.schedule(() => {
            seq++;
            if ('windowMs' in change) {
              batcher.configure({ windowMs: change.windowMs });
              return;
            }
            const next: Settings = { ...current() };
            if ('key' in change) {
              next.key = change.key;
              batcher.configure({ key: KEYS[change.key] });
            } else if ('scope' in change) {
              next.scope = change.scope;
              batcher.configure({ scope: SCOPES[change.scope] });
            } else if ('dedupStrategy' in change) {
              next.strategy = change.dedupStrategy;
              batcher.configure({ dedupStrategy: change.dedupStrategy });
            } else {
              next.threshold = change.dedupThreshold;
              batcher.configure({ dedupThreshold: change.dedupThreshold });
            }
            // Passing an option its current value changes nothing: the generation goes on.
            const before = current();
            if (next.key !== before.key || next.scope !== before.scope || next.strategy !== before.strategy || next.threshold !== before.threshold) {
              generations.push(next);
            }
          }, at);
        }
        // Step the clock, letting promise callbacks (embeddings, answers) run in between, until all are answered.
        for (let frame = 0; frame < 500 && (frame <= 40 || answered < requests.length); frame++) {
          clock.advanceBy(1);
          await turn();
        }
        expect(answered, 'every request answered').toBe(requests.length);
        const results = await Promise.all(outcomes);

        const keyOf = (g: Settings, r: Req) => KEYS[g.key]!(r);
        const scopeOf = (g: Settings, r: Req) => SCOPES[g.scope]?.(r);
        const sameScopeUnder = (g: Settings, x: Req, r: Req) => sameScope(scopeOf(g, x), scopeOf(g, r));
        results.forEach((outcome, id) => {
          const r = requests[id]!;
          const context = `request ${id} ${fc.stringify(r)}: ${describeOutcome(outcome)}`;
          expect(outcome.ok, context).toBe(true);
          const { item: x, call } = (outcome as { value: { item: Req; call: number } }).value;
          const arrival = arrivals[id]!;
          const execution = calls[call]!;
          if (execution.seq < arrival.seq) {
            // Answered by an execution that started before it arrived: by joining it or from the cache. Only
            // within one generation, and only for a request equal under that generation's key and scope.
            const g = generations[arrival.generation]!;
            expect(execution.generation, `${context}; joined or cached from generation ${execution.generation}, arrived in ${arrival.generation}`).toBe(arrival.generation);
            expect(sameScopeUnder(g, x, r), `${context}; answered for ${fc.stringify(x)}`).toBe(true);
            expect(sameValue(keyOf(g, x), keyOf(g, r)), `${context}; answered for ${fc.stringify(x)}`).toBe(true);
          } else if (x.text !== r.text || x.a !== r.a || x.b !== r.b || x.s !== r.s) {
            // Merged in its own batch: under settings in force at some time between its arrival and the call.
            const allowed = generations.slice(arrival.generation, execution.generation + 1).some((g) => {
              if (!sameScopeUnder(g, x, r)) return false;
              if (g.strategy === 'exact') return sameValue(keyOf(g, x), keyOf(g, r));
              if (g.strategy === 'embedding') return x.a === r.a && x.b === r.b && x.s === r.s && similarity(x, r) >= g.threshold - 1e-6;
              return true; // hybrid: an exact group led into a similar one; the scope is what must hold
            });
            expect(allowed, `${context}; merged with ${fc.stringify(x)} in call ${call}`).toBe(true);
          }
        });
      }),
      { numRuns: 120 },
    );
  });
});
