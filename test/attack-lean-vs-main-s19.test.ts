/**
 * H-ATK5, stop 19: `/lite`'s lean core against main's engine, differentially. The same requests (keys and scopes
 * that look alike, a key that fails its whole batch, some requests whose signal aborted before they arrived) go
 * through both `batchDedup`s on a virtual clock with the same window, `maxSize`, `concurrency`, processing timeout,
 * dedup and join settings and an observable backend of drawn delays; arrivals and delays are spread so that no two
 * timers fall due at the same instant (a tie may break either way). Without withdrawals while waiting, the two
 * must answer every request alike: the same value or error, at the same moment, exactly once. (A request withdrawn
 * while its slot's followers wait is left out: there the lean core keeps the slot's place in the queue and the
 * engine queues the follower again at its own arrival, a documented difference: docs/decisions.md, "The switch of
 * /lite to the lean core".) Red against the lean core before the fix of test/attack-lean-aborted-join-s19.
 */
import fc from 'fast-check';
import { map, Subject, timer, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup as liteBatchDedup } from '../src/lite/index.js';
import { batchDedup as mainBatchDedup, type BatchResult } from '../src/index.js';

interface Req {
  readonly id: number;
  readonly key: string;
  readonly scope: string | number;
  readonly at: number;
  readonly abortedBefore: boolean;
  /** When its signal aborts (after `at`), if ever. */
  readonly abortAt?: number | undefined;
  signal?: AbortSignal;
}

const optionsArb = fc.record({
  windowMs: fc.integer({ min: 0, max: 5 }),
  maxSize: fc.integer({ min: 1, max: 4 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: fc.integer({ min: 1, max: 15 }),
  dedupInFlight: fc.boolean(),
  enableDedup: fc.boolean(),
  delays: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 5 }),
  maxWaitMs: fc.constant<number | undefined>(undefined),
  requestTimeoutMs: fc.constant<number | undefined>(undefined),
});
/** Dedup off (no follower to promote): withdrawals by `requestTimeoutMs` and by signal at any moment, `maxWaitMs`. */
const withdrawingArb = fc.record({
  windowMs: fc.integer({ min: 0, max: 5 }),
  maxSize: fc.integer({ min: 1, max: 4 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: fc.integer({ min: 1, max: 15 }),
  dedupInFlight: fc.boolean(),
  enableDedup: fc.constant(false),
  delays: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 5 }),
  maxWaitMs: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
  requestTimeoutMs: fc.option(fc.integer({ min: 1, max: 20 }), { nil: undefined }),
});
type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

const requestsArb = fc
  .array(
    fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'boom'),
      scope: fc.constantFrom<string | number>('x', 1, '1'),
      at: fc.integer({ min: 0, max: 20 }),
      abortedBefore: fc.boolean(),
      abortAt: fc.constant<number | undefined>(undefined),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((requests) => requests.map((r, id): Req => ({ ...r, id })));

const withdrawnArb = fc
  .array(
    fc.record({
      key: fc.constantFrom('a', 'b', 'boom'),
      scope: fc.constantFrom<string | number>('x', 1),
      at: fc.integer({ min: 0, max: 20 }),
      abortedBefore: fc.constant(false),
      abortAt: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((requests) => requests.map((r, id): Req => ({ ...r, id })));

type BatchDedup = typeof mainBatchDedup;

/** Each request's outcome and the moment it came, in request order; and the requests answered twice. */
function run(batchDedup: BatchDedup, o: Options, requests: readonly Req[]): { outcomes: string[]; twice: number[] } {
  const scheduler = new VirtualTimeScheduler();
  const source = new Subject<Req>();
  const outcomes = new Map<number, string>();
  const twice: number[] = [];
  let call = 0;
  source
    .pipe(
      batchDedup<Req, string>({
        scheduler,
        windowMs: o.windowMs,
        maxSize: o.maxSize,
        concurrency: o.concurrency,
        processingTimeoutMs: o.processingTimeoutMs,
        maxWaitMs: o.maxWaitMs,
        requestTimeoutMs: o.requestTimeoutMs,
        dedupInFlight: o.dedupInFlight,
        enableDedup: o.enableDedup,
        key: (r) => r.key,
        scope: (r) => r.scope,
        signal: (r) => r.signal,
        execute: (items) => {
          // Spread by the call's number: no backend answer falls due with another timer.
          const delay = o.delays[call % o.delays.length]! + 0.5 + call++ / 10_000;
          return timer(delay, scheduler).pipe(
            map(() => {
              if (items.some((r) => r.key === 'boom')) throw new Error('boom');
              return items.map((r) => `${r.key} in ${typeof r.scope} ${String(r.scope)}`);
            }),
          );
        },
      }),
    )
    .subscribe((r: BatchResult<Req, string>) => {
      if (outcomes.has(r.request.id)) twice.push(r.request.id);
      const error = r.error as Error | undefined;
      const what = r.status === 'fulfilled' ? r.value : `${error?.name === 'BatchTimeoutError' ? 'timeout' : error?.message}`;
      outcomes.set(r.request.id, `${what} at ${scheduler.now()}`);
    });
  for (const r of requests) {
    const sent = { ...r };
    if (r.abortedBefore) {
      const controller = new AbortController();
      controller.abort(new Error(`request ${r.id} left`));
      sent.signal = controller.signal;
    } else if (r.abortAt !== undefined) {
      const controller = new AbortController();
      sent.signal = controller.signal;
      // A quarter off the integer grid, spread by id: never due with another timer.
      scheduler.schedule(() => controller.abort(new Error(`request ${r.id} left`)), r.abortAt + 0.25 + r.id / 1000);
    }
    // Spread by id: no two arrivals at one instant, nor an arrival with a timer.
    scheduler.schedule(() => source.next(sent), r.at + (r.id + 1) / 1000);
  }
  scheduler.schedule(() => source.complete(), 30);
  scheduler.flush();
  return { outcomes: requests.map((r) => `${r.id}: ${outcomes.get(r.id) ?? 'no answer'}`), twice };
}

describe('the lean core and the engine answer alike', () => {
  it('every request: the same value or error at the same moment, once', () => {
    fc.assert(
      fc.property(optionsArb, requestsArb, (o, requests) => {
        const lean = run(liteBatchDedup as BatchDedup, o, requests);
        const engine = run(mainBatchDedup, o, requests);
        expect(lean.twice).toEqual([]);
        expect(engine.twice).toEqual([]);
        expect(lean.outcomes).toEqual(engine.outcomes);
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 400) },
    );
  });

  it('dedup off, requests withdrawn by requestTimeoutMs or their signal at any moment: the same value or error at the same moment, once', () => {
    fc.assert(
      fc.property(withdrawingArb, withdrawnArb, (o, requests) => {
        const lean = run(liteBatchDedup as BatchDedup, o, requests);
        const engine = run(mainBatchDedup, o, requests);
        expect(lean.twice).toEqual([]);
        expect(engine.twice).toEqual([]);
        expect(lean.outcomes).toEqual(engine.outcomes);
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 400) },
    );
  });
});
