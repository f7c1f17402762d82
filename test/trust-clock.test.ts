/**
 * Wall clocks step: NTP corrects them, a VM resumes, a user sets the time. Timers keep their relative delays, but
 * `now()` jumps. Durations computed from two readings must never be negative, and every estimate built from them
 * must stay finite and within its bounds, whatever the clock does.
 */
import { asyncScheduler, map, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { arrivalClock } from '../src/internal/arrivalClock.js';
import { AdaptiveWindow } from '../src/internal/adaptiveWindow.js';
import type { BatchReport } from '../src/internal/feedback.js';
import { batchDedup } from '../src/operators/batchDedup.js';
import { createBatcher } from '../src/batcher/createBatcher.js';
import { createBatchStats, type BatchStats } from '../src/stats/batchStats.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import type { BatchResult } from '../src/types.js';
import { testScheduler } from '../marbles/helpers.js';
import { turn } from './support.js';

/**
 * A scheduler over `inner` whose `now()` can be stepped like a wall clock, while its timers keep their delays
 * (as `setTimeout` does when `Date.now()` steps).
 */
function steppingClock(inner: SchedulerLike, start = 0) {
  let offset = start;
  const scheduler: SchedulerLike = {
    now: () => inner.now() + offset,
    schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S) {
      return inner.schedule(work, delay, state);
    },
  };
  return { scheduler, step: (ms: number) => (offset += ms) };
}

const MINUTE = 60_000;

const settings = { targetLatencyMs: 100, minWindowMs: 2, maxWindowMs: 40 };
const report = (n: number, durationMs: number, latenciesMs: number[], settledAt: number): BatchReport => ({
  size: n,
  executedItems: n,
  durationMs,
  latenciesMs,
  settledAt,
});

function expectWithinBounds(window: number) {
  expect(Number.isFinite(window)).toBe(true);
  expect(window).toBeGreaterThanOrEqual(settings.minWindowMs);
  expect(window).toBeLessThanOrEqual(settings.maxWindowMs);
}

describe('the adaptive window across a clock step', () => {
  it.each([2 * MINUTE, 70_979, 75 * 1000, 3 * 24 * 60 * MINUTE])(
    'a step back of %d ms: the rate estimate stays finite and the window within bounds, and recovers with normal traffic',
    (back) => {
      let now = 1_700_000_000_000;
      const scheduler = { now: () => now, schedule: () => ({ unsubscribe() {} }) } as never;
      const controller = new AdaptiveWindow(scheduler, () => settings, 20);
      // Normal traffic: an arrival every ms, batches of 10 taking 10 ms.
      const traffic = (ms: number) => {
        for (let t = 0; t < ms; t++) {
          controller.observeArrival(now);
          expectWithinBounds(controller.windowFor());
          if (t % 10 === 9) controller.observe(report(10, 10, [15], now));
          now += 1;
        }
      };
      traffic(200);
      const before = controller.windowFor();
      expect(before).toBeGreaterThan(settings.minWindowMs);
      now -= back;
      for (let i = 0; i < 5; i++) {
        expect(Number.isFinite(controller.rateAt(now))).toBe(true);
        expectWithinBounds(controller.windowFor());
        expectWithinBounds(controller.current);
      }
      traffic(200);
      expect(controller.rateAt(now)).toBeCloseTo(1, 0);
      expectWithinBounds(controller.current);
      // Recovered: the same window as before the step, not stuck at a bound or NaN.
      expect(controller.windowFor()).toBeCloseTo(before, 6);
    },
  );

  it('a report with a negative duration or latency (a step inside the batch) cannot turn the model negative or NaN', () => {
    const now = 0;
    const scheduler = { now: () => now, schedule: () => ({ unsubscribe() {} }) } as never;
    const controller = new AdaptiveWindow(scheduler, () => settings, 20);
    controller.observe(report(4, -3 * MINUTE, [-3 * MINUTE, Number.NaN], now));
    controller.observe(report(8, Number.NaN, [Infinity], now));
    controller.observe(report(2, Infinity, [5], now));
    const { a, b } = controller.model();
    for (const x of [a, b]) {
      expect(Number.isFinite(x)).toBe(true);
      expect(x).toBeGreaterThanOrEqual(0);
    }
    controller.observeArrival(now);
    controller.observeArrival(now);
    expectWithinBounds(controller.windowFor());
    expectWithinBounds(controller.current);
  });
});

