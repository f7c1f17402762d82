/**
 * Issue 11, items 6 and 12 as classes.
 *
 * - Every user function called per request (`signal`, `priority`, `key`, `scope`, `text`) may throw or return a
 *   value of the wrong type, for any request: that request alone is rejected with a TypeError naming the
 *   function, every other request is served with its own answer, and the stream never errors.
 * - The waiting queue against a plain model: same values out in the same order, same oldest waiting arrival,
 *   and a footprint bounded by what it holds, under any mix of pushes, withdrawals and takes.
 */
import fc from 'fast-check';
import { map, merge, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, type BatchDedupOptions, type BatchResult } from '../src/index.js';
import { PriorityHeap, WaitingQueue, type QueueEntry } from '../src/internal/waitingQueue.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';
import { drain } from './support.js';

// ---------------------------------------------------------------------------------------------------------------
// User functions that throw or answer with the wrong type

type UserFn = 'signal' | 'priority' | 'key' | 'scope' | 'text';

/** How one request breaks one user function: it throws `thrown`, or returns `value`. */
type Fault = { readonly fn: UserFn; readonly throws: true; readonly thrown: unknown } | { readonly fn: UserFn; readonly throws: false; readonly value: unknown };

/**
 * A request: only its text and tenant are in it (what the default rest key and similarity see); what it does to
 * each user function is kept beside it, so that no thrown value or wrong answer becomes part of the request.
 */
interface Req {
  readonly text: string;
  readonly tenant: string;
}

interface Plan {
  readonly id: number;
  readonly at: number;
  readonly priority: number;
  readonly fault: Fault | undefined;
}

const plans = new WeakMap<Req, Plan>();
const planOf = (r: Req) => plans.get(r)!;

const thrownArb = fc.constantFrom<unknown>(
  new Error('user function failed'),
  'a thrown string',
  undefined,
  null,
  42,
  Object.create(null) as unknown,
  Symbol('thrown'),
);

/** Values of the wrong type for each function that is checked for its return type. */
const wrongReturns: Partial<Record<UserFn, fc.Arbitrary<unknown>>> = {
  signal: fc.constantFrom<unknown>(
    'abort',
    0,
    true,
    {},
    { aborted: false },
    { aborted: 'no', addEventListener() {}, removeEventListener() {} },
    [],
    () => undefined,
    1n,
    Symbol('signal'),
    Object.create(null) as unknown,
  ),
  priority: fc.constantFrom<unknown>('high', Number.NaN, undefined, null, {}, [1], true, 3n, Symbol('p'), Object.create(null) as unknown),
  text: fc.constantFrom<unknown>(42, undefined, null, {}, ['words'], true, 5n, Symbol('t')),
};

function faultArb(fns: readonly UserFn[]): fc.Arbitrary<Fault | undefined> {
  const broken = fc.constantFrom(...fns).chain((fn): fc.Arbitrary<Fault> => {
    const throwing = thrownArb.map((thrown): Fault => ({ fn, throws: true, thrown }));
    const returning = wrongReturns[fn]?.map((value): Fault => ({ fn, throws: false, value }));
    return returning ? fc.oneof(throwing, returning) : throwing;
  });
  return fc.option(broken, { freq: 3, nil: undefined });
}

function requestsArb(fns: readonly UserFn[]): fc.Arbitrary<Req[]> {
  return fc
    .array(
      fc.record({
        at: fc.integer({ min: 0, max: 40 }),
        text: fc.constantFrom('reset my password', 'reset my password please', 'delete my account', 'hello', 'hello there'),
        tenant: fc.constantFrom('ann', 'bob'),
        priority: fc.integer({ min: -3, max: 3 }),
        fault: faultArb(fns),
      }),
      { minLength: 1, maxLength: 30 },
    )
    .map((rs) =>
      rs.map(({ text, tenant, ...plan }, id): Req => {
        const request: Req = { text, tenant };
        plans.set(request, { ...plan, id });
        // Counterexamples show the plan too (a symbol key: neither keys nor similarity see it).
        Object.defineProperty(request, fc.toStringMethod, { value: () => fc.stringify({ text, tenant, id, ...plan }) });
        return request;
      }),
    );
}

