/**
 * Properties of the forming batch (issue 12 item 1): with exact or hybrid dedup, a request equal (same key, same
 * scope) to one already pending (waiting in the queue, or executing with `dedupInFlight`) joins it, so `maxSize`
 * bounds the backend items of a batch and an item never runs twice while an equal one is pending, whatever
 * arrives when, aborts, expires, has which priority, and whatever the window, size and wait settings.
 */
import fc from 'fast-check';
import { map, Subject, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatcherClosedError, BatchTimeoutError, batchDedup, createBatcher, type BatchResult, type DedupScope } from '../src/index.js';
import { simulatedBackend, trackTimers, virtualClock, type BackendCall } from '../src/testing/index.js';
import { drain, turn } from './support.js';

interface Req {
  readonly id: number;
  readonly key: number;
  readonly scope: DedupScope;
  readonly p: number;
  readonly signal: AbortSignal | undefined;
}

interface Arrival {
  readonly at: number;
  readonly key: number;
  readonly scope: DedupScope;
  readonly p: number;
  /** Absolute time at which its signal aborts (before its arrival: it arrives aborted). */
  readonly abortAt: number | undefined;
}

/** Few keys and scopes, so duplicates are common; `1`, `'1'` and `1n` are three scopes that must stay apart. */
const arrivalsArb = fc.array(
  fc.record({
    at: fc.integer({ min: 0, max: 40 }),
    key: fc.integer({ min: 0, max: 2 }),
    scope: fc.constantFrom<DedupScope>('a', 1, '1', 1n),
    p: fc.integer({ min: 0, max: 3 }),
    abortAt: fc.option(fc.integer({ min: 0, max: 50 }), { freq: 3, nil: undefined }),
  }),
  { minLength: 1, maxLength: 30 },
);

const settingsArb = fc
  .record({
    windowMs: fc.integer({ min: 0, max: 8 }),
    maxSize: fc.integer({ min: 1, max: 4 }),
    minSize: fc.integer({ min: 1, max: 4 }),
    maxWaitMs: fc.integer({ min: 0, max: 20 }),
    concurrency: fc.integer({ min: 1, max: 3 }),
    requestTimeoutMs: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
    enablePriorities: fc.boolean(),
    dedupInFlight: fc.boolean(),
    durationMs: fc.integer({ min: 0, max: 8 }),
  })
  .map((s) => ({ ...s, minSize: Math.min(s.minSize, s.maxSize) }));

/** One (scope, key) as a map key, types kept apart: `1`, `'1'` and `1n` differ. */
const slotId = (r: { key: number; scope: DedupScope }) => `${typeof r.scope}:${String(r.scope)}|${r.key}`;

/** The backend's answer for a request: its own scope and key, compared with `Object.is`. */
const answer = (r: Req) => ({ scope: r.scope, key: r.key });

/**
 * What every backend call must respect: at most `maxSize` items, no two of one (scope, key), and an item runs
 * again only once no equal one is pending: its request arrived after the previous execution of its slot was sent
 * (without `dedupInFlight`) or had its outcome (with it, `settledAt`).
 */
function checkCalls(
  calls: readonly { at: number; items: readonly Req[] }[],
  maxSize: number,
  arrivedAt: (r: Req) => number,
  doneAt: (call: { at: number }) => number,
): void {
  const lastDone = new Map<string, number>();
  for (const call of calls) {
    expect(call.items.length).toBeGreaterThan(0);
    expect(call.items.length).toBeLessThanOrEqual(maxSize);
    const slots = call.items.map(slotId);
    expect(new Set(slots).size, `call at ${call.at}: ${slots.join(', ')}`).toBe(slots.length);
    for (const item of call.items) {
      const previous = lastDone.get(slotId(item));
      if (previous !== undefined) expect(arrivedAt(item), `${slotId(item)} ran again while an equal one was pending`).toBeGreaterThanOrEqual(previous);
      lastDone.set(slotId(item), doneAt(call));
    }
  }
}

