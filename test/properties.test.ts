import fc from 'fast-check';
import { concat, finalize, ignoreElements, map, merge, Observable, of, throwError, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { createTestScheduler } from '../src/testing/index.js';
import type { BatchResult, ExecuteContext, StreamedResult } from '../src/types.js';

interface Req {
  readonly id: number;
  readonly at: number;
  readonly key: number;
  readonly scope: string;
}

/** The echo a backend returns for an item: everything about the request that asked. */
interface Echo {
  readonly id: number;
  readonly key: number;
  readonly scope: string;
}

type Behaviour = 'ok' | 'throw' | 'error-later' | 'wrong-length' | 'slow' | 'stream-partial' | 'stream-all';

const requestsArb = fc
  .array(fc.record({ at: fc.integer({ min: 0, max: 120 }), key: fc.integer({ min: 0, max: 4 }), scope: fc.constantFrom('ann', 'bob', 'cy') }), {
    minLength: 1,
    maxLength: 40,
  })
  .map((rs) => rs.map((r, id): Req => ({ ...r, id })));

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

const behavioursArb = fc.array(
  fc.constantFrom<Behaviour>('ok', 'ok', 'ok', 'throw', 'error-later', 'wrong-length', 'slow', 'stream-partial', 'stream-all'),
  { minLength: 1, maxLength: 12 },
);

type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

function run(requests: Req[], options: Options, behaviours: Behaviour[]) {
  const scheduler = createTestScheduler();
  const stats = createBatchStats({ scheduler });
  const results: BatchResult<Req, Echo>[] = [];
  let completed = false;
  const calls: Req[][] = [];
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
      const echo = items.map((r): Echo => ({ id: r.id, key: r.key, scope: r.scope }));
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
    const source = merge(...requests.map((r) => timer(r.at).pipe(map(() => r))));
    const { durationMs: _backendOnly, ...pipelineOptions } = options; // unknown options are refused
    source
      .pipe(
        batchDedup<Req, Echo>({
          ...pipelineOptions,
          execute,
          key: (r) => String(r.key),
          scope: (r) => r.scope,
          stats,
        }),
      )
      .subscribe({ next: (r) => results.push(r), complete: () => (completed = true) });
  });
  return { results, completed, calls, maxBatchesInFlight, batchesStillRunning: runningCalls.size, stats: stats.snapshot() };
}

describe('batchDedup properties', () => {
  it('gives every request exactly one result, its own, and never shares one across scopes', () => {
    fc.assert(
      fc.property(requestsArb, optionsArb, behavioursArb, (requests, options, behaviours) => {
        const { results, completed, calls, stats } = run(requests, options, behaviours);
        expect(completed).toBe(true);
        // Exactly one result per request.
        expect(results.map((r) => r.request.id).sort((a, b) => a - b)).toEqual(requests.map((r) => r.id));
        for (const result of results) {
          if (result.status !== 'fulfilled') {
            expect(result.error).toBeInstanceOf(Error);
            continue;
          }
          const echo = result.value!;
          // Its own request's answer: same key, same scope; and the very request unless deduplicated.
          expect(echo.key).toBe(result.request.key);
          expect(echo.scope).toBe(result.request.scope);
          if (!result.deduplicated) expect(echo.id).toBe(result.request.id);
        }
        // Duplicates share their leader's result: within a batch, equal (key, scope) means the same value.
        const byBatchAndKey = new Map<string, unknown>();
        for (const result of results) {
          if (result.status !== 'fulfilled') continue;
          const k = `${result.batchId}/${result.request.scope}/${result.request.key}`;
          if (byBatchAndKey.has(k)) expect(result.value).toBe(byBatchAndKey.get(k));
          else byBatchAndKey.set(k, result.value);
        }
        // The backend never saw two equal requests of one scope in one call.
        for (const items of calls) {
          const seen = new Set(items.map((r) => `${r.scope}/${r.key}`));
          expect(seen.size).toBe(items.length);
        }
        expect(stats.completed).toBe(requests.length);
        expect(stats.totalRequests).toBe(requests.length);
        expect(stats.queueDepth).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('respects maxSize and concurrency whatever the timing', () => {
    fc.assert(
      fc.property(requestsArb, optionsArb, (requests, options) => {
        const { calls, results, maxBatchesInFlight, batchesStillRunning } = run(requests, options, ['ok']);
        expect(results).toHaveLength(requests.length);
        for (const items of calls) expect(items.length).toBeLessThanOrEqual(options.maxSize);
        expect(maxBatchesInFlight).toBeGreaterThanOrEqual(1);
        expect(maxBatchesInFlight).toBeLessThanOrEqual(options.concurrency);
        expect(batchesStillRunning).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
