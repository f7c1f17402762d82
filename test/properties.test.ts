/**
 * Properties of `batchDedup` over random arrivals, backend behaviours and keys and scopes drawn from the hostile
 * domain of docs/keys.md: look-alike strings (`'1x'` in scope 1 against `'x'` in scope 11), numbers (-0,
 * Infinity), bigints, booleans, null, arrays (`['a,b']` against `['a', 'b']`) and nested objects with their fields
 * reordered, returned by a `key` function, or inside requests compared by the default key (NaN, +-Infinity,
 * Dates, bigints); with in-flight dedup and the result cache each on or off. Virtual time only.
 */
import fc from 'fast-check';
import { concat, finalize, ignoreElements, map, merge, Observable, of, throwError, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { createTestScheduler } from '../src/testing/index.js';
import type { DedupKey, DedupScope } from '../src/index.js';
import type { BatchResult, ExecuteContext, StreamedResult } from '../src/types.js';
import { BAD_KEYS, BAD_SCOPES, keyArb, keyPoolsArb, reordered, requestValueArb, sameKey, sameScope, validKey, validScope } from './support.js';

/**
 * What the test knows of a request, kept beside it: with the default key the request itself is the key, so it
 * carries nothing else (not even an id).
 */
interface Meta {
  readonly id: number;
  readonly at: number;
  /** What `key(request)` returns; with the default key, the request itself. */
  readonly key: unknown;
  readonly scope: unknown;
}

type Req = Record<string, unknown>;

/** The echo a backend returns for an item: the very item, so the test knows whose answer it is. */
interface Echo {
  readonly item: Req;
}

type Behaviour = 'ok' | 'throw' | 'error-later' | 'wrong-length' | 'slow' | 'stream-partial' | 'stream-all';

type Keying = 'key function' | 'default key';

/** A key or scope outside the rules, now and then: that request alone must be rejected. */
const oddArb = fc.oneof(
  { weight: 15, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_SCOPES).map((scope) => ({ scope })) },
  { weight: 1, arbitrary: fc.constantFrom(...BAD_KEYS).map((key) => ({ key })) },
);

const requestsArb = (keying: Keying) =>
  fc
    .record({
      pools: keyPoolsArb(keying === 'key function' ? keyArb : requestValueArb),
      picks: fc.array(
        fc.record({ at: fc.integer({ min: 0, max: 120 }), key: fc.nat(), copy: fc.boolean(), scope: fc.nat(), odd: oddArb }),
        { minLength: 1, maxLength: 40 },
      ),
    })
    .map(({ pools, picks }) => {
      const metas = new Map<Req, Meta>();
      const requests = picks.map(({ at, key: k, copy, scope: s, odd }, id) => {
        const pooled = pools.keys[k % pools.keys.length];
        let key = copy ? reordered(pooled) : pooled;
        let scope: unknown = pools.scopes[s % pools.scopes.length];
        if (odd && 'scope' in odd) scope = odd.scope;
        else if (odd && keying === 'key function') key = odd.key;
        // With the default key, the request is a fresh object around the value (its identity names the sender).
        const request: Req = keying === 'key function' ? { id, key, scope } : { q: key };
        const meta: Meta = { id, at, key: keying === 'key function' ? key : request, scope };
        metas.set(request, meta);
        return request;
      });
      return { requests, metas };
    });

