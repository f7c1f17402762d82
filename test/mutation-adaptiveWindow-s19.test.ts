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
function report(executedItems: number, durationMs: number, settledAt = 0): BatchReport {
  return { size: executedItems, executedItems, durationMs, latenciesMs: [], settledAt };
}

describe('AdaptiveWindow: the duration fit', () => {
  it('fits no slope from batches of one size only: a = 0, b = their duration (rounding noise is no slope)', () => {
    // Four batches of 100 items taking 100 ms each: the fit's determinant is rounding noise (about 1.5e-5 here, not
    // 0); read as a slope it gives d(n) = 1 * n + 0.
    const w = new AdaptiveWindow(clock, settings, 50);
    for (let i = 0; i < 4; i++) w.observe(report(100, 100, i));
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
