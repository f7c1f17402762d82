import type { SchedulerLike } from 'rxjs';
import { SampleWindow } from '../stats/percentiles.js';
import { elapsed } from '../base/clock.js';
import type { BatchReport } from './feedback.js';
import * as check from '../base/validate.js';

/** Options of the adaptive window, shared by `adaptiveBuffer` and `batchDedup({ adaptive: true })`. */
export interface AdaptiveOptions {
  /** The p95 latency (enqueue to result) to stay at or under, in ms. Default 100. */
  targetLatencyMs?: number;
  /** The window never shrinks below this, in ms. Default 0. */
  minWindowMs?: number;
  /** The window never grows above this, in ms. Default 200. */
  maxWindowMs?: number;
}

export interface AdaptiveSettings {
  readonly targetLatencyMs: number;
  readonly minWindowMs: number;
  readonly maxWindowMs: number;
}

export function resolveAdaptiveSettings(where: string, options: AdaptiveOptions): AdaptiveSettings {
  const targetLatencyMs = check.duration(where, 'targetLatencyMs', options.targetLatencyMs ?? 100, 1);
  const minWindowMs = check.duration(where, 'minWindowMs', options.minWindowMs ?? 0);
  const maxWindowMs = check.duration(where, 'maxWindowMs', options.maxWindowMs ?? Math.max(200, minWindowMs));
  if (minWindowMs > maxWindowMs) {
    check.fail(where, `minWindowMs (${minWindowMs}) must not exceed maxWindowMs (${maxWindowMs})`, RangeError);
  }
  return { targetLatencyMs, minWindowMs, maxWindowMs };
}

/**
 * The adaptive window as an opt-in feature: the value of `adaptive` (`adaptive: adaptiveWindow({ targetLatencyMs:
 * 200 })`). It carries the controller's code, so an app that does not import it does not bundle it. The main entry
 * point turns `adaptive: true` into one; `rxjs-batch-dedup/lite` takes only this form.
 */
export interface AdaptiveWindowFeature {
  /** @internal Names the factory that made it (the option's value is checked by it). */
  readonly feature: 'adaptiveWindow';
  /** @internal The settings given to the factory: the starting values of the flat, live options (`targetLatencyMs`, ...). */
  readonly options: AdaptiveOptions;
  /** @internal The controller of one pipeline. */
  create(scheduler: SchedulerLike, settings: () => AdaptiveSettings, initialWindowMs: number, slots: ExecutionSlots): AdaptiveWindow;
}

/**
 * The adaptive window, for the `adaptive` option of `batchDedup` and `createBatcher`: the window moves within
 * [minWindowMs, maxWindowMs] to hold `targetLatencyMs` (see docs/adaptive.md). The settings given here are where
 * the pipeline starts: `configure({ targetLatencyMs })` and the like still change them live.
 *
 * ```ts
 * createBatcher({ execute, adaptive: adaptiveWindow({ targetLatencyMs: 200, minWindowMs: 5 }) });
 * ```
 *
 * @throws TypeError or RangeError naming `adaptiveWindow` and the option, when an option is invalid or unknown
 */
export function adaptiveWindow(options: AdaptiveOptions = {}): AdaptiveWindowFeature {
  const where = 'adaptiveWindow';
  const o = { ...check.optionsObject(where, options) };
  for (const name in o) {
    if (!/^(targetLatency|minWindow|maxWindow)Ms$/.test(name)) {
      check.fail(where, `unknown option ${name}; its options are targetLatencyMs, minWindowMs, maxWindowMs`, TypeError);
    }
  }
  resolveAdaptiveSettings(where, o);
  return {
    feature: where,
    options: o,
    create: (scheduler, settings, initialWindowMs, slots) => new AdaptiveWindow(scheduler, settings, initialWindowMs, slots),
  };
}

/** The default `maxWaitMs` under an adaptive window: room for the widest window it may choose. */
export function adaptiveMaxWaitMs(settings: AdaptiveSettings): number {
  return Math.max(settings.maxWindowMs, 100);
}

/** What the controller reads of the feedback channel: how many batches may run at once, and how many do. */
export interface ExecutionSlots {
  readonly concurrency: number;
  readonly outstanding: number;
}