describe('batchDedup({ adaptive: true }) across a step back of two minutes (marbles)', () => {
  it('keeps answering every request within the window bounds, with latencies >= 0 and finite stats', () => {
    const ts = testScheduler();
    const results: BatchResult<string, string>[] = [];
    const snapshots: BatchStats[] = [];
    let calls: { at: number; size: number }[] = [];
    ts.run(({ hot }) => {
      const clock = steppingClock(ts, 1_700_000_000_000);
      const stats = createBatchStats({ scheduler: clock.scheduler });
      const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: (n) => 2 + n / 4, compute: (q: string) => q.toUpperCase() });
      // A request every 2 ms for 400 ms; the clock steps back two minutes at 200 ms.
      const frames = Array.from({ length: 200 }, (_, i) => `${String.fromCharCode(97 + (i % 26))}`);
      const source = hot(frames.map((f) => `${f}-`).join(''));
      source
        .pipe(
          batchDedup({
            execute: backend.execute,
            adaptive: true,
            ...settings,
            maxWaitMs: 1000,
            windowMs: 10,
            stats,
            scheduler: clock.scheduler,
          }),
        )
        .subscribe((r) => {
          results.push(r);
          snapshots.push(stats.snapshot());
        });
      ts.schedule(() => clock.step(-2 * MINUTE), 200);
      ts.schedule(() => snapshots.push(stats.snapshot()), 600);
      ts.schedule(() => (calls = backend.calls.map((c) => ({ at: c.at, size: c.items.length }))), 600);
    });
    expect(results).toHaveLength(200);
    for (const r of results) {
      expect(r.status).toBe('fulfilled');
      expect(r.latencyMs).toBeGreaterThanOrEqual(0);
      // Within the widest window, a busy slot's batch and the backend's own time: never maxWaitMs.
      expect(r.latencyMs).toBeLessThanOrEqual(settings.maxWindowMs + 20);
    }
    for (const s of snapshots) {
      expect(s.currentWindowMs).toBeGreaterThanOrEqual(settings.minWindowMs);
      expect(s.currentWindowMs).toBeLessThanOrEqual(settings.maxWindowMs);
      for (const x of [s.requestsPerSecond, s.latencyMs.p50, s.latencyMs.p95, s.latencyMs.p99]) {
        expect(Number.isFinite(x)).toBe(true);
        expect(x).toBeGreaterThanOrEqual(0);
      }
    }
    // Batches keep forming after the step (not one per maxWaitMs), as large as before it: the window recovered
    // instead of being stuck at a bound.
    const start = 1_700_000_000_000;
    const meanSize = (from: number, to: number) => {
      const sizes = calls.filter((c) => c.at >= from && c.at < to).map((c) => c.size);
      return sizes.reduce((a, b) => a + b, 0) / sizes.length;
    };
    const before = meanSize(start + 100, start + 200);
    const after = meanSize(start - 2 * MINUTE + 300, start - 2 * MINUTE + 400);
    expect(before).toBeGreaterThan(1.5);
    expect(after).toBeGreaterThan(before / 2); // stuck at minWindowMs they would hold 1 or 2 requests
  });
});

describe('latencies and stats across a step back', () => {
  it('BatchResult.latencyMs is never negative when the clock steps back between arrival and result', () => {
    const ts = testScheduler();
    ts.run(({ hot, expectObservable }) => {
      const clock = steppingClock(ts, 10 * MINUTE);
      const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: (q: string) => q });
      ts.schedule(() => clock.step(-MINUTE), 3);
      const piped = hot('a-b', { a: 'a', b: 'b' }).pipe(
        batchDedup({ execute: backend.execute, windowMs: 4, scheduler: clock.scheduler }),
        map((r) => r.latencyMs),
      );
      // a arrived at 0 and b at 2 (before the step); both are answered at 9, one minute earlier by the clock.
      expectObservable(piped).toBe('---------(xy)', { x: 0, y: 0 });
    });
  });

  it('requestsPerSecond counts the time that passed, not the difference of two readings across a step', () => {
    const ts = testScheduler();
    let stats!: ReturnType<typeof createBatchStats>;
    ts.run(({ hot }) => {
      const clock = steppingClock(ts, 60 * MINUTE);
      stats = createBatchStats({ scheduler: clock.scheduler });
      const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 10, compute: (q: string) => q });
      // 20 requests over 400 ms, each answered 10 ms after its window of 10 ms; the clock steps back an hour at 200.
      const source = hot(Array.from({ length: 20 }, () => 'a-------------------').join(''));
      source.pipe(batchDedup({ execute: backend.execute, windowMs: 10, stats, scheduler: clock.scheduler })).subscribe();
      ts.schedule(() => clock.step(-60 * MINUTE), 200);
    });
    const { requestsPerSecond, completed } = stats.snapshot();
    expect(completed).toBe(20);
    // The true span is 380 + 20 ms: about 50 per second; the readings' difference would be negative.
    expect(requestsPerSecond).toBeGreaterThan(40);
    expect(requestsPerSecond).toBeLessThan(60);
  });

  it('createBatcher: a per-call timeout across a step back reports a latency >= 0', async () => {
    const clock = virtualClock();
    const stepping = steppingClock(clock.scheduler, 10 * MINUTE);
    const batcher = createBatcher<string, string>({
      execute: () => new Promise(() => {}),
      windowMs: 1,
      scheduler: stepping.scheduler,
    });
    const seen: BatchResult<string, string>[] = [];
    const streaming = (async () => {
      for await (const r of batcher.processStreaming(['a'], { timeoutMs: 10 })) seen.push(r);
    })();
    clock.advanceBy(5);
    stepping.step(-MINUTE);
    clock.advanceBy(10);
    await turn();
    await streaming;
    expect(seen).toHaveLength(1);
    expect(seen[0]!.status).toBe('rejected');
    expect(seen[0]!.latencyMs).toBe(0);
  });
});

describe('arrivalClock across a step of the wall clock (faked Date)', () => {
  const start = new Date('2024-01-01T00:00:00.000Z').getTime();
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([-1, -2 * MINUTE, -3 * 24 * 60 * MINUTE, 2 * MINUTE])('follows a step of %d ms after the next microtask', async (step) => {
    const clock = arrivalClock(asyncScheduler);
    expect(clock()).toBe(start);
    vi.setSystemTime(start + step);
    // Within the same synchronous burst the shared reading stands (a few microseconds stale at most)...
    expect(clock()).toBe(start);
    await Promise.resolve();
    // ...then it is the stepped clock's, not taken for a virtual clock, and read again every burst.
    expect(clock()).toBe(start + step);
    vi.setSystemTime(start + step + 5);
    await Promise.resolve();
    expect(clock()).toBe(start + step + 5);
  });
});
