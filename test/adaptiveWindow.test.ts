import { describe, expect, it } from 'vitest';
import { AdaptiveWindow } from '../src/internal/adaptiveWindow.js';
import type { BatchReport } from '../src/internal/feedback.js';
import { batchDedup } from '../src/operators/batchDedup.js';
import { simulate, CONFIGURATIONS, TARGET_LATENCY_MS, arrivals, runScenario, slowdownVerdicts, slowdownOutcomes, recoveryMs, SLOWDOWN, SLOWDOWN_SEEDS } from '../bench/adaptive.bench.js';

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
    // p95 95: within the 100 ms target but not comfortably under it (90), so the share stays 0.8.
    for (const n of [10, 20]) controller.observe(report(n, 20 + 0.5 * n, [95], 0));
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

  it('raises the share of the target the model spends by 0.04 per batch comfortably under it, up to 0.87', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 200);
    for (let t = 0; t < 100; t++) controller.observeArrival(t);
    clock.set(99);
    // One batch size, 20 ms: the bound is share * 100 - 20. p95 30 is comfortably under (<= 90).
    controller.observe(report(10, 20, [30], 99));
    expect(controller.windowFor()).toBeCloseTo(84 - 20, 9);
    for (let i = 0; i < 10; i++) controller.observe(report(10, 20, [30], 99));
    expect(controller.windowFor()).toBeCloseTo(87 - 20, 9);
  });

  it('keeps the share while p95 is within the target but not comfortably under it (over 0.9 * target)', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 200);
    for (let t = 0; t < 100; t++) controller.observe(report(10, 20, [91], 0));
    expect(controller.current).toBeCloseTo(80 - 20, 9);
  });

  it('takes the share back to 0.8 after a batch whose p95 is over the target', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 200);
    for (let i = 0; i < 5; i++) controller.observe(report(10, 20, [30], 0));
    expect(controller.current).toBeCloseTo(87 - 20, 9);
    // 20 latencies over the target among 260: p95 over it. The window is halved from the bound at 0.87 ...
    controller.observe(report(10, 20, Array.from({ length: 20 }, () => 150), 0));
    expect(controller.current).toBeCloseTo((87 - 20) / 2, 9);
    // ... and, once p95 is back within the target (not comfortably), it grows again only as far as 0.8 allows.
    for (let i = 0; i < 30; i++) controller.observe(report(10, 20, Array.from({ length: 20 }, () => 95), 0));
    expect(controller.current).toBeCloseTo(80 - 20, 9);
  });

  it('does not raise the share while every slot is busy (the queueing the model does not see is there)', () => {
    const clock = clockAt();
    const slots = { concurrency: 2, outstanding: 1 };
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 200, slots);
    for (let i = 0; i < 5; i++) controller.observe(report(10, 20, [30], 0));
    expect(controller.current).toBeCloseTo(80 - 20, 9);
  });

  it('rescales the model by a batch that took under half its prediction, and by no slower or zero one', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 20);
    for (const n of [4, 16, 9, 32]) controller.observe(report(n, 20 + 0.5 * n, [95], 0));
    // A third of the 30 ms predicted for 20 items: a and b both a third, then the fit takes the batch itself.
    controller.observe(report(20, 10, [95], 0));
    expect(controller.model().a).toBeCloseTo(0.5 / 3, 9);
    expect(controller.model().b).toBeCloseTo(20 / 3, 9);
    const slower = new AdaptiveWindow(clock.scheduler, () => settings, 20);
    const forgetting = new AdaptiveWindow(clock.scheduler, () => settings, 20);
    for (const c of [slower, forgetting]) for (const n of [4, 16, 9, 32]) c.observe(report(n, 20 + 0.5 * n, [95], 0));
    // Three times slower is left to the fit's forgetting: b rises by a share, not to three times.
    slower.observe(report(20, 90, [95], 0));
    expect(slower.model().b).toBeLessThan(40);
    // A 0 ms batch (measured across a clock step back) rescales nothing: the model stays above 0.
    forgetting.observe(report(20, 0, [95], 0));
    expect(forgetting.model().b).toBeGreaterThan(0);
  });

  it('takes a batch running 1.5 times past its prediction as a slower backend until the next report', () => {
    const clock = clockAt();
    const slots = { concurrency: 4, outstanding: 0 };
    const controller = new AdaptiveWindow(clock.scheduler, () => settings, 200, slots);
    controller.observe(report(10, 20, [95], 0)); // d = 20 ms for 10 items; share 0.8: window 60
    slots.outstanding = 1;
    expect(controller.observeArrival(0)).toBe(false); // a batch seen starting at 0
    expect(controller.observeArrival(30)).toBe(false); // 1.5 times the 20 ms predicted: not past it
    expect(controller.observeArrival(40)).toBe(true); // twice: the model is 40 ms, the window 80 - 40
    expect(controller.current).toBeCloseTo(40, 9);
    expect(controller.model().b).toBeCloseTo(40, 9);
    slots.outstanding = 0;
    controller.observe(report(10, 20, [95], 40)); // it reported after all: the fit alone again
    expect(controller.model().b).toBeCloseTo(20, 9);
  });

  it('sees no batch overdue when the model predicts 0 ms, or the clock stepped back', () => {
    const clock = clockAt();
    const slots = { concurrency: 4, outstanding: 0 };
    const zero = new AdaptiveWindow(clock.scheduler, () => settings, 200, slots);
    zero.observe(report(10, 0, [95], 0));
    slots.outstanding = 1;
    zero.observeArrival(100);
    expect(zero.observeArrival(10_000)).toBe(false);
    expect(Number.isFinite(zero.current)).toBe(true);
    const stepped = new AdaptiveWindow(clock.scheduler, () => settings, 200, { concurrency: 4, outstanding: 1 });
    stepped.observe(report(10, 20, [95], 0));
    stepped.observeArrival(1_000_000);
    expect(stepped.observeArrival(0)).toBe(false);
  });

  it('gives a lone request minWindowMs', () => {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => ({ ...settings, minWindowMs: 2 }), 50);
    controller.observeArrival(0);
    expect(controller.windowFor()).toBe(2);
  });
});

