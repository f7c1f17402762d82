/**
 * Properties over clocks that step back and forward by anything from 1 ms to days, at any moment: the adaptive
 * window and the stats stay finite and within their bounds, latencies are never negative, every timer is set
 * for a finite delay >= 0, and every request is answered, once, with its own result.
 */
import fc from 'fast-check';
import { Subject, VirtualTimeScheduler, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AdaptiveWindow, type AdaptiveSettings } from '../src/internal/adaptiveWindow.js';
import { createBatchFeedback } from '../src/internal/feedback.js';
import { adaptiveBuffer } from '../src/operators/adaptiveBuffer.js';
import { batchDedup } from '../src/operators/batchDedup.js';
import { dedupBy } from '../src/operators/dedupBy.js';
import { fanOut } from '../src/operators/fanOut.js';
import { createBatchStats, type BatchStats } from '../src/stats/batchStats.js';
import { simulatedBackend } from '../src/testing/index.js';
import type { BatchResult } from '../src/types.js';

const DAY = 24 * 60 * 60 * 1000;

/** A clock step: back or forward, from 1 ms to three days, mostly small. */
const stepArb = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 1000 }) },
      { weight: 3, arbitrary: fc.integer({ min: 1000, max: 10 * 60 * 1000 }) },
      { weight: 2, arbitrary: fc.integer({ min: 10 * 60 * 1000, max: 3 * DAY }) },
    ),
  )
  .map(([back, ms]) => (back ? -ms : ms));

/** Any clock's starting reading: zero, small, `Date.now()`-like. */
const startArb = fc.constantFrom(0, 5_000, 1_700_000_000_000);

const settingsArb = fc
  .record({
    targetLatencyMs: fc.integer({ min: 1, max: 400 }),
    minWindowMs: fc.integer({ min: 0, max: 30 }),
    spread: fc.integer({ min: 0, max: 200 }),
  })
  .map(({ targetLatencyMs, minWindowMs, spread }): AdaptiveSettings => ({
    targetLatencyMs,
    minWindowMs,
    maxWindowMs: minWindowMs + spread,
  }));

/**
 * A wall clock over a virtual scheduler: `now()` steps by `step(ms)` while timers keep their delays (as
 * `setTimeout` does when `Date.now()` steps). Records every delay a timer is set for.
 */
function steppingClock(start: number) {
  const inner = new VirtualTimeScheduler();
  let offset = start;
  const delays: number[] = [];
  const scheduler: SchedulerLike = {
    now: () => inner.now() + offset,
    schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay = 0, state?: S) {
      delays.push(delay);
      return inner.schedule(
        function (this: SchedulerAction<S>, s?: S) {
          // A work rescheduling itself sets a timer too.
          const action = this;
          const tracked = Object.create(action) as SchedulerAction<S>;
          tracked.schedule = (nextState?: S, nextDelay = 0) => {
            delays.push(nextDelay);
            return action.schedule(nextState, nextDelay);
          };
          work.call(tracked, s);
        },
        delay,
        state,
      );
    },
  };
  return { inner, scheduler, delays, step: (ms: number) => (offset += ms) };
}

function expectFiniteNonNegative(x: number, what: string) {
  expect(Number.isFinite(x), `${what} = ${x}`).toBe(true);
  expect(x, what).toBeGreaterThanOrEqual(0);
}

function expectWindow(ms: number, s: AdaptiveSettings, what: string) {
  expectFiniteNonNegative(ms, what);
  expect(ms, what).toBeGreaterThanOrEqual(s.minWindowMs);
  expect(ms, what).toBeLessThanOrEqual(s.maxWindowMs);
}

/** `live`: while the collector runs (a finished one reports no window). */
function expectSaneStats(stats: BatchStats, s: AdaptiveSettings, live: boolean) {
  for (const [name, value] of Object.entries(stats)) {
    if (typeof value === 'number') expectFiniteNonNegative(value, name);
  }
  for (const p of ['p50', 'p95', 'p99'] as const) expectFiniteNonNegative(stats.latencyMs[p], `latencyMs.${p}`);
  if (live) expectWindow(stats.currentWindowMs, s, 'currentWindowMs');
}

