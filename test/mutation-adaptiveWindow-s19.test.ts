/**
 * The adaptive window's option checks and its model (issue 17, stop 19, H-MUT5): survivors of the first Stryker run
 * with per-test coverage on src/internal/adaptiveWindow.ts.
 */
import type { SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { AdaptiveWindow } from '../src/internal/adaptiveWindow.js';
import type { BatchReport } from '../src/internal/feedback.js';
import { adaptiveWindow } from '../src/lite/index.js';

describe('adaptiveWindow() names an option it does not know', () => {
  it('refuses a name that only ends like one of its options (xtargetLatencyMs)', () => {
    expect(() => adaptiveWindow({ xtargetLatencyMs: 5 } as never)).toThrow(
      new TypeError('adaptiveWindow: unknown option xtargetLatencyMs; its options are targetLatencyMs, minWindowMs, maxWindowMs'),
    );
  });

  it('refuses a name that only starts like one of its options (maxWindowMsx)', () => {
    expect(() => adaptiveWindow({ maxWindowMsx: 5 } as never)).toThrow(
      new TypeError('adaptiveWindow: unknown option maxWindowMsx; its options are targetLatencyMs, minWindowMs, maxWindowMs'),
    );
  });

  it('takes each of its three options', () => {
    const feature = adaptiveWindow({ targetLatencyMs: 50, minWindowMs: 2, maxWindowMs: 40 });
    expect(feature.options).toEqual({ targetLatencyMs: 50, minWindowMs: 2, maxWindowMs: 40 });
  });
});

const settings = () => ({ targetLatencyMs: 100, minWindowMs: 0, maxWindowMs: 200 });
const clock = { now: () => 0 } as unknown as SchedulerLike;
function report(executedItems: number, durationMs: number, latenciesMs: number[] = []): BatchReport {
  return { size: executedItems, executedItems, durationMs, latenciesMs, settledAt: 0 };
}

describe('AdaptiveWindow: the duration fit', () => {
  it('fits no slope from batches of one size only: a = 0, b = their duration (rounding noise is no slope)', () => {
    // Four batches of 100 items taking 100 ms each: the fit's determinant is rounding noise (about 1.5e-5 here, not
    // 0); read as a slope it gives d(n) = 1 * n + 0.
    const w = new AdaptiveWindow(clock, settings, 50);
    for (let i = 0; i < 4; i++) w.observe(report(100, 100));
    const { a, b } = w.model();
    expect(a).toBe(0);
    expect(b).toBeCloseTo(100, 9);
  });

  it('fits the slope once two sizes have been seen (d(n) = 2n + 10)', () => {
    const w = new AdaptiveWindow(clock, settings, 50);
    w.observe(report(10, 30));
    w.observe(report(20, 50));
    const { a, b } = w.model();
    expect(a).toBeCloseTo(2, 9);
    expect(b).toBeCloseTo(10, 9);
  });
});

describe('AdaptiveWindow: batches seen starting', () => {
  it('when fewer batches run than it saw start, the oldest starts are the ones forgotten', () => {
    // Slots of a channel whose releases this controller does not hear (a hand-made feedback object).
    const slots = { concurrency: 4, outstanding: 0 };
    const w = new AdaptiveWindow(clock, settings, 200, slots);
    w.observe(report(10, 10)); // the model: 10 items take 10 ms
    const before = w.current;
    slots.outstanding = 2;
    expect(w.observeArrival(100)).toBe(false); // two batches seen starting at 100
    slots.outstanding = 1;
    expect(w.observeArrival(110)).toBe(false); // one finished: the one left started at 100, 10 ms ago (k = 1)
    // At 120 the batch started at 100 has run 20 ms, twice the 10 ms predicted: overdue, the window shrinks.
    expect(w.observeArrival(120)).toBe(true);
    expect(w.current).toBeLessThan(before);
  });

  it('without execution slots an arrival never reports an overdue batch', () => {
    const w = new AdaptiveWindow(clock, settings, 200);
    w.observe(report(10, 10));
    expect(w.observeArrival(100)).toBe(false);
    expect(w.observeArrival(10_000)).toBe(false);
  });
});

describe('AdaptiveWindow: what a report teaches the fit', () => {
  it('a report of no executed item (every request refused before execute) leaves the fit as it was', () => {
    const w = new AdaptiveWindow(clock, settings, 50);
    w.observe(report(10, 10));
    w.observe(report(0, 500));
    expect(w.model()).toEqual({ a: 0, b: 10 });
  });

  it('a batch taking exactly half its prediction rescales the fit at once (20 ms, then 10 ms for the same size: b = 10)', () => {
    const w = new AdaptiveWindow(clock, settings, 50);
    w.observe(report(10, 20));
    w.observe(report(10, 10));
    expect(w.model().a).toBe(0);
    expect(w.model().b).toBeCloseTo(10, 9);
  });

  it('a batch of 0 ms (its results given at once) is averaged in, not taken as infinitely faster (b = 14 / 1.7)', () => {
    const w = new AdaptiveWindow(clock, settings, 50);
    w.observe(report(10, 20));
    w.observe(report(10, 0));
    expect(w.model().b).toBeCloseTo(14 / 1.7, 9);
  });

  it('a batch taking a little more than half its prediction is only averaged in (20 ms, then 11 ms: b = 25 / 1.7)', () => {
    const w = new AdaptiveWindow(clock, settings, 50);
    w.observe(report(10, 20));
    w.observe(report(10, 11));
    expect(w.model().b).toBeCloseTo(25 / 1.7, 9);
  });
});

describe('AdaptiveWindow: the feedback step and the headroom', () => {
  it('grows by a twentieth of the span between minWindowMs and maxWindowMs (100 to 200: 5 ms a batch)', () => {
    const w = new AdaptiveWindow(clock, () => ({ targetLatencyMs: 1000, minWindowMs: 100, maxWindowMs: 200 }), 150);
    w.observe(report(10, 10, [1]));
    expect(w.current).toBe(155);
  });

  it('a p95 of exactly 90 % of the target is comfortably under it: the model may spend 84 % (bound 84 - 10 ms)', () => {
    // target 100, the fit d(n) = 10: the bound is headroom - 10, the window grows past it and is held there.
    const w = new AdaptiveWindow(clock, settings, 100);
    w.observe(report(10, 10, [90]));
    expect(w.current).toBe(74);
  });

  it('a p95 just above 90 % of the target is not: the model keeps 80 % (bound 80 - 10 ms)', () => {
    const w = new AdaptiveWindow(clock, settings, 100);
    w.observe(report(10, 10, [91]));
    expect(w.current).toBe(70);
  });
});

describe('AdaptiveWindow: every slot busy, the latency budget spent', () => {
  const s = () => ({ targetLatencyMs: 100, minWindowMs: 10, maxWindowMs: 200 });

  it('with the fixed cost above the budget (b = 100 > 80), the window stays at the floor the slots keep up with (15 ms), not at minWindowMs', () => {
    // Two slots, the other one busy: saturated. Budget 80 - 100 < 0: the latency bound is minWindowMs (10); the
    // keep-up bound b / 2 = 50, taken up to 1.5 times the latency bound: 15.
    const w = new AdaptiveWindow(clock, s, 100, { concurrency: 2, outstanding: 1 });
    w.observe(report(10, 100, [50]));
    expect(w.current).toBe(15);
  });

  it('with the fixed cost exactly at the budget (b = 80), the same: 15 ms', () => {
    const w = new AdaptiveWindow(clock, s, 100, { concurrency: 2, outstanding: 1 });
    w.observe(report(10, 80, [50]));
    expect(w.current).toBe(15);
  });
});

describe('AdaptiveWindow: an overdue batch only ever shrinks the window', () => {
  it('saturated, where the floor lies above the window, an overdue batch leaves the window as it is', () => {
    const slots = { concurrency: 2, outstanding: 0 };
    const w = new AdaptiveWindow(clock, settings, 100, slots);
    w.observe(report(10, 10, [500])); // over the target: halved to 50
    expect(w.current).toBe(50);
    slots.outstanding = 2;
    expect(w.observeArrival(100)).toBe(false);
    // 20 ms into batches predicted at 10: twice slower. The floor (the latency bound 80 - 20 = 60) is above 50.
    expect(w.observeArrival(120)).toBe(false);
    expect(w.current).toBe(50);
  });

  it('a batch less overdue than one seen before does not make the model faster again', () => {
    const slots = { concurrency: 4, outstanding: 1 };
    const w = new AdaptiveWindow(clock, settings, 200, slots);
    w.observe(report(10, 10)); // d(n) = 10
    w.observeArrival(0); // a batch started at 0
    slots.outstanding = 2;
    w.observeArrival(10); // another at 10
    w.observeArrival(30); // the first has run 30 ms: three times slower
    expect(w.model().b).toBeCloseTo(30, 9);
    slots.outstanding = 1; // the first finished, unheard: the one left started at 10, 25 ms ago
    w.observeArrival(35);
    expect(w.model().b).toBeCloseTo(30, 9);
  });
});

describe('AdaptiveWindow: more', () => {
  it('a window that expects exactly one more arrival (rate 0.01/ms, 100 ms) waits for it', () => {
    const w = new AdaptiveWindow(clock, () => ({ targetLatencyMs: 1000, minWindowMs: 0, maxWindowMs: 100 }), 100);
    w.observeArrival(0);
    expect(w.windowFor()).toBe(100);
  });

  it('a latency that is not a number counts as 0 (a report given by hand to a feedback channel): comfortably under', () => {
    const w = new AdaptiveWindow(clock, settings, 100);
    w.observe(report(10, 10, [Number.NaN]));
    expect(w.current).toBe(74); // the headroom raised to 84 %: the bound 84 - 10
  });

  it('a batch of no measured duration (0 ms) predicts nothing: no arrival makes it overdue', () => {
    const slots = { concurrency: 4, outstanding: 1 };
    const w = new AdaptiveWindow(clock, settings, 200, slots);
    w.observe(report(10, 0)); // d(n) = 0
    const before = w.current;
    expect(w.observeArrival(0)).toBe(false);
    expect(w.observeArrival(1000)).toBe(false);
    expect(w.model()).toEqual({ a: 0, b: 0 });
    expect(w.current).toBe(before);
  });

  it('before any report no arrival makes a batch overdue', () => {
    const slots = { concurrency: 4, outstanding: 1 };
    const w = new AdaptiveWindow(clock, settings, 200, slots);
    expect(w.observeArrival(0)).toBe(false);
    expect(w.observeArrival(1000)).toBe(false);
    expect(w.model()).toEqual({ a: 0, b: 0 });
  });
});