/** The model aims at this share of the target (in percent), leaving room for queueing it does not see. */
const HEADROOM = 80;
/** How far the feedback may raise the model's share of the target (percent), while unsaturated and comfortably under it. */
const HEADROOM_MAX = 87;
/** A p95 at or under this share of the target (percent) is comfortably under it: the share grows. */
const COMFORT = 90;
/** What each batch comfortably under the target adds to the share, in points of percent. */
const HEADROOM_STEP = 4;
/** On a p95 above target the window is cut to this share (multiplicative decrease). */
const DECREASE = 0.5;
/** While saturated, the keep-up bound may take the window this far past the latency bound (see `floor`). */
const SATURATED_STRETCH = 1.5;
/** A batch this many times faster than the model predicts rescales the model at once (the backend sped up). */
const SPEED_UP = 2;
/** A batch running this many times longer than predicted is overdue (see `overdue`). */
const OVERDUE = 1.5;
/** Older batches weigh this much less per new batch in the duration fit. */
const FORGET = 0.7;
/** Time constant of the arrival-rate estimate, in ms. */
const RATE_TAU_MS = 100;
/** How many recent latencies the p95 is taken over. */
const LATENCY_SAMPLES = 256;

/**
 * The controller behind the adaptive window. It combines a model and a feedback loop:
 *
 * - Model (BentoML): the backend's batch duration is fitted online as `d(n) = a * n + b` (least squares with
 *   forgetting) and the arrival rate `r` is estimated with an exponential decay. A window `w` collects about
 *   `r * w` requests, so the first of them waits `w + d(r * w)`. The largest window within the latency budget is
 *   `w = (h * target - b) / (1 + a * r)`: batches as full as the target allows, `h` the share of the target the
 *   model spends (`HEADROOM`, 80 %, for the queueing it does not see).
 * - Feedback (Clipper's AIMD): after every batch, if the observed p95 exceeds the target the window is halved,
 *   otherwise it grows by a fixed step, never past the model's bound. The feedback catches what the model cannot
 *   see: queueing for busy slots, a backend slower than its fit, bursts. It steers `h` as well: up to 87 % while
 *   p95 is comfortably under the target with a slot free, back to 80 % when over it or saturated.
 * - Speed changes: a batch twice as fast as predicted rescales the model at once (`speedUp`); a batch running
 *   1.5 times past its prediction takes the model as that much slower before it reports (`overdue`). Whenever
 *   the window shrinks so, the collector brings the end of the window open now in (`current`, its `replanMs`).
 * - Saturated (two execution slots or more, all busy): the model bounds the window from below too (`floor`), at the latency
 *   bound and, up to 1.5 times that, the window the slots keep up with. There the feedback would otherwise halve
 *   the window down to `minWindowMs`, and tiny batches, each paying the backend's fixed cost, make latency worse.
 * - A lone request does not wait: when fewer than one more arrival is expected within the window, the window
 *   opening now gets `minWindowMs`, because waiting could not fill the batch.
 *
 * Everything is computed from scheduler time and batch reports, so it is deterministic under `TestScheduler`.
 * The clock may step (a wall clock corrected back or forward): a step back reads as no time passed, reports are
 * taken as durations >= 0, and every estimate stays finite, the window always within [minWindowMs, maxWindowMs].
 */
