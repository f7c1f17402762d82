/**
 * The shared store tier (`resultCache.store`) under hostile stores (H-ATK2): two batchers (replicas) share one
 * honest table, through `sharedStore` (with or without leases) or `keyvStore`, while each call to the store may
 * throw, reject (with non-Errors too), never settle, answer late, answer something that is not a promise, answer
 * twice, answer the wrong number of entries or no array, claim with non-booleans; the Keyv under `keyvStore` may
 * give back non-strings, text that does not parse, or a short `getMany`. Keys and scopes are the look-alike pools
 * of test/support.ts (bigints, -0, arrays, objects; `1`, `'1'`, `1n`).
 *
 * Promises checked: every call settles once, with its own answer (an execution for an equal key in an equal
 * scope, here or in the other replica, now or cached) or an Error; nothing escapes as an uncaught error; both
 * batchers close. What the store tier cannot check is left out: a store that answers a key with the entry of
 * another key (entries do not carry their key).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBatcher, keyvStore, sharedStore, type KeyvLike, type ResultLeases, type ResultStore, type SharedStore } from '../src/index.js';
import type { DedupKey, DedupScope } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { keyPoolsArb, reordered, runMoments, sameKey, sameScope } from './support.js';

interface Req {
  readonly id: number;
  readonly key: DedupKey;
}

const BEHAVIOURS = ['ok', 'ok', 'ok', 'throws', 'rejects', 'rejects-null', 'never', 'late', 'not-a-promise', 'twice', 'wrong-length', 'not-an-array'] as const;
type Behaviour = (typeof BEHAVIOURS)[number];
const KEYV_FAULTS = ['none', 'non-string', 'unparsable', 'short-getMany', 'getMany-not-array'] as const;
type KeyvFault = (typeof KEYV_FAULTS)[number];

const scenarioArb = fc.record({
  pools: keyPoolsArb(),
  picks: fc.array(fc.record({ at: fc.integer({ min: 0, max: 40 }), key: fc.nat(), scope: fc.nat(), copy: fc.boolean(), replica: fc.nat(1) }), { minLength: 1, maxLength: 16 }),
  kind: fc.constantFrom('plain' as const, 'leases' as const, 'keyv' as const),
  behaviours: fc.array(fc.constantFrom<Behaviour>(...BEHAVIOURS), { minLength: 1, maxLength: 6 }),
  claims: fc.array(fc.constantFrom<unknown>(true, false, 1, 'true', null), { minLength: 1, maxLength: 4 }),
  keyvFault: fc.constantFrom<KeyvFault>(...KEYV_FAULTS),
  storeTimeoutMs: fc.integer({ min: 1, max: 8 }),
  windowMs: fc.integer({ min: 0, max: 5 }),
  durationMs: fc.integer({ min: 0, max: 6 }),
});

/**
 * One honest table behind every hostile behaviour: values stored as JSON text by key, so both replicas read what
 * either wrote. `fault(call)` says how the call goes.
 */
function hostileStore(s: { kind: 'plain' | 'leases'; behaviours: readonly Behaviour[]; claims: readonly unknown[]; storeTimeoutMs: number }, clock: ReturnType<typeof virtualClock>, table: Map<string, unknown>, leased: Set<string>): SharedStore {
  let calls = 0;
  const later = (ms: number, run: () => void) => clock.scheduler.schedule(run, ms);
  function reply<V>(answer: () => V): PromiseLike<V> {
    const behaviour = s.behaviours[calls++ % s.behaviours.length]!;
    switch (behaviour) {
      case 'ok':
        return new Promise((resolve) => later(1, () => resolve(answer())));
      case 'throws':
        throw new Error('store threw');
      case 'rejects':
        return Promise.reject(new Error('store rejected'));
      case 'rejects-null':
        return Promise.reject(null);
      case 'never':
        return new Promise(() => undefined);
      case 'late':
        return new Promise((resolve) => later(s.storeTimeoutMs + 3, () => resolve(answer())));
      case 'not-a-promise':
        return answer() as unknown as PromiseLike<V>;
      case 'twice': {
        const value = answer();
        return {
          then(ok?: (v: V) => unknown, fail?: (e: unknown) => unknown) {
            ok?.(value);
            ok?.((Array.isArray(value) ? value.map(() => 'bogus') : value) as V);
            fail?.(new Error('and failed'));
            return undefined as never;
          },
        } as PromiseLike<V>;
      }
      case 'wrong-length': {
        const value = answer();
        return Promise.resolve((Array.isArray(value) ? value.slice(1) : value) as V);
      }
      case 'not-an-array':
        return Promise.resolve({ length: 0 } as V);
    }
  }
  const leases: ResultLeases = {
    leaseMs: 10,
    claim: (keys) =>
      reply(() =>
        keys.map((key, i) => {
          const free = !leased.has(key);
          if (free) leased.add(key);
          const said = s.claims[i % s.claims.length];
          return (free ? said : false) as boolean;
        }),
      ),
    release: (keys) =>
      reply(() => {
        for (const key of keys) leased.delete(key);
      }),
    wait: (keys) => reply(() => keys.map((key) => table.get(key))),
  };
  const store: ResultStore = {
    get: (keys) => reply(() => keys.map((key) => table.get(key))),
    set: (entries) =>
      reply(() => {
        for (const [key, value] of entries) table.set(key, JSON.parse(JSON.stringify(value)));
      }),
    ...(s.kind === 'leases' && { leases }),
  };
  return sharedStore(store);
}