const settingsArb = fc.record({
  windowMs: fc.integer({ min: 0, max: 10 }),
  maxSize: fc.integer({ min: 1, max: 6 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  durationMs: fc.integer({ min: 0, max: 8 }),
  dedupStrategy: fc.constantFrom('exact' as const, 'embedding' as const, 'hybrid' as const),
  enablePriorities: fc.boolean(),
});

type Settings = typeof settingsArb extends fc.Arbitrary<infer S> ? S : never;

/** What a request's user function does: its fault, or its honest answer. */
function call<V>(r: Req, fn: UserFn, honest: () => V): V {
  const fault = planOf(r).fault;
  if (fault?.fn !== fn) return honest();
  if (fault.throws) throw fault.thrown;
  return fault.value as V;
}

/** The user functions of the pipeline, each broken for the requests whose fault names it. */
function userFunctions(withSignal: boolean, withPriority: boolean): Partial<BatchDedupOptions<Req, string>> {
  return {
    // A request whose text is broken keys alone: in hybrid, an exact follower shares its representative's text.
    key: (r) => call(r, 'key', () => (planOf(r).fault?.fn === 'text' ? `#${planOf(r).id}` : r.text)),
    scope: (r) => call(r, 'scope', () => r.tenant),
    text: (r) => call(r, 'text', () => r.text),
    ...(withPriority && { priority: (r: Req) => call(r, 'priority', () => planOf(r).priority) }),
    ...(withSignal && {
      signal: (r: Req) => call(r, 'signal', () => (planOf(r).id % 4 === 0 ? new AbortController().signal : undefined)),
    }),
  };
}

/**
 * Which faults take effect: a function is called only where it is needed, `priority` with priorities on, `text`
 * with a similarity strategy, `key` with exact dedup (`'embedding'` compares the rest of the request instead).
 */
function expectedBroken(r: Req, settings: Settings): UserFn | undefined {
  const fn = planOf(r).fault?.fn;
  if (fn === 'priority' && !settings.enablePriorities) return undefined;
  if (fn === 'text' && settings.dedupStrategy === 'exact') return undefined;
  if (fn === 'key' && settings.dedupStrategy === 'embedding') return undefined;
  return fn;
}

/** The answer a request must get, from the results the pipeline gave (one per request, checked first). */
function checkResults(requests: Req[], results: BatchResult<Req, string>[], settings: Settings): void {
  expect(results).toHaveLength(requests.length);
  expect(new Set(results.map((r) => r.request)).size).toBe(requests.length);
  for (const result of results) {
    const r = result.request;
    const { id } = planOf(r);
    const broken = expectedBroken(r, settings);
    if (broken) {
      expect(result.status, `request ${id} (${broken} broken)`).toBe('rejected');
      expect(result.error, `request ${id}`).toBeInstanceOf(TypeError);
      expect((result.error as Error).message, `request ${id}`).toContain(`${broken}(request)`);
    } else {
      expect(result.status, `request ${id}: ${describeError(result.error)}`).toBe('fulfilled');
      // Its own answer, or (merged) the answer of an equal text of the same tenant.
      const value = result.value!;
      expect(value.split('|')[0], `request ${id}`).toBe(r.tenant);
      if (settings.dedupStrategy === 'exact') expect(value).toBe(`${r.tenant}|${r.text}`);
    }
  }
}

const answerOf = (r: Req) => `${r.tenant}|${r.text}`;

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : typeof error;
}

describe('user functions that throw or return the wrong type reject their own request only', () => {
  it('batchDedup (virtual time): one result per request, the broken ones named, the stream completes', () => {
    fc.assert(
      fc.property(requestsArb(['signal', 'priority', 'key', 'scope', 'text']), settingsArb, (requests, settings) => {
        const scheduler = createTestScheduler();
        const results: BatchResult<Req, string>[] = [];
        let ended: string | undefined;
        scheduler.run(() => {
          const { durationMs, ...options } = settings;
          merge(...requests.map((r) => timer(planOf(r).at).pipe(map(() => r))))
            .pipe(
              batchDedup<Req, string>({
                ...options,
                ...userFunctions(true, options.enablePriorities),
                dedupThreshold: 0.5,
                execute: (items) => timer(durationMs).pipe(map(() => items.map(answerOf))),
              }),
            )
            .subscribe({
              next: (r) => results.push(r),
              complete: () => (ended = 'complete'),
              error: (error: unknown) => (ended = `error: ${String(error)}`),
            });
        });
        expect(ended).toBe('complete');
        checkResults(requests, results, settings);
      }),
      { numRuns: 150 },
    );
  });

  it('createBatcher (virtual clock): every promise settles, the broken ones named, the batcher keeps serving', async () => {
    await fc.assert(
      fc.asyncProperty(requestsArb(['priority', 'key', 'scope', 'text']), settingsArb, async (requests, settings) => {
        const clock = virtualClock();
        const { durationMs, ...options } = settings;
        const batcher = createBatcher<Req, string>({
          ...options,
          ...userFunctions(false, options.enablePriorities),
          dedupThreshold: 0.5,
          scheduler: clock.scheduler,
          execute: (items) => timer(durationMs, clock.scheduler).pipe(map(() => items.map(answerOf))),
        });
        const results: BatchResult<Req, string>[] = [];
        const sorted = [...requests].sort((a, b) => planOf(a).at - planOf(b).at);
        let now = 0;
        for (const r of sorted) {
          const { at } = planOf(r);
          if (at > now) clock.advanceBy(at - now);
          now = Math.max(now, at);
          batcher.process(r).then(
            (value) => results.push({ request: r, status: 'fulfilled', value } as BatchResult<Req, string>),
            (error: unknown) => results.push({ request: r, status: 'rejected', error } as BatchResult<Req, string>),
          );
        }
        expect(batcher.closed).toBe(false);
        expect(await drain(clock, batcher.close())).toBe(true);
        checkResults(requests, results, settings);
      }),
      { numRuns: 40 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The waiting queue against a model

type Op =
  | { readonly kind: 'push'; readonly priority: number; readonly trackable: boolean; readonly gap: number }
  | { readonly kind: 'remove'; readonly pick: number }
  | { readonly kind: 'take'; readonly n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      // Now and then a value so low that it waits behind everything (the case that leaked).
      priority: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: -2, max: 2 }) }, { weight: 1, arbitrary: fc.constant(-1e6) }),
      trackable: fc.boolean(),
      gap: fc.integer({ min: 0, max: 3 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 1, max: 5 }) }) },
);

