/**
 * Reliability properties of the promise bridge, `createBatcher`, on a virtual clock: random arrivals with
 * per-call deadlines, aborts and scopes, a backend that fails, stalls, returns the wrong shape or answers
 * normally, and `close()` at a random moment. Every promise settles, with its own answer, and a closed batcher
 * leaves no timer, no queue and nothing in flight.
 */
import fc from 'fast-check';
import { concat, map, Observable, throwError, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatcherClosedError, createBatcher } from '../src/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { drain, turn } from './support.js';

interface Req {
  readonly id: number;
  readonly key: number;
  /** Passed as `process(req, { scope })`: the executor never sees it, so only the batcher can keep scopes apart. */
  readonly tenant: string;
}

interface Arrival {
  readonly at: number;
  readonly key: number;
  readonly tenant: string;
  readonly timeoutMs: number | undefined;
  readonly abortAfter: number | undefined;
}

type Behaviour = 'ok' | 'throw' | 'reject' | 'wrong-length' | 'slow';

const arrivalsArb = fc.array(
  fc.record({
    at: fc.integer({ min: 0, max: 60 }),
    key: fc.integer({ min: 0, max: 3 }),
    tenant: fc.constantFrom('t1', 't2'),
    timeoutMs: fc.option(fc.integer({ min: 1, max: 40 }), { freq: 3, nil: undefined }),
    abortAfter: fc.option(fc.integer({ min: 0, max: 30 }), { freq: 4, nil: undefined }),
  }),
  { minLength: 1, maxLength: 25 },
);