describe('batchDedup: the forming batch under random arrivals, aborts, deadlines and priorities', () => {
  it('answers each request once with its own answer; calls hold at most maxSize distinct items; nothing runs twice while pending', () => {
    fc.assert(
      fc.property(arrivalsArb, settingsArb, (arrivals, settings) => {
        const clock = virtualClock();
        const { scheduler } = clock;
        const { durationMs, ...options } = settings;
        const backend = simulatedBackend({ scheduler, durationMs: () => durationMs, compute: answer });
        const requests: Req[] = [];
        const reasons: unknown[] = [];
        for (const [id, arrival] of arrivals.entries()) {
          const controller = new AbortController();
          const reason = new Error(`abort ${id}`);
          reasons.push(reason);
          if (arrival.abortAt !== undefined) scheduler.schedule(() => controller.abort(reason), arrival.abortAt);
          requests.push({ id, key: arrival.key, scope: arrival.scope, p: arrival.p, signal: arrival.abortAt === undefined ? undefined : controller.signal });
        }
        const source = new Subject<Req>();
        const results: { result: BatchResult<Req, ReturnType<typeof answer>>; at: number }[] = [];
        let completed = false;
        source
          .pipe(
            batchDedup<Req, ReturnType<typeof answer>>({
              ...options,
              execute: backend.execute,
              key: (r) => r.key,
              scope: (r) => r.scope,
              signal: (r) => r.signal,
              ...(options.enablePriorities && { priority: (r: Req) => r.p, priorityAgingPerSecond: 100 }),
              scheduler,
            }),
          )
          .subscribe({ next: (result) => results.push({ result, at: scheduler.now() }), complete: () => (completed = true) });
        for (const request of requests) scheduler.schedule(() => source.next(request), arrivals[request.id]!.at);
        scheduler.schedule(() => source.complete(), 60);
        clock.runAll();

        expect(completed).toBe(true);
        expect(results.map(({ result }) => result.request.id).sort((a, b) => a - b)).toEqual(requests.map((r) => r.id));
        for (const { result, at } of results) {
          const r = result.request;
          const arrival = arrivals[r.id]!;
          if (result.status === 'fulfilled') {
            expect(Object.is(result.value.scope, r.scope) && result.value.key === r.key, `request ${r.id} got its own answer`).toBe(true);
          } else if (result.error instanceof BatchTimeoutError) {
            // Only its own deadline, in its own frame.
            expect(at).toBe(arrival.at + settings.requestTimeoutMs!);
          } else {
            // Only its own abort, in that frame (or at arrival, when it came aborted).
            expect(result.error).toBe(reasons[r.id]);
            expect(at).toBe(Math.max(arrival.at, arrival.abortAt!));
          }
        }
        checkCalls(
          backend.calls as BackendCall<Req>[],
          settings.maxSize,
          (r) => arrivals[r.id]!.at,
          (call) => call.at + (settings.dedupInFlight ? durationMs : 0),
        );
        // A request sent was still wanted when it was sent: not aborted, not expired.
        for (const call of backend.calls) {
          for (const item of call.items) {
            const arrival = arrivals[item.id]!;
            if (arrival.abortAt !== undefined) expect(arrival.abortAt).toBeGreaterThanOrEqual(call.at);
            if (settings.requestTimeoutMs !== undefined) expect(arrival.at + settings.requestTimeoutMs).toBeGreaterThanOrEqual(call.at);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('sends a burst with no aborts as exactly its distinct (scope, key) items, in ceil(distinct / maxSize) calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 5 }), scope: fc.constantFrom<DedupScope>('a', 1, '1', 1n) }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom('exact' as const, 'hybrid' as const),
        (burst, maxSize, concurrency, windowMs, dedupStrategy) => {
          const clock = virtualClock();
          const { scheduler } = clock;
          const backend = simulatedBackend({ scheduler, durationMs: () => 3, compute: answer });
          const source = new Subject<Req>();
          const results: BatchResult<Req, ReturnType<typeof answer>>[] = [];
          source
            .pipe(
              batchDedup<Req, ReturnType<typeof answer>>({
                execute: backend.execute,
                maxSize,
                concurrency,
                windowMs,
                dedupStrategy,
                key: (r) => r.key,
                scope: (r) => r.scope,
                // Texts of different keys differ in a number: the merge guard never lets hybrid merge them.
                text: (r) => `question number ${r.key}`,
                scheduler,
              }),
            )
            .subscribe((result) => results.push(result));
          scheduler.schedule(() => burst.forEach((b, id) => source.next({ id, ...b, p: 0, signal: undefined })), 0);
          clock.runAll();

          const distinct = new Set(burst.map(slotId)).size;
          expect(results).toHaveLength(burst.length);
          expect(results.every((r) => r.status === 'fulfilled' && Object.is(r.value.scope, r.request.scope) && r.value.key === r.request.key)).toBe(true);
          expect(backend.items()).toBe(distinct);
          expect(backend.calls).toHaveLength(Math.ceil(distinct / maxSize));
          checkCalls(backend.calls as BackendCall<Req>[], maxSize, () => 0, () => 0);
          // Every request but one per item was answered as a duplicate.
          expect(results.filter((r) => r.deduplicated)).toHaveLength(burst.length - distinct);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('createBatcher: the forming batch with per-call deadlines, signals and scopes, closed at a random moment', () => {
  it('settles every promise once with its own answer, never sends two equal items together or over maxSize, and leaves no timer', async () => {
    const callArb = fc.array(
      fc.record({
        at: fc.integer({ min: 0, max: 40 }),
        key: fc.integer({ min: 0, max: 2 }),
        scope: fc.constantFrom<DedupScope>('a', 1, '1'),
        p: fc.integer({ min: 0, max: 3 }),
        timeoutMs: fc.option(fc.integer({ min: 1, max: 30 }), { freq: 3, nil: undefined }),
        abortAfter: fc.option(fc.integer({ min: 0, max: 30 }), { freq: 3, nil: undefined }),
      }),
      { minLength: 1, maxLength: 25 },
    );
    await fc.assert(
      fc.asyncProperty(
        callArb,
        settingsArb,
        fc.constantFrom('exact' as const, 'hybrid' as const),
        fc.integer({ min: 0, max: 60 }),
        async (arrivals, settings, dedupStrategy, closeAt) => {
          const clock = virtualClock();
          const tracked = trackTimers(clock.scheduler);
          const { durationMs, ...options } = settings;
          const calls: { at: number; items: Req[] }[] = [];
          const batcher = createBatcher<Req, Req>({
            ...options,
            dedupStrategy,
            key: (r) => r.key,
            text: (r) => `question number ${r.key}`,
            ...(options.enablePriorities && { priority: (r: Req) => r.p }),
            scheduler: tracked.scheduler,
            execute: (items) => {
              calls.push({ at: clock.scheduler.now(), items: [...items] });
              // On the scheduler itself, so that the virtual clock cannot run past an answer (a promise would wait for a turn).
              return timer(durationMs, clock.scheduler).pipe(map(() => items));
            },
          });
          const outcomes = arrivals.map(() => ({ settled: 0, value: undefined as Req | undefined, error: undefined as unknown }));
          const reasons = arrivals.map((_, id) => new Error(`abort ${id}`));
          const steps = [...new Set([...arrivals.map((a) => a.at), closeAt])].sort((a, b) => a - b);
          let now = 0;
          let closing: Promise<void> | undefined;
          for (const t of steps) {
            clock.advanceBy(t - now);
            now = t;
            arrivals.forEach((arrival, id) => {
              if (arrival.at !== t) return;
              const controller = new AbortController();
              if (arrival.abortAfter !== undefined) clock.scheduler.schedule(() => controller.abort(reasons[id]), arrival.abortAfter);
              const record = outcomes[id]!;
              const request: Req = { id, key: arrival.key, scope: arrival.scope, p: arrival.p, signal: undefined };
              batcher
                .process(request, {
                  scope: arrival.scope,
                  timeoutMs: arrival.timeoutMs,
                  ...(arrival.abortAfter !== undefined && { signal: controller.signal }),
                  ...(settings.enablePriorities && { priority: arrival.p }),
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
          expect(batcher.getStats()).toMatchObject({ queueDepth: 0, inFlight: 0 });

          outcomes.forEach((record, id) => {
            const arrival = arrivals[id]!;
            expect(record.settled, `request ${id}`).toBe(1);
            if (record.value !== undefined) {
              // Its own answer: the same key, and the same scope though the backend never saw it.
              expect(record.value.key).toBe(arrival.key);
              expect(Object.is(record.value.scope, arrival.scope)).toBe(true);
            } else if (record.error instanceof BatchTimeoutError) {
              expect(arrival.timeoutMs !== undefined || settings.requestTimeoutMs !== undefined).toBe(true);
            } else if (!(record.error instanceof BatcherClosedError)) {
              expect(record.error).toBe(reasons[id]);
            }
          });
          checkCalls(
            calls,
            settings.maxSize,
            (r) => arrivals[r.id]!.at,
            (call) => call.at + (settings.dedupInFlight ? durationMs : 0),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
