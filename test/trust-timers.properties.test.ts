/**
 * Issue 11, items 3, 13 and 15, as properties over hostile durations: zero, fractional, around 2^31-1, far above
 * it, `Infinity`, NaN and negative. The library's timers run on `clamping(...)`, a virtual clock that fires any
 * delay above 2^31-1 ms after 1 ms, as `setTimeout` does; so a timer the library forgot to chain fires early.
 */
import fc from 'fast-check';
import { NEVER, concat, ignoreElements, map, throwError, timer, VirtualTimeScheduler, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, BatchTimeoutError, createBatcher, type BatchDedupOptions, type BatchResult } from '../src/index.js';
import { MAX_TIMER_DELAY_MS, scheduleAfter } from '../src/base/timer.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { hostClock, turn } from './support.js';


/** `inner`, with every delay (rescheduling included) clamped the way `setTimeout` clamps it. */
const clamping = (inner: SchedulerLike): SchedulerLike => hostClock(inner).scheduler;

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

type Behaviour = 'ok' | 'fail' | 'stall';

const callsArb = fc.array(
  fc.record({
    at: fc.integer({ min: 0, max: 50 }),
    keys: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 4 }),
    timeoutMs: fc.option(fc.oneof(fc.integer({ min: 0, max: 60 }), fc.constantFrom(2 ** 31, 3e9, Infinity)), {
      nil: undefined,
    }),
    abortAfter: fc.option(fc.oneof(fc.integer({ min: 1, max: 60 }), fc.constant(4e9)), { freq: 3, nil: undefined }),
  }),
  { minLength: 1, maxLength: 10 },
);

const pipelineArb = fc.record({
  windowMs: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constantFrom(3e9, Infinity)),
  maxSize: fc.integer({ min: 1, max: 5 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(2 ** 31, 3e9, Infinity)),
  requestTimeoutMs: fc.option(fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constantFrom(2 ** 32, Infinity)), { nil: undefined }),
  dedupInFlight: fc.boolean(),
});

const behavioursArb = fc.array(fc.constantFrom<Behaviour>('ok', 'ok', 'fail', 'stall'), { minLength: 1, maxLength: 6 });
const durationArb = fc.constantFrom(0, 5, 2 ** 31, 3e9);

/** Far beyond every finite duration drawn above. */
const HORIZON = 1e11;

describe('createBatcher under hostile timeouts, aborts and close()', () => {
  it('no timeout fires early, every timeout is counted once, one listener per call, close() waits for exactly the accepted requests', async () => {
    await fc.assert(
      fc.asyncProperty(
        callsArb,
        pipelineArb,
        behavioursArb,
        durationArb,
        fc.option(fc.integer({ min: 0, max: 80 }), { nil: undefined }),
        async (calls, pipeline, behaviours, durationMs, closeAt) => {
          const clock = virtualClock();
          const tracked = trackTimers(clamping(clock.scheduler));
          let executions = 0;
          const batcher = createBatcher<string, string>({
            ...pipeline,
            scheduler: tracked.scheduler,
            key: (r) => r.split(':')[1]!,
            execute: (items) => {
              const behaviour = behaviours[executions++ % behaviours.length]!;
              const answers = items.map((r) => `answer ${r.split(':')[1]}`);
              if (behaviour === 'stall') return NEVER;
              const later = timer(durationMs, clock.scheduler);
              return behaviour === 'ok'
                ? later.pipe(map(() => answers))
                : concat(later.pipe(ignoreElements()), throwError(() => new Error('backend down')));
            },
          });

          const results: BatchResult<string, string>[][] = calls.map(() => []);
          const signals = calls.map(() => {
            const controller = new AbortController();
            let added = 0;
            let live = 0;
            const add = controller.signal.addEventListener.bind(controller.signal);
            const remove = controller.signal.removeEventListener.bind(controller.signal);
            controller.signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
              added++;
              live++;
              add(...args);
            }) as AbortSignal['addEventListener'];
            controller.signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
              live--;
              remove(...args);
            }) as AbortSignal['removeEventListener'];
            return { controller, added: () => added, live: () => (controller.signal.aborted ? 0 : live) };
          });
          let accepted = 0;
          let closing: Promise<void> | undefined;
          let closed = false;
          const times = [...new Set([...calls.map((c) => c.at), ...(closeAt === undefined ? [] : [closeAt])])].sort((a, b) => a - b);
          let now = 0;
          for (const t of times) {
            clock.advanceBy(t - now);
            now = t;
            calls.forEach((call, c) => {
              if (call.at !== t || batcher.closed) return;
              const { controller } = signals[c]!;
              if (call.abortAfter !== undefined) clock.scheduler.schedule(() => controller.abort(new Error(`abort ${c}`)), call.abortAfter);
              accepted += call.keys.length;
              const requests = call.keys.map((key, i) => `${c}.${i}:${key}`);
              void (async () => {
                for await (const result of batcher.processStreaming(requests, { timeoutMs: call.timeoutMs, signal: controller.signal })) {
                  results[c]!.push(result);
                }
              })();
            });
            if (t === closeAt) {
              closing = batcher.close();
              void closing.then(() => (closed = true));
            }
            await turn();
          }
          clock.advanceBy(HORIZON - now);
          for (let i = 0; i < 5; i++) await turn();

          const all = results.flat();
          const answered = new Set(all.map((r) => r.request));
          // Exactly one result per request, its own.
          expect(answered.size).toBe(all.length);
          for (const r of all) {
            if (r.status === 'fulfilled') expect(r.value).toBe(`answer ${r.request.split(':')[1]}`);
            // No timeout fires before its time: the request waited at least the limit the error names (a request
            // that joined an execution in flight shares its outcome, so that execution's time is what counts).
            const joinedInFlight = r.deduplicated && /processingTimeoutMs/.test(String(r.error));
            if (r.error instanceof BatchTimeoutError && !joinedInFlight) expect(r.latencyMs).toBeGreaterThanOrEqual(r.error.timeoutMs);
          }
          // A request with a deadline of its own, or aborted in time, has been answered by the horizon.
          calls.forEach((call, c) => {
            const bounded =
              (call.timeoutMs !== undefined && call.at + call.timeoutMs < HORIZON) ||
              (call.abortAfter !== undefined && call.at + call.abortAfter < HORIZON);
            if (bounded && !(closeAt !== undefined && call.at > closeAt)) expect(results[c]).toHaveLength(call.keys.length);
          });
          // Honest stats: every answer counted once, every BatchTimeoutError in timeouts.
          const stats = batcher.getStats();
          expect(stats.totalRequests).toBe(accepted);
          expect(stats.completed).toBe(all.length);
          expect(stats.timeouts).toBe(all.filter((r) => r.error instanceof BatchTimeoutError).length);
          expect(stats.errors).toBe(all.filter((r) => r.status === 'rejected' && !(r.error instanceof BatchTimeoutError)).length);
          // One listener per call, gone once the call is answered.
          signals.forEach((s, c) => {
            expect(s.added()).toBeLessThanOrEqual(1);
            if (results[c]!.length === calls[c]!.keys.length) expect(s.live()).toBe(0);
          });
          // close() resolves exactly when every accepted request has been answered, and leaves no timer behind.
          if (closing) {
            expect(closed).toBe(all.length === accepted);
            if (closed) expect(tracked.pending()).toBe(0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
