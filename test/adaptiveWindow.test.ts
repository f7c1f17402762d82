import { describe, expect, it } from 'vitest';
import { AdaptiveWindow } from '../src/internal/adaptiveWindow.js';
import type { BatchReport } from '../src/internal/feedback.js';
import { batchDedup } from '../src/operators/batchDedup.js';
import { simulate, CONFIGURATIONS, TARGET_LATENCY_MS, arrivals } from '../bench/adaptive.bench.js';

function clockAt(start = 0) {
  let now = start;
  return {
    scheduler: { now: () => now, schedule: () => ({ unsubscribe() {} }) } as never,
    set: (t: number) => (now = t),
  };
}

const settings = { targetLatencyMs: 100, minWindowMs: 0, maxWindowMs: 200 };
const report = (n: number, durationMs: number, latenciesMs: number[], settledAt: number): BatchReport => ({
  size: n,
  executedItems: n,
  durationMs,
  latenciesMs,
  settledAt,
});

describe('AdaptiveWindow', () => {
  it('recovers d(n) = a * n + b from batch reports', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 20);
    for (const n of [4, 16, 9, 32, 1]) controller.observe(report(n, 20 + 0.5 * n, [10], 0));
    const { a, b } = controller.model();
    expect(a).toBeCloseTo(0.5, 9);
    expect(b).toBeCloseTo(20, 9);
  });

  it('bounds the window by the latency budget: (0.8 * target - b) / (1 + a * rate)', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 200);
    for (const n of [10, 20]) controller.observe(report(n, 20 + 0.5 * n, [10], 0));
    // 2 arrivals per ms, steadily: the decayed estimate converges to 2 per ms.
    for (let t = 0; t < 2000; t += 0.5) controller.observeArrival(t);
    clock.set(1999.5);
    const rate = controller.rateAt(1999.5);
    expect(rate).toBeCloseTo(2, 1);
    expect(controller.windowFor()).toBeCloseTo((0.8 * 100 - 20) / (1 + 0.5 * rate), 6);
  });

  it('halves the window when the observed p95 exceeds the target', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 40);
    controller.observe(report(1, 30, [300], 0));
    expect(controller.current).toBe(20);
    controller.observe(report(1, 30, [300], 0));
    expect(controller.current).toBe(10);
  });

  it('grows the window by a step while the p95 is within the target', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 10);
    controller.observe(report(1, 20, [30], 0));
    expect(controller.current).toBe(10 + 200 / 20);
  });

  it('never leaves [minWindowMs, maxWindowMs]', () => {
    const clock = clockAt();
    const bounded = { targetLatencyMs: 100, minWindowMs: 5, maxWindowMs: 12 };
    const controller = new AdaptiveWindow(clock.scheduler, () => bounded, 50);
    expect(controller.current).toBe(12);
    for (let i = 0; i < 10; i++) controller.observe(report(1, 150, [500], 0));
    expect(controller.current).toBe(5);
  });

  it('applies a live change of the bounds at once, to windowFor() and current', () => {
    const clock = clockAt();
    let bounds = { targetLatencyMs: 1000, minWindowMs: 0, maxWindowMs: 200 };
    const controller = new AdaptiveWindow(clock.scheduler, () => bounds, 150);
    for (let t = 0; t < 100; t++) controller.observeArrival(t);
    clock.set(99);
    expect(controller.windowFor()).toBe(150);
    bounds = { targetLatencyMs: 1000, minWindowMs: 0, maxWindowMs: 40 };
    expect(controller.windowFor()).toBe(40);
    expect(controller.current).toBe(40);
    bounds = { targetLatencyMs: 1000, minWindowMs: 160, maxWindowMs: 300 };
    expect(controller.windowFor()).toBe(160);
    expect(controller.current).toBe(160);
  });

  it('fits no duration that is not a number (NaN, Infinity), and counts a negative one as 0', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 20);
    for (const n of [4, 16]) controller.observe(report(n, 20 + 0.5 * n, [10], 0));
    const fitted = controller.model();
    controller.observe(report(8, Number.NaN, [10], 0));
    controller.observe(report(8, Infinity, [10], 0));
    expect(controller.model()).toEqual(fitted);
    // A duration measured across a step back of the clock fits as 0 ms, the least a batch can have taken.
    const stepped = new AdaptiveWindow(clock.scheduler, () => settings, 20);
    const zero = new AdaptiveWindow(clock.scheduler, () => settings, 20);
    for (const c of [stepped, zero]) for (const n of [4, 8]) c.observe(report(n, 30, [10], 0));
    stepped.observe(report(8, -60_000, [10], 0));
    zero.observe(report(8, 0, [10], 0));
    expect(stepped.model().b).toBeGreaterThan(0);
    expect(stepped.model()).toEqual(zero.model());
  });

  it('gives a lone request minWindowMs', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => ({ ...settings, minWindowMs: 2 }), 50);
    controller.observeArrival(0);
    expect(controller.windowFor()).toBe(2);
  });
});

describe('adaptive option validation', () => {
  const execute = (items: unknown[]) => items;
  it('rejects minWindowMs above maxWindowMs and a non-positive target, naming them', () => {
    expect(() => batchDedup({ execute, adaptive: true, minWindowMs: 50, maxWindowMs: 10 })).toThrow(/minWindowMs \(50\) must not exceed maxWindowMs \(10\)/);
    expect(() => batchDedup({ execute, adaptive: true, targetLatencyMs: 0 })).toThrow(/targetLatencyMs must be >= 1/);
    expect(() => batchDedup({ execute, adaptive: 'yes' as never })).toThrow(/adaptive must be true or false/);
  });
});

describe('adaptive window on the stepped-load simulation (virtual time, bench/adaptive.bench.ts)', () => {
  const times = arrivals();
  const adaptive = simulate({ adaptive: true }, times);
  const fixed = CONFIGURATIONS.filter((c) => c.label !== 'adaptive').map((c) => simulate(c.window, times));

  it('holds the p95 target in every phase', () => {
    for (const phase of adaptive) expect(phase.p95Ms).toBeLessThanOrEqual(TARGET_LATENCY_MS);
  });

  it('matches the best fixed window throughput in the heavy phase (within 2 %)', () => {
    const best = Math.max(...fixed.map((f) => f[1]!.throughputPerSecond));
    expect(adaptive[1]!.throughputPerSecond).toBeGreaterThanOrEqual(0.98 * best);
  });

  it('sends fewer backend calls than the smallest fixed window in every phase', () => {
    adaptive.forEach((phase, p) => expect(phase.backendCalls).toBeLessThan(fixed[0]![p]!.backendCalls));
  });
});