describe('AdaptiveWindow under saturation (two slots or more, all busy)', () => {
  /** A controller fitted to d(n) = 0.5 n + 20 with a steady 1 arrival per ms, its window at `window`. */
  function fitted(slots: { concurrency: number; outstanding: number }, window = 100, target = 150) {
    const clock = clockAt();
    const controller = new AdaptiveWindow(clock.scheduler, () => ({ targetLatencyMs: target, minWindowMs: 0, maxWindowMs: 200 }), window, slots);
    for (let t = 0; t < 2000; t++) controller.observeArrival(t);
    clock.set(1999);
    // Two batch sizes, within the target (not comfortably: the share stays 0.8) and with the others not all busy:
    // the fit, no floor yet.
    const busy = slots.outstanding;
    slots.outstanding = 0;
    for (const n of [10, 30, 10, 30]) controller.observe(report(n, 20 + 0.5 * n, [0.95 * target], 1999));
    slots.outstanding = busy;
    const rate = controller.rateAt(1999);
    const latencyBound = (0.8 * target - 20) / (1 + 0.5 * rate);
    return { controller, clock, rate, latencyBound };
  }

  it('keeps the window at the latency bound when a p95 over target would halve it', () => {
    // The other slot is still busy when this one reports: saturated. 0.5 * rate (about 0.5) < 2 slots, so the
    // keep-up bound 20 / (2 - 0.5 * rate), about 13, is under the latency bound, about 67: the floor is the latter.
    const { controller, latencyBound } = fitted({ concurrency: 2, outstanding: 1 });
    controller.observe(report(20, 30, [500], 1999));
    expect(controller.current).toBeCloseTo(latencyBound, 6);
  });

  it('halves the window on a p95 over target when a slot is free', () => {
    const { controller, latencyBound } = fitted({ concurrency: 2, outstanding: 0 });
    const before = controller.current;
    controller.observe(report(20, 30, [500], 1999));
    expect(controller.current).toBeCloseTo(Math.min(before, latencyBound) / 2, 6);
  });

  it('sets no floor with a single slot (a batch waiting for it keeps growing)', () => {
    const { controller, latencyBound } = fitted({ concurrency: 1, outstanding: 0 });
    controller.observe(report(20, 30, [500], 1999));
    expect(controller.current).toBeLessThan(latencyBound);
  });

  it('lifts the window to what the slots keep up with, b / (c - a * rate), above the latency bound', () => {
    // A costly call (d(n) = 0.5 n + 100) against a 200 ms target, 0.5 arrivals per ms: latency bound
    // (160 - 100) / (1 + 0.25) = 48; keep-up bound 100 / (2 - 0.25), about 57, under 1.5 * 48 = 72: the floor.
    const clock = clockAt();
    const slots = { concurrency: 2, outstanding: 0 };
    const controller = new AdaptiveWindow(clock.scheduler, () => ({ targetLatencyMs: 200, minWindowMs: 0, maxWindowMs: 200 }), 10, slots);
    for (let t = 0; t < 2000; t += 2) controller.observeArrival(t);
    clock.set(1998);
    for (const n of [10, 30, 10, 30]) controller.observe(report(n, 100 + 0.5 * n, [10], 1998));
    const rate = controller.rateAt(1998);
    const latencyBound = (0.8 * 200 - 100) / (1 + 0.5 * rate);
    const keepUp = 100 / (2 - 0.5 * rate);
    expect(keepUp).toBeGreaterThan(latencyBound);
    expect(keepUp).toBeLessThan(1.5 * latencyBound);
    slots.outstanding = 1;
    controller.observe(report(20, 110, [500], 1998));
    expect(controller.current).toBeCloseTo(keepUp, 6);
  });

  it('lets the keep-up bound take the window no further than 1.5 times the latency bound', () => {
    // 3.9 arrivals per ms at 0.5 ms per item: a * r = 1.95, near the 2 slots, so the keep-up bound is about
    // 20 / 0.05 = 400; the latency bound is (120 - 20) / 2.95, about 34, and the window 1.5 times that.
    const clock = clockAt();
    const slots = { concurrency: 2, outstanding: 0 };
    const controller = new AdaptiveWindow(clock.scheduler, () => ({ targetLatencyMs: 150, minWindowMs: 0, maxWindowMs: 200 }), 10, slots);
    for (let t = 0; t < 2000; t += 1 / 3.9) controller.observeArrival(t);
    clock.set(2000);
    for (const n of [10, 30, 10, 30]) controller.observe(report(n, 20 + 0.5 * n, [10], 2000));
    const rate = controller.rateAt(2000);
    const latencyBound = (0.8 * 150 - 20) / (1 + 0.5 * rate);
    expect(20 / (2 - 0.5 * rate)).toBeGreaterThan(1.5 * latencyBound);
    slots.outstanding = 1;
    controller.observe(report(20, 30, [500], 2000));
    expect(controller.current).toBeCloseTo(1.5 * latencyBound, 6);
  });

  it('takes 1.5 times the latency bound when the slots cannot keep up at any window (a * rate >= c)', () => {
    // 5 arrivals per ms at 0.5 ms per item need 2.5 slots' worth of backend time: no window keeps up, and the
    // largest batches the floor allows are the best there is.
    const clock = clockAt();
    const slots = { concurrency: 2, outstanding: 0 };
    const controller = new AdaptiveWindow(clock.scheduler, () => ({ targetLatencyMs: 150, minWindowMs: 0, maxWindowMs: 200 }), 10, slots);
    for (let t = 0; t < 2000; t += 0.2) controller.observeArrival(t);
    clock.set(2000);
    for (const n of [10, 30, 10, 30]) controller.observe(report(n, 20 + 0.5 * n, [10], 2000));
    const rate = controller.rateAt(2000);
    expect(0.5 * rate).toBeGreaterThan(2);
    slots.outstanding = 1;
    controller.observe(report(20, 30, [500], 2000));
    expect(controller.current).toBeCloseTo((1.5 * (0.8 * 150 - 20)) / (1 + 0.5 * rate), 6);
  });

  it('gives a window opening while every slot is busy at least the floor, and one opening with a slot free less', () => {
    const slots = { concurrency: 2, outstanding: 0 };
    const { controller, latencyBound } = fitted(slots);
    // Cut by two reports over target while a slot was free: well under the latency bound.
    controller.observe(report(20, 30, [500], 1999));
    controller.observe(report(20, 30, [500], 1999));
    expect(controller.windowFor()).toBeLessThan(latencyBound / 2);
    slots.outstanding = 2;
    expect(controller.windowFor()).toBeCloseTo(latencyBound, 6);
  });
});