/** A Keyv over the same kind of table, with one fault. */
function hostileKeyv(fault: KeyvFault, clock: ReturnType<typeof virtualClock>, table: Map<string, string>): KeyvLike {
  const later = <V>(value: V) => new Promise<V>((resolve) => clock.scheduler.schedule(() => resolve(value), 1));
  const read = (key: string): unknown => {
    const text = table.get(key);
    if (text === undefined) return undefined;
    if (fault === 'non-string') return { value: text };
    if (fault === 'unparsable') return `${text}}{`;
    return text;
  };
  const keyv: KeyvLike = {
    get: (key) => later(read(key)),
    set: (key, value) => {
      table.set(key, value as string);
      return later(true);
    },
  };
  if (fault === 'short-getMany') keyv.getMany = (keys) => later(keys.slice(1).map(read));
  if (fault === 'getMany-not-array') keyv.getMany = () => later('nothing' as unknown as unknown[]);
  return keyv;
}

describe('two replicas sharing a hostile store', () => {
  it('every call settles once, with its own answer or an Error; both batchers close', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const clock = virtualClock();
        const requests = s.picks.map((p, id) => {
          const pooled = s.pools.keys[p.key % s.pools.keys.length] as DedupKey;
          return { at: p.at, replica: p.replica, scope: s.pools.scopes[p.scope % s.pools.scopes.length], request: { id, key: p.copy ? reordered(pooled) : pooled } as Req };
        });
        const byId = new Map(requests.map((r) => [r.request.id, r]));
        const table = new Map<string, unknown>();
        const texts = new Map<string, string>();
        const leased = new Set<string>();
        const store = s.kind === 'keyv' ? keyvStore(hostileKeyv(s.keyvFault, clock, texts), { prefix: 'p:' }) : hostileStore({ ...s, kind: s.kind }, clock, table, leased);
        const uncaught: unknown[] = [];
        const onUnhandled = (error: unknown) => uncaught.push(error);
        process.on('unhandledRejection', onUnhandled);
        try {
          const batchers = [0, 1].map(() =>
            createBatcher<Req, { id: number }>({
              key: (r) => r.key,
              windowMs: s.windowMs,
              scheduler: clock.scheduler,
              resultCache: { ttlMs: 1000, store, storeTimeoutMs: s.storeTimeoutMs },
              // Each answer names the request it was computed for (JSON-safe, as it goes through the store).
              execute: (items) => new Promise((resolve) => clock.scheduler.schedule(() => resolve(items.map((r) => ({ id: r.id }))), s.durationMs)),
            }),
          );
          const settled: { id: number; outcome: PromiseSettledResult<{ id: number }> }[] = [];
          for (const r of requests) {
            clock.scheduler.schedule(() => {
              const promise = batchers[r.replica]!.process(r.request, r.scope === undefined ? undefined : { scope: r.scope as string });
              promise.then(
                (value) => settled.push({ id: r.request.id, outcome: { status: 'fulfilled', value } }),
                (reason: unknown) => settled.push({ id: r.request.id, outcome: { status: 'rejected', reason } }),
              );
            }, r.at);
          }
          await runMoments(clock.scheduler, () => settled.length === requests.length, 3000);
          let closed = 0;
          for (const b of batchers) void b.close().then(() => closed++);
          await runMoments(clock.scheduler, () => closed === 2, 3000);
          expect(closed).toBe(2);
          expect(settled.map((x) => x.id).sort((a, b) => a - b)).toEqual(requests.map((r) => r.request.id));
          for (const { id, outcome } of settled) {
            const own = byId.get(id)!;
            if (outcome.status === 'rejected') {
              expect(outcome.reason).toBeInstanceOf(Error);
              continue;
            }
            const answeredFor = byId.get(outcome.value.id);
            const show = (r: typeof own) => `request ${r.request.id} (key ${fc.stringify(r.request.key)}, scope ${fc.stringify(r.scope)})`;
            expect(answeredFor, `request ${id} answered with ${JSON.stringify(outcome.value)}`).toBeDefined();
            expect(sameScope(answeredFor!.scope, own.scope) && sameKey(answeredFor!.request.key, own.request.key), `${show(own)} answered for ${show(answeredFor!)}`).toBe(true);
          }
          await new Promise((resolve) => setImmediate(resolve));
          expect(uncaught).toEqual([]);
        } finally {
          process.off('unhandledRejection', onUnhandled);
        }
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 150) },
    );
  }, 120_000);
});
