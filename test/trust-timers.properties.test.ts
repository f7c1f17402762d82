/**
 * Issue 11, item 3, as properties over hostile durations: zero, fractional, around 2^31-1, far above
 * it, `Infinity`, NaN and negative. The library's timers run on `clamping(...)`, a virtual clock that fires any
 * delay above 2^31-1 ms after 1 ms, as `setTimeout` does; so a timer the library forgot to chain fires early.
 */
import fc from 'fast-check';
import { VirtualTimeScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, type BatchDedupOptions } from '../src/index.js';
import { MAX_TIMER_DELAY_MS, scheduleAfter } from '../src/internal/timer.js';
import { trackTimers } from '../src/testing/index.js';

const clamp = (delay = 0) => (delay > MAX_TIMER_DELAY_MS ? 1 : delay);

/** `inner`, with every delay (rescheduling included) clamped the way `setTimeout` clamps it. */
function clamping(inner: SchedulerLike): SchedulerLike {
  return {
    now: () => inner.now(),
    schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S): Subscription {
      return inner.schedule<S>(
        function (this: SchedulerAction<S>, s?: S) {
          const action = this;
          const clamped = Object.create(action) as SchedulerAction<S>;
          clamped.schedule = (nextState?: S, nextDelay?: number) => action.schedule(nextState, clamp(nextDelay));
          work.call(clamped, s);
        },
        clamp(delay),
        state,
      );
    },
  };
}

/** Delays a timer may be asked for: every region where clamping or chaining could go wrong. */
const delayArb = fc.oneof(
  fc.constantFrom(0, 1, MAX_TIMER_DELAY_MS - 1, MAX_TIMER_DELAY_MS, MAX_TIMER_DELAY_MS + 1, 2 ** 31, 2 ** 32, 3e9, 2 ** 40),
  fc.integer({ min: 0, max: 2 ** 34 }),
  fc.double({ min: 0, max: 2 ** 36, noNaN: true }),
  fc.constant(Infinity),
);

describe('scheduleAfter, for any delay', () => {
  it('fires once, at the delay exactly (never earlier), unless cancelled first; then nothing is left pending', () => {
    fc.assert(
      fc.property(delayArb, fc.option(fc.double({ min: 0, max: 2 ** 36, noNaN: true }), { nil: undefined }), (delayMs, cancelAt) => {
        // Cancelled in the very moment it is due: either order is right (and the chain may round by 1e-6 ms).
        fc.pre(cancelAt === undefined || Math.abs(cancelAt - delayMs) > 1e-6);
        const clock = new VirtualTimeScheduler();
        const tracked = trackTimers(clamping(clock));
        const fired: number[] = [];
        const subscription = scheduleAfter(tracked.scheduler, () => fired.push(clock.now()), delayMs);
        if (cancelAt !== undefined) clock.schedule(() => subscription.unsubscribe(), cancelAt);
        clock.flush();
        const cancelledFirst = cancelAt !== undefined && cancelAt < delayMs;
        if (delayMs === Infinity || cancelledFirst) {
          expect(fired).toEqual([]);
        } else {
          // Exact for whole milliseconds; a fractional delay may differ by rounding in the last link.
          expect(fired).toHaveLength(1);
          expect(Math.abs(fired[0]! - delayMs)).toBeLessThanOrEqual(1e-6);
        }
        expect(tracked.pending()).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('on a virtual clock, holds even Number.MAX_SAFE_INTEGER with one timer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (delayMs) => {
        const clock = new VirtualTimeScheduler();
        const fired: number[] = [];
        scheduleAfter(clock, () => fired.push(clock.now()), delayMs);
        expect(clock.actions).toHaveLength(1);
        clock.flush();
        expect(fired).toEqual([delayMs]);
      }),
    );
  });
});

/** The duration options, where they are given, and the least value each accepts. */
const durationOptions = [
  { name: 'windowMs', min: 0 },
  { name: 'maxWaitMs', min: 0 },
  { name: 'processingTimeoutMs', min: 1 },
  { name: 'requestTimeoutMs', min: 1 },
] as const;

const execute = (items: string[]) => items;

describe('duration options, for any value', () => {
  const refusedArb = fc.oneof(
    fc.constantFrom(Number.NaN, -Infinity, -1, -0.5, -Number.MAX_VALUE),
    fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
  );
  const acceptedArb = fc.oneof(
    fc.constantFrom(Infinity, 2 ** 31, 2 ** 32, 3e9, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE),
    fc.double({ min: 1, max: Number.MAX_VALUE, noNaN: true }),
  );

  it('NaN and negative values are refused at creation and by configure(), with a RangeError naming the option', () => {
    fc.assert(
      fc.property(fc.constantFrom(...durationOptions), refusedArb, ({ name }, value) => {
        const options = { execute, [name]: value } as BatchDedupOptions<string, string>;
        const named = new RegExp(`${name} must be >= \\d+ ms, or Infinity for no limit`);
        expect(() => batchDedup(options)).toThrow(RangeError);
        expect(() => createBatcher(options)).toThrow(named);
        const batcher = createBatcher<string, string>({ execute, scheduler: new VirtualTimeScheduler() });
        expect(() => batcher.configure({ [name]: value })).toThrow(named);
      }),
    );
  });

  it('values below the least accepted are refused too (0 for the timeouts)', () => {
    for (const { name, min } of durationOptions.filter((o) => o.min > 0)) {
      expect(() => createBatcher({ execute, [name]: min / 2 })).toThrow(new RegExp(`${name} must be >= ${min} ms`));
    }
  });

  it('Infinity and any finite value from the least accepted up are accepted, at creation and by configure()', () => {
    fc.assert(
      fc.property(fc.constantFrom(...durationOptions), acceptedArb, ({ name }, value) => {
        const options = { execute, [name]: value } as BatchDedupOptions<string, string>;
        expect(() => batchDedup(options)).not.toThrow();
        const batcher = createBatcher<string, string>({ execute, scheduler: new VirtualTimeScheduler() });
        expect(() => batcher.configure({ [name]: value })).not.toThrow();
        expect(() => createBatcher(options)).not.toThrow();
      }),
    );
  });

  it('process({ timeoutMs }) refuses NaN and negative values, naming timeoutMs, and accepts 0, huge and Infinity', async () => {
    await fc.assert(
      fc.asyncProperty(refusedArb, acceptedArb, async (refused, accepted) => {
        const batcher = createBatcher<string, string>({ execute, scheduler: new VirtualTimeScheduler() });
        await expect(batcher.process('a', { timeoutMs: refused })).rejects.toThrow(/timeoutMs must be >= 0 ms/);
        await expect(batcher.processAll(['a'], { timeoutMs: refused })).rejects.toThrow(RangeError);
        for (const timeoutMs of [0, accepted]) {
          const p = batcher.process('a', { timeoutMs });
          void p.catch(() => undefined);
        }
      }),
      { numRuns: 50 },
    );
  });
});