describe('AdaptiveWindow on a stepping clock', () => {
  type Op =
    | { kind: 'arrive'; after: number }
    | { kind: 'step'; ms: number }
    | { kind: 'report'; n: number; durationMs: number; latenciesMs: number[] };
  const durationArb = fc.oneof(fc.integer({ min: 0, max: 500 }), stepArb, fc.constantFrom(Number.NaN, Infinity, -Infinity));
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('arrive' as const), after: fc.integer({ min: 0, max: 50 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('step' as const), ms: stepArb }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('report' as const),
        n: fc.integer({ min: 0, max: 64 }),
        durationMs: durationArb,
        latenciesMs: fc.array(durationArb, { maxLength: 8 }),
      }),
    },
  );

  it('keeps the rate estimate and the fit finite and >= 0, and every window finite and within bounds', () => {
    fc.assert(
      fc.property(startArb, settingsArb, fc.integer({ min: -50, max: 400 }), fc.array(opArb, { maxLength: 200 }), (start, s, initial, ops) => {
        let now = start;
        const scheduler = { now: () => now, schedule: () => ({ unsubscribe() {} }) } as unknown as SchedulerLike;
        const controller = new AdaptiveWindow(scheduler, () => s, initial);
        for (const op of ops) {
          if (op.kind === 'arrive') {
            now += op.after;
            controller.observeArrival(now);
          } else if (op.kind === 'step') {
            now += op.ms;
          } else {
            controller.observe({ size: op.n, executedItems: op.n, durationMs: op.durationMs, latenciesMs: op.latenciesMs, settledAt: now });
          }
          expectFiniteNonNegative(controller.rateAt(now), 'rate');
          const { a, b } = controller.model();
          expectFiniteNonNegative(a, 'a');
          expectFiniteNonNegative(b, 'b');
          expectWindow(controller.windowFor(), s, 'windowFor()');
          expectWindow(controller.current, s, 'current');
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('adaptive pipelines on a stepping clock', () => {
  const scenarioArb = fc.record({
    start: startArb,
    settings: settingsArb,
    concurrency: fc.integer({ min: 1, max: 3 }),
    maxSize: fc.integer({ min: 1, max: 16 }),
    minSize: fc.integer({ min: 1, max: 4 }),
    backendMs: fc.integer({ min: 0, max: 40 }),
    /** Gaps between arrivals (ms) and each arrival's key, from a small pool so some are deduplicated. */
    arrivals: fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 60 }),
    /** Steps of the clock, each at a moment within the arrivals' span. */
    steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 1500 }), stepArb), { maxLength: 6 }),
    composed: fc.boolean(),
  });

  it('answers every request once, with its own result and a latency >= 0; stats and window stay sane', () => {
    fc.assert(
      fc.property(scenarioArb, (sc) => {
        const clock = steppingClock(sc.start);
        const { scheduler } = clock;
        const s = sc.settings;
        const stats = createBatchStats({ scheduler });
        const backend = simulatedBackend({ scheduler, durationMs: () => sc.backendMs, compute: (q: string) => `answer:${q}` });
        const source = new Subject<string>();
        // A generous maxWaitMs: a request that waited for it would show the window had gone wrong.
        const maxWaitMs = s.maxWindowMs + 1000;
        let output;
        if (sc.composed) {
          const feedback = createBatchFeedback(sc.concurrency);
          output = source.pipe(
            adaptiveBuffer<string>({ ...s, maxSize: sc.maxSize, minSize: Math.min(sc.minSize, sc.maxSize), maxWaitMs, feedback, stats, scheduler }),
            dedupBy<string>({ stats }),
            fanOut<string, string>({ execute: backend.execute, feedback, concurrency: sc.concurrency, stats, scheduler }),
          );
        } else {
          output = source.pipe(
            batchDedup<string, string>({
              execute: backend.execute,
              adaptive: true,
              ...s,
              maxSize: sc.maxSize,
              minSize: Math.min(sc.minSize, sc.maxSize),
              maxWaitMs,
              concurrency: sc.concurrency,
              stats,
              scheduler,
            }),
          );
        }
        const results: BatchResult<string, string>[] = [];
        let completed = false;
        let lastResultAt = 0;
        // Snapshots taken along the way, checked after the run (a throw inside `next` would not reach the
        // property); `open` while the source is, so the collector is surely running and reports its window.
        let open = true;
        const snapshots: [BatchStats, boolean][] = [];
        const snap = () => snapshots.push([stats.snapshot(), open]);
        output.subscribe({
          next: (r) => {
            results.push(r);
            lastResultAt = clock.inner.now();
            snap();
          },
          complete: () => (completed = true),
        });
        let t = 0;
        const sent: string[] = [];
        for (const [gap, key] of sc.arrivals) {
          t += gap;
          const request = `q${key}`;
          clock.inner.schedule(() => {
            sent.push(request);
            source.next(request);
            snap();
          }, t);
        }
        for (const [at, ms] of sc.steps) {
          clock.inner.schedule(() => {
            clock.step(ms);
            snap();
          }, at);
        }
        clock.inner.schedule(() => {
          open = false;
          source.complete();
        }, t + 1);
        clock.inner.flush();

        expect(completed).toBe(true);
        expect(results.map((r) => r.request).sort()).toEqual([...sent].sort());
        for (const r of results) {
          expect(r.status).toBe('fulfilled');
          expect(r.value).toBe(`answer:${r.request}`);
          expectFiniteNonNegative(r.latencyMs, 'latencyMs');
        }
        for (const delay of clock.delays) expectFiniteNonNegative(delay, 'timer delay');
        for (const [snapshot, live] of snapshots) expectSaneStats(snapshot, s, live);
        expectSaneStats(stats.snapshot(), s, false);
        // The timers measure true time: everything was served within what waiting for the window, for a slot
        // (every batch ahead, back to back) and for the backend allows, never days after a step back.
        const batches = backend.calls.length;
        expect(lastResultAt).toBeLessThanOrEqual(t + maxWaitMs + (batches + 1) * (sc.backendMs + 1) + 1);
      }),
      { numRuns: 200 },
    );
  });
});