export class AdaptiveWindow {
  private window: number;
  private readonly latencies = new SampleWindow(LATENCY_SAMPLES);
  // Weighted sums for the least-squares fit of duration against executed items.
  private sw = 0;
  private sn = 0;
  private sd = 0;
  private snn = 0;
  private snd = 0;
  private rate = 0;
  private readonly starts: number[] = [];
  private lastSize = 0;
  /** How much slower than the fit the backend shows itself by an overdue batch (1: not). */
  private slower = 1;
  /** The share of the target the model spends: HEADROOM, raised by the feedback while p95 is comfortably under. */
  private headroom = HEADROOM;
  /** Read only with `rate` above 0, set by an arrival (before any, `rate` is 0 and so is the estimate). */
  private lastArrival = 0;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly settings: () => AdaptiveSettings,
    initialWindowMs: number,
    /** The execution slots (the pipeline's feedback channel), read to tell a saturated backend; none: never saturated. */
    private readonly slots?: ExecutionSlots,
  ) {
    const s = settings();
    this.window = within(initialWindowMs, s);
  }

  /** The window the controller holds now (what `currentWindowMs` reports), within the current settings. */
  get current(): number {
    return within(this.window, this.settings());
  }

  /**
   * Estimated arrivals per ms at `now`. A reading before the last arrival (the clock stepped back) decays nothing:
   * as a negative time it would grow the estimate exponentially, to Infinity after about 71 s. Before the first
   * arrival the rate is 0, and so is the estimate.
   */
  rateAt(now: number): number {
    return this.rate * Math.exp(-elapsed(this.lastArrival, now) / RATE_TAU_MS);
  }

  /** The model in effect: the fit, times how much slower an overdue batch shows the backend to be now (1: not). */
  model(): { a: number; b: number } {
    const { a, b } = this.fitted();
    return { a: a * this.slower, b: b * this.slower };
  }

  /**
   * The fitted `d(n) = a * n + b`, both >= 0; `a` is 0 until two batch sizes have been seen. Before any batch
   * (every sum 0) `det` is 0 and `b` is 0 / 0, NaN: both come out 0.
   */
  private fitted(): { a: number; b: number } {
    const det = this.sw * this.snn - this.sn * this.sn;
    const a = nonNegative(det > 1e-9 * this.sw * this.snn ? (this.sw * this.snd - this.sn * this.sd) / det : 0);
    const b = nonNegative((this.sd - a * this.sn) / this.sw);
    return { a, b };
  }

  /** @return true when the window shrank: a batch has been running well past what the model predicts */
  observeArrival(now: number): boolean {
    this.rate = this.rateAt(now) + 1 / RATE_TAU_MS;
    this.lastArrival = now;
    return this.slots !== undefined && this.overdue(now, this.slots);
  }

  /**
   * Batches seen starting (the slots' `outstanding` rising, read at arrivals), oldest first. A batch running
   * `OVERDUE` times longer than the model predicts for the latest batch size is evidence the backend slowed down
   * before any report says so: the model is taken as that much slower until the next report, and the window
   * shrinks to what that model allows (the collector then brings the open window's end in).
   */
  private overdue(now: number, slots: ExecutionSlots): boolean {
    const starts = this.starts;
    if (starts.length > slots.outstanding) starts.splice(0, starts.length - slots.outstanding);
    while (starts.length < slots.outstanding) starts.push(now);
    if (starts.length === 0) return false;
    const { a, b } = this.fitted();
    // With no batch fitted yet (lastSize 0, the fit 0) the prediction is 0: k is Infinity or NaN, never overdue.
    const k = elapsed(starts[0]!, now) / (a * this.lastSize + b);
    if (!(k > OVERDUE && k > this.slower && k < Infinity)) return false;
    this.slower = k;
    const s = this.settings();
    const w = within(this.held(this.window, this.rateAt(now), s, 0), s);
    // Only ever shrinks: saturated, the floor may lie above the window.
    const shrinks = w < this.window;
    if (shrinks) this.window = w;
    return shrinks;
  }

  /** The window for a window opening now. */
  windowFor(): number {
    const s = this.settings();
    const now = this.scheduler.now();
    const rate = this.rateAt(now);
    const w = this.held(this.window, rate, s, 0);
    return rate * w < 1 ? s.minWindowMs : within(w, s);
  }

  observe(report: BatchReport): void {
    const n = report.executedItems;
    this.starts.shift();
    this.slower = 1;
    // A duration that is not a number cannot be fitted; one measured across a step back is no time.
    if (n > 0 && Number.isFinite(report.durationMs)) {
      const d = nonNegative(report.durationMs);
      this.lastSize = n;
      this.speedUp(n, d);
      this.sw = this.sw * FORGET + 1;
      this.sn = this.sn * FORGET + n;
      this.sd = this.sd * FORGET + d;
      this.snn = this.snn * FORGET + n * n;
      this.snd = this.snd * FORGET + n * d;
    }
    for (const latency of report.latenciesMs) this.latencies.add(latency > 0 ? latency : 0);
    const s = this.settings();
    const [p95] = this.latencies.percentiles([95] as const);
    const step = Math.max(1, (s.maxWindowMs - s.minWindowMs) / 20);
    const over = p95 > s.targetLatencyMs;
    const next = over ? this.window * DECREASE : this.window + step;
    // The slot of this batch is free again already: every slot was busy if all the others still are.
    const saturated = this.saturated(1);
    if (over || saturated) this.headroom = HEADROOM;
    else if (p95 * 100 <= COMFORT * s.targetLatencyMs) this.headroom = Math.min(HEADROOM_MAX, this.headroom + HEADROOM_STEP);
    this.window = within(this.held(next, this.rateAt(report.settledAt), s, 1), s);
  }

  /** `w` held at the model's bound and, while every slot is busy (counting `freed` as busy), lifted to the floor. */
  private held(w: number, rate: number, s: AdaptiveSettings, freed: number): number {
    w = Math.min(w, this.bound(rate, s));
    return this.saturated(freed) ? Math.max(w, this.floor(rate, s)) : w;
  }

  /**
   * A batch that took under half what the model predicts for its size: the backend sped up. The fit is scaled by
   * the observed ratio (`a` and `b` both, as if every batch it remembers had been that much faster), so the next
   * windows widen at once instead of as the old speed is forgotten over several batches. Only this way: a slower
   * batch is left to the forgetting and the p95 feedback, as rescaling up on one slow batch cut the window
   * harder than the queueing it then found warranted (the slowdown bench held the target on fewer seeds).
   */
  private speedUp(n: number, d: number): void {
    const { a, b } = this.fitted();
    const predicted = a * n + b;
    // (A prediction of 0 is no faster than any d > 0.)
    if (!(d > 0) || d * SPEED_UP > predicted) return;
    const k = d / predicted;
    this.sd *= k;
    this.snd *= k;
  }

  /**
   * Whether every execution slot is busy, counting `freed` slots given back just now as busy. Only with two slots
   * or more: with one, a batch formed while it is busy waits for it and keeps growing meanwhile, so a short
   * window makes no tiny batches there; with several, a slot that frees takes whatever is due, however little.
   */
  private saturated(freed: number): boolean {
    const slots = this.slots;
    return slots !== undefined && slots.concurrency >= 2 && slots.outstanding + freed >= slots.concurrency;
  }

  /** The largest window the model expects to keep within the latency budget. */
  private bound(rate: number, s: AdaptiveSettings): number {
    const { a, b } = this.model();
    const budget = (this.headroom * s.targetLatencyMs) / 100 - b;
    return budget <= 0 ? s.minWindowMs : budget / (1 + a * rate);
  }

  /**
   * The smallest window worth having while every slot is busy. A window `w` sends a batch of about `r * w`
   * requests every `w` ms, and the slots keep up only while `c` of them, each `d(r * w) = a * r * w + b` long,
   * fit in `c * w`: `w >= b / (c - a * r)`. A shorter window does not lower latency there: its calls queue for
   * the slots, and each pays `b` again for fewer requests (batches alternate big and tiny). Nor is a window below
   * the model's latency bound any better: the feedback cuts the window for queueing that a smaller window only
   * lengthens. So while saturated the window stays at or above the latency bound, and at or above the keep-up
   * bound as far as 1.5 times the latency bound (a slope fitted from a few batch sizes can be far off, and the
   * keep-up bound grows without limit as `a * r` nears `c`).
   */
  private floor(rate: number, s: AdaptiveSettings): number {
    const { a, b } = this.model();
    const spare = this.slots!.concurrency - a * rate;
    const keepUp = spare > 0 ? b / spare : Infinity;
    const latency = this.bound(rate, s);
    return Math.max(latency, Math.min(keepUp, SATURATED_STRETCH * latency));
  }
}

/** `ms` within [minWindowMs, maxWindowMs]; `NaN`, which no comparison lets through, becomes `minWindowMs`. */
function within(ms: number, s: AdaptiveSettings): number {
  return ms >= s.maxWindowMs ? s.maxWindowMs : ms > s.minWindowMs ? ms : s.minWindowMs;
}

/** `x` if it is a finite number above 0, else 0 (`NaN` and negative values included). */
function nonNegative(x: number): number {
  return x > 0 && x < Infinity ? x : 0;
}