const optionsArb = fc.record({
  windowMs: fc.integer({ min: 0, max: 10 }),
  maxSize: fc.integer({ min: 1, max: 5 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: fc.integer({ min: 1, max: 20 }),
  onTimeout: fc.constantFrom('reject' as const, 'individual' as const),
  dedupInFlight: fc.boolean(),
  durationMs: fc.integer({ min: 0, max: 10 }),
});

const behavioursArb = fc.array(fc.constantFrom<Behaviour>('ok', 'ok', 'throw', 'reject', 'wrong-length', 'slow'), {
  minLength: 1,
  maxLength: 8,
});


describe('createBatcher reliability under random interleavings', () => {
  it('settles every accepted promise with its own answer; close() leaves no timer, queue or call behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        arrivalsArb,
        optionsArb,
        behavioursArb,
        fc.integer({ min: 0, max: 80 }),
        async (arrivals, options, behaviours, closeAt) => {
          const clock = virtualClock();
          const tracked = trackTimers(clock.scheduler);
          let calls = 0;
          const { durationMs, ...batcherOptions } = options;
          const batcher = createBatcher<Req, Req>({
            ...batcherOptions,
            scheduler: tracked.scheduler,
            key: (r) => String(r.key),
            execute: (items) => {
              const behaviour = behaviours[calls++ % behaviours.length]!;
              const later = timer(durationMs, clock.scheduler);
              switch (behaviour) {
                case 'ok':
                  return later.pipe(map(() => items));
                case 'throw':
                  throw new Error('sync failure');
                case 'reject':
                  return concat(later, throwError(() => new Error('backend down'))) as Observable<never>;
                case 'wrong-length':
                  return later.pipe(map(() => items.slice(1)));
                case 'slow':
                  return timer(options.processingTimeoutMs + 3, clock.scheduler).pipe(map(() => items));
              }
            },
          });

          const outcomes = new Map<number, { settled: number; value?: Req; error?: unknown }>();
          const accepted = new Set<number>();
          const steps = [...new Set([...arrivals.map((a) => a.at), closeAt])].sort((a, b) => a - b);
          let now = 0;
          let closing: Promise<void> | undefined;
          for (const t of steps) {
            clock.advanceBy(t - now);
            now = t;
            arrivals.forEach((arrival, id) => {
              if (arrival.at !== t) return;
              const controller = new AbortController();
              if (arrival.abortAfter !== undefined) {
                clock.scheduler.schedule(() => controller.abort(new Error(`abort ${id}`)), arrival.abortAfter);
              }
              const record = { settled: 0 } as { settled: number; value?: Req; error?: unknown };
              outcomes.set(id, record);
              if (!batcher.closed) accepted.add(id);
              batcher
                .process({ id, key: arrival.key, tenant: arrival.tenant }, {
                  scope: arrival.tenant,
                  timeoutMs: arrival.timeoutMs,
                  signal: controller.signal,
                })
                .then(
                  (value) => Object.assign(record, { settled: record.settled + 1, value }),
                  (error: unknown) => Object.assign(record, { settled: record.settled + 1, error }),
                );
            });
            if (t === closeAt) closing = batcher.close();
            await turn();
          }
          expect(await drain(clock, closing!)).toBe(true);
          expect(tracked.pending()).toBe(0);
          const stats = batcher.getStats();
          expect(stats.queueDepth).toBe(0);
          expect(stats.inFlight).toBe(0);

          for (const [id, record] of outcomes) {
            expect(record.settled).toBe(1);
            if (!accepted.has(id)) {
              expect(record.error).toBeInstanceOf(BatcherClosedError);
            } else if (record.value !== undefined) {
              // Its own answer: the same key and, though the executor never saw it, the same tenant.
              expect(record.value.key).toBe(arrivals[id]!.key);
              expect(record.value.tenant).toBe(arrivals[id]!.tenant);
            } else {
              expect(record.error).toBeInstanceOf(Error);
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('with semantic dedup, merges everything it may within a scope and nothing across scopes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 30 }), key: fc.integer({ min: 0, max: 5 }), tenant: fc.constantFrom('t1', 't2', 't3') }), {
          minLength: 1,
          maxLength: 25,
        }),
        fc.constantFrom('embedding' as const, 'hybrid' as const),
        behavioursArb,
        async (arrivals, dedupStrategy, behaviours) => {
          const clock = virtualClock();
          const tracked = trackTimers(clock.scheduler);
          let calls = 0;
          /** The texts of every backend call. */
          const executed: string[][] = [];
          // Every text gets the same vector: any two requests the batcher is allowed to compare will merge.
          // The tenant is only in the text and in process(..., { scope }), so a cross-scope merge shows.
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
              const behaviour = behaviours[calls++ % behaviours.length]!;
              if (behaviour === 'throw') throw new Error('sync failure');
              const answers = timer(3, clock.scheduler).pipe(map(() => items.map((text) => `answer for ${text}`)));
              return behaviour === 'wrong-length' ? answers.pipe(map((a) => a.slice(1))) : answers;
            },
          });
          const outcomes = arrivals.map(() => ({ settled: 0, value: undefined as string | undefined }));
          let now = 0;
          for (const t of [...new Set(arrivals.map((a) => a.at))].sort((a, b) => a - b)) {
            clock.advanceBy(t - now);
            now = t;
            arrivals.forEach(({ at, key, tenant }, id) => {
              if (at !== t) return;
              const record = outcomes[id]!;
              batcher.process(`${tenant}: question ${key}`, { scope: tenant }).then(
                (value) => Object.assign(record, { settled: record.settled + 1, value }),
                () => Object.assign(record, { settled: record.settled + 1 }),
              );
            });
            await turn();
          }
          expect(await drain(clock, batcher.close())).toBe(true);
          expect(tracked.pending()).toBe(0);
          outcomes.forEach((record, id) => {
            expect(record.settled).toBe(1);
            if (record.value !== undefined) expect(record.value).toMatch(new RegExp(`^answer for ${arrivals[id]!.tenant}: `));
          });
          // Within a scope everything may merge, so a batch never executes two requests of one tenant.
          expect(batcher.getStats().executedItems).toBeLessThanOrEqual(batcher.getStats().totalBatches * 3);
          for (const texts of executed) {
            const tenants = texts.map((text) => text.slice(0, text.indexOf(':')));
            expect(new Set(tenants).size, `one call executed ${JSON.stringify(texts)}`).toBe(tenants.length);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