interface ModelEntry {
  readonly value: number;
  readonly arrivedAt: number;
  readonly rank: number;
  readonly handle: QueueEntry<number> | undefined;
}

describe('WaitingQueue against a model', () => {
  it('same values out in the same order, same oldest waiting arrival, footprint O(waiting)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(0, 0.001, 1),
        fc.boolean(),
        fc.array(opArb, { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 0, max: 1200 }),
        (prioritized, agingPerMs, keepsTimes, ops, rounds) => {
          const queue = new WaitingQueue<number>(prioritized ? new PriorityHeap() : undefined, agingPerMs, keepsTimes ? undefined : (v) => arrivals.get(v)!);
          const arrivals = new Map<number, number>();
          let model: ModelEntry[] = []; // waiting, in arrival order
          let now = 0;
          let next = 0;
          let left = 0;
          const push = (priority: number, trackable: boolean) => {
            const value = next++;
            arrivals.set(value, now);
            const handle = queue.push(value, now, priority, trackable);
            expect(handle !== undefined).toBe(prioritized || trackable);
            model.push({ value, arrivedAt: now, rank: priority - agingPerMs * now, handle });
          };
          // A value that waits behind everything, arriving first: the case that leaked.
          push(-1e9, false);
          // Repeat the ops so that hundreds of values leave around the ones that wait.
          for (let round = 0; round * ops.length < rounds + ops.length; round++) {
            for (const op of ops) {
              if (op.kind === 'push') {
                now += op.gap;
                push(op.priority, op.trackable);
              } else if (op.kind === 'remove') {
                const removable = model.filter((m) => m.handle !== undefined);
                if (removable.length === 0) continue;
                const victim = removable[op.pick % removable.length]!;
                expect(queue.remove(victim.handle!)).toBe(true);
                expect(queue.remove(victim.handle!)).toBe(false);
                model = model.filter((m) => m !== victim);
                left++;
              } else {
                const n = Math.min(op.n, model.length);
                if (n === 0) continue;
                const order = prioritized ? [...model].sort((a, b) => b.rank - a.rank || a.value - b.value) : model;
                const expected = order.slice(0, n).map((m) => m.value);
                expect(queue.take(n)).toEqual(expected);
                left += n;
                model = model.filter((m) => !expected.includes(m.value));
              }
              expect(queue.size).toBe(model.length);
              expect(queue.oldestArrivedAt()).toBe(model[0]?.arrivedAt);
              expect(queue.footprint).toBeLessThanOrEqual(2 * queue.size + 64);
              // Compacting costs O(1) amortised: fewer slots visited than twice the values that left.
              expect(queue.compactionWork).toBeLessThanOrEqual(2 * left);
            }
          }
          const rest = queue.drainAll();
          expect(rest).toEqual(model.map((m) => m.value));
          expect(queue.size).toBe(0);
          expect(queue.footprint).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});