const optionsArb = fc
  .record({
    windowMs: fc.integer({ min: 0, max: 20 }),
    maxSize: fc.integer({ min: 1, max: 8 }),
    minSizeRaw: fc.integer({ min: 1, max: 8 }),
    maxWaitMs: fc.integer({ min: 0, max: 40 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
    processingTimeoutMs: fc.integer({ min: 1, max: 30 }),
    onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
    durationMs: fc.integer({ min: 0, max: 15 }),
  })
  .map(({ minSizeRaw, ...o }) => ({ ...o, minSize: Math.min(minSizeRaw, o.maxSize) }));

const sharingArb = fc.record({
  dedupInFlight: fc.boolean(),
  resultCache: fc.option(fc.record({ ttlMs: fc.integer({ min: 1, max: 60 }), maxEntries: fc.integer({ min: 1, max: 6 }) }), { nil: undefined }),
});

const behavioursArb = fc.array(
  fc.constantFrom<Behaviour>('ok', 'ok', 'ok', 'throw', 'error-later', 'wrong-length', 'slow', 'stream-partial', 'stream-all'),
  { minLength: 1, maxLength: 12 },
);

type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;
type Sharing = typeof sharingArb extends fc.Arbitrary<infer S> ? S : never;

function run(
  keying: Keying,
  requests: Req[],
  metas: Map<Req, Meta>,
  options: Options,
  sharing: Sharing,
  behaviours: Behaviour[],
) {
  const scheduler = createTestScheduler();
  const stats = createBatchStats({ scheduler });
  const results: BatchResult<Req, Echo>[] = [];
  let completed = false;
  const calls: Req[][] = [];
  /** When each call of `execute` was made (virtual time), in the order of `calls`. */
  const callTimes: number[] = [];
  // Calls of `execute` not yet settled, by batch (an 'individual' timeout retries a batch's items as calls of
  // their own, all under the batch's one slot), and the most batches that ever had a call running at once.
  const runningCalls = new Map<number, number>();
  let maxBatchesInFlight = 0;
  const settled = (batchId: number) => {
    const left = runningCalls.get(batchId)! - 1;
    if (left === 0) runningCalls.delete(batchId);
    else runningCalls.set(batchId, left);
  };
  scheduler.run(() => {
    const execute = (items: Req[], context: ExecuteContext): Observable<Echo[] | StreamedResult<Echo>> => {
      const { batchId } = context;
      runningCalls.set(batchId, (runningCalls.get(batchId) ?? 0) + 1);
      maxBatchesInFlight = Math.max(maxBatchesInFlight, runningCalls.size);
      try {
        // Settled when its Observable completes, fails or is unsubscribed (timeout, refused output).
        return call(items).pipe(finalize(() => settled(batchId)));
      } catch (error) {
        settled(batchId);
        throw error;
      }
    };
    const call = (items: Req[]): Observable<Echo[] | StreamedResult<Echo>> => {
      const behaviour = behaviours[calls.length % behaviours.length]!;
      calls.push(items);
      callTimes.push(scheduler.now());
      const echo = items.map((item): Echo => ({ item }));
      const later = timer(options.durationMs);
      const wait = later.pipe(ignoreElements());
      switch (behaviour) {
        case 'ok':
          return later.pipe(map(() => echo));
        case 'throw':
          throw new Error('sync failure');
        case 'error-later':
          return concat(wait, throwError(() => new Error('async failure')));
        case 'wrong-length':
          return later.pipe(map(() => echo.slice(1).concat(echo).slice(0, items.length + 1)));
        case 'slow':
          return timer(options.processingTimeoutMs + 5).pipe(map(() => echo));
        case 'stream-partial':
          return concat(wait, of(...echo.filter((_, i) => i % 2 === 0).map((value, k) => ({ index: k * 2, value }))));
        case 'stream-all':
          return merge(...echo.map((value, index) => timer((index * 3) % 7).pipe(map(() => ({ index, value })))));
      }
    };
    const source = merge(...requests.map((r) => timer(metas.get(r)!.at).pipe(map(() => r))));
    const { durationMs: _backendOnly, ...pipelineOptions } = options; // unknown options are refused
    source
      .pipe(
        batchDedup<Req, Echo>({
          ...pipelineOptions,
          ...sharing,
          execute,
          ...(keying === 'key function' && { key: (r: Req) => r['key'] as DedupKey }),
          scope: (r) => metas.get(r)!.scope as DedupScope,
          stats,
        }),
      )
      .subscribe({ next: (r) => results.push(r), complete: () => (completed = true) });
  });
  return { results, completed, calls, callTimes, maxBatchesInFlight, batchesStillRunning: runningCalls.size, stats: stats.snapshot() };
}

/** Equal under the rules: same scope, and the same key by value and type. */
const equal = (x: Meta, y: Meta) => sameScope(x.scope, y.scope) && sameKey(x.key, y.key);
const show = (m: Meta) => `request ${m.id} (key ${fc.stringify(m.key)}, scope ${fc.stringify(m.scope)})`;

describe('batchDedup properties', () => {
  it.each<Keying>(['key function', 'default key'])(
    'gives every request exactly one result, its own, over hostile keys and scopes (%s), with in-flight dedup and the cache on or off',
    (keying) => {
      fc.assert(
        fc.property(requestsArb(keying), optionsArb, sharingArb, behavioursArb, ({ requests, metas }, options, sharing, behaviours) => {
          const { results, completed, calls, stats } = run(keying, requests, metas, options, sharing, behaviours);
          expect(completed).toBe(true);
          // Exactly one result per request.
          expect(results.map((r) => metas.get(r.request)!.id).sort((a, b) => a - b)).toEqual(requests.map((_, id) => id));
          for (const result of results) {
            const own = metas.get(result.request)!;
            if (!validScope(own.scope) || (keying === 'key function' && !validKey(own.key))) {
              // Outside the rules: rejected alone, naming the function that returned it.
              expect(result.status, show(own)).toBe('rejected');
              expect(result.error).toBeInstanceOf(TypeError);
              expect((result.error as Error).message).toMatch(validScope(own.scope) ? /^batchDedup: key\(request\) returned / : /^batchDedup: scope\(request\) returned /);
              continue;
            }
            if (result.status !== 'fulfilled') {
              expect(result.error).toBeInstanceOf(Error);
              continue;
            }
            // Its own request's answer: an equal key in an equal scope; and the very request unless deduplicated.
            const answeredFor = metas.get(result.value.item)!;
            expect(equal(answeredFor, own), `${show(own)} answered for ${show(answeredFor)}`).toBe(true);
            if (!result.deduplicated) expect(answeredFor.id).toBe(own.id);
          }
          // Duplicates share their leader's result: within a batch, equal (key, scope) means the same value.
          const fulfilled = results.filter((r) => r.status === 'fulfilled' && r.batchId !== 0);
          for (const [i, a] of fulfilled.entries()) {
            for (const b of fulfilled.slice(i + 1)) {
              if (a.batchId === b.batchId && equal(metas.get(a.request)!, metas.get(b.request)!)) expect(a.value).toBe(b.value);
            }
          }
          // The backend never saw two equal requests of one scope in one call.
          for (const items of calls) {
            for (const [i, a] of items.entries()) {
              for (const b of items.slice(i + 1)) expect(equal(metas.get(a)!, metas.get(b)!), `one call had ${show(metas.get(a)!)} and ${show(metas.get(b)!)}`).toBe(false);
            }
          }
          expect(stats.completed).toBe(requests.length);
          expect(stats.totalRequests).toBe(requests.length);
          expect(stats.queueDepth).toBe(0);
        }),
        { numRuns: 200 },
      );
    },
  );

  it('respects maxSize and concurrency whatever the timing', () => {
    fc.assert(
      fc.property(requestsArb('key function'), optionsArb, sharingArb, ({ requests, metas }, options, sharing) => {
        const { calls, results, maxBatchesInFlight, batchesStillRunning } = run('key function', requests, metas, options, sharing, ['ok']);
        expect(results).toHaveLength(requests.length);
        for (const items of calls) expect(items.length).toBeLessThanOrEqual(options.maxSize);
        expect(maxBatchesInFlight).toBeLessThanOrEqual(options.concurrency);
        expect(batchesStillRunning).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
  it('uses every slot: n distinct requests that arrive together run as the model says (batches, sizes, start times, batches at once)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 50 }),
        optionsArb.map((o) => ({ ...o, durationMs: Math.max(1, o.durationMs), processingTimeoutMs: o.durationMs + 1 + o.processingTimeoutMs })),
        sharingArb,
        (n, at, options, sharing) => {
          const requests: Req[] = [];
          const metas = new Map<Req, Meta>();
          for (let id = 0; id < n; id++) {
            const request: Req = { id, key: id, scope: undefined };
            requests.push(request);
            metas.set(request, { id, at, key: id, scope: undefined });
          }
          const { calls, callTimes, results, maxBatchesInFlight } = run('key function', requests, metas, options, sharing, ['ok']);
          expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
          // The model: the source ends as they arrive, so everything is batched at once, maxSize per batch in
          // arrival order; a batch forms as soon as a slot is free, and each call takes durationMs, so batch k
          // starts after floor(k / concurrency) rounds, and min(concurrency, batches) run at once.
          const batches = Math.ceil(n / options.maxSize);
          expect(calls.map((items) => items.map((r) => r['id']))).toEqual(
            Array.from({ length: batches }, (_, k) => Array.from({ length: Math.min(options.maxSize, n - k * options.maxSize) }, (_, i) => k * options.maxSize + i)),
          );
          expect(callTimes).toEqual(Array.from({ length: batches }, (_, k) => at + options.durationMs * Math.floor(k / options.concurrency)));
          expect(maxBatchesInFlight).toBe(Math.min(options.concurrency, batches));
        },
      ),
      { numRuns: 200 },
    );
  });
});