describe('adaptive window in the slowdown scenario (virtual time, bench/adaptive.bench.ts)', () => {
  const { verdicts, adaptive } = slowdownVerdicts();

  it('holds the target while the backend is three times slower, where fixed windows of 40 and 50 ms do', () => {
    expect(verdicts[1]!.cheapest).toBeDefined();
    expect(verdicts[1]!.holds).toBe(true);
  });

  it('sends at most 1.2x the calls of the cheapest fixed window that holds the target in the slow phase', () => {
    expect(verdicts[1]!.callRatio).toBeLessThanOrEqual(1.2);
  });

  it('meets the target again within a second of the backend speeding up', () => {
    expect(recoveryMs(adaptive, SLOWDOWN)).toBeLessThanOrEqual(1000);
  });

  it('sends no tiny batches while saturated (before the floor, the window fell to 0 and batches of 1 or 2 alternated with big ones)', () => {
    const steady = adaptive.calls.filter((c) => c.at >= 4500 && c.at < 7000);
    expect(steady.length).toBeGreaterThan(20);
    for (const call of steady) expect(call.n).toBeGreaterThanOrEqual(5);
  });

  it('holds the target before and after the slowdown', () => {
    expect(verdicts[0]!.holds).toBe(true);
    expect(verdicts[2]!.holds).toBe(true);
  });

  it('sends at most 1.2x the calls of the cheapest fixed window that holds the target before and after the slowdown', () => {
    expect(verdicts[0]!.callRatio).toBeLessThanOrEqual(1.2);
    expect(verdicts[2]!.callRatio).toBeLessThanOrEqual(1.2);
  });

  it("on every bench seed: at most 1.2x the calls of the cheapest holding fixed window in every phase, and recovery within a second", () => {
    const outcomes = slowdownOutcomes();
    expect(outcomes.map((o) => o.seed)).toEqual(SLOWDOWN_SEEDS);
    for (const outcome of outcomes) {
      for (const v of outcome.verdicts) if (v.cheapest) expect(v.callRatio, `seed ${outcome.seed}, ${v.phase}`).toBeLessThanOrEqual(1.2);
      expect(outcome.recoveryMs, `seed ${outcome.seed}`).toBeLessThanOrEqual(1000);
    }
  });

  it('runs the same scenario to the same figures (virtual time)', () => {
    expect(runScenario(SLOWDOWN, { adaptive: true }).phases).toEqual(adaptive.phases);
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
