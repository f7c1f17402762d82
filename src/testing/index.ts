/**
 * Helpers for testing pipelines built with rxjs-batch-dedup under `TestScheduler`, without real timers.
 *
 * ```ts
 * import { createTestScheduler, simulatedBackend } from 'rxjs-batch-dedup/testing';
 * const scheduler = createTestScheduler();
 * scheduler.run(({ hot, expectObservable }) => {
 *   const backend = simulatedBackend({ scheduler, durationMs: (n) => 5 + n, compute: (q: string) => q.length });
 *   expectObservable(hot('a-b|').pipe(batchDedup({ execute: backend.execute, windowMs: 10, scheduler }))) ...
 * });
 * ```
 */
import { map, timer, VirtualTimeScheduler, type Observable, type SchedulerAction, type SchedulerLike } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { BatchResult, ExecuteContext } from '../types.js';

export { TestScheduler };

/** Structural equality for marble messages: primitives, arrays, plain objects, Maps, Sets, Errors (by name and message). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Error) return a.name === (b as Error).name && a.message === (b as Error).message;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  if (a instanceof Map) {
    const bb = b as Map<unknown, unknown>;
    return a.size === bb.size && [...a].every(([k, v]) => bb.has(k) && deepEqual(v, bb.get(k)));
  }
  if (a instanceof Set) {
    const bb = b as Set<unknown>;
    return a.size === bb.size && [...a].every((v) => bb.has(v));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return (
    ka.length === kb.length &&
    ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

function show(x: unknown): string {
  return JSON.stringify(x, (_, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v), 2);
}

/**
 * A `TestScheduler` whose assertion is `deepEqual`, throwing with both sides printed; pass your test framework's
 * assertion instead (`(a, b) => expect(a).toEqual(b)`) to get its diff.
 */
export function createTestScheduler(assertDeepEqual?: (actual: unknown, expected: unknown) => void): TestScheduler {
  return new TestScheduler(
    assertDeepEqual ??
      ((actual, expected) => {
        if (!deepEqual(actual, expected)) {
          throw new Error(`marbles differ\nactual:   ${show(actual)}\nexpected: ${show(expected)}`);
        }
      }),
  );
}

export interface SimulatedBackendOptions<T, R> {
  /** The clock to run on: a `TestScheduler` (virtual time) or `asyncScheduler` (real time). */
  scheduler: SchedulerLike;
  /** How long a call with `n` items takes, in ms. Default `() => 1`. */
  durationMs?: (n: number) => number;
  /** The answer for one item. */
  compute: (item: T) => R;
  /** Make a call fail: return an error to reject with, or undefined. */
  failWith?: (items: readonly T[], call: number) => unknown;
}

export interface BackendCall<T> {
  readonly items: readonly T[];
  readonly at: number;
  readonly context: ExecuteContext;
}

export interface SimulatedBackend<T, R> {
  /** Pass as `execute`. Answers after `durationMs(items.length)` on the scheduler. */
  readonly execute: (items: T[], context: ExecuteContext) => Observable<R[]>;
  /** Every call so far, in call order. */
  readonly calls: BackendCall<T>[];
  /** Total items executed. */
  readonly items: () => number;
}

/** A backend whose calls cost `durationMs(n)` on the given scheduler and record what they were given. */
export function simulatedBackend<T, R>(options: SimulatedBackendOptions<T, R>): SimulatedBackend<T, R> {
  const { scheduler, compute, failWith } = options;
  const durationMs = options.durationMs ?? (() => 1);
  const calls: BackendCall<T>[] = [];
  return {
    calls,
    items: () => calls.reduce((sum, call) => sum + call.items.length, 0),
    execute: (items, context) => {
      const call = calls.length;
      calls.push({ items: items.slice(), at: scheduler.now(), context });
      return timer(durationMs(items.length), scheduler).pipe(
        map(() => {
          const error = failWith?.(items, call);
          if (error !== undefined) throw error;
          return items.map(compute);
        }),
      );
    },
  };
}

/** A compact form of a result for marble expectations: `{ request, value }` or `{ request, error: name }`. */
export function outcome<T, R>(result: BatchResult<T, R>): { request: T; value?: R; error?: string } {
  return result.status === 'fulfilled'
    ? { request: result.request, value: result.value as R }
    : { request: result.request, error: result.error instanceof Error ? result.error.name : String(result.error) };
}

export interface TrackedScheduler {
  /** Use this one in the code under test. */
  readonly scheduler: SchedulerLike;
  /** Timers scheduled through it that have neither run nor been cancelled. */
  pending(): number;
}

/**
 * Wraps a scheduler to count live timers, to prove that teardown cancels every one of them.
 *
 * @param inner the scheduler that really runs the timers (usually a `TestScheduler`)
 */
export function trackTimers(inner: SchedulerLike): TrackedScheduler {
  const live = new Set<object>();
  const scheduler: SchedulerLike = {
    now: () => inner.now(),
    schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S) {
      const subscription = inner.schedule<S>(
        function (this: SchedulerAction<S>, s?: S) {
          live.delete(subscription);
          // A work that reschedules itself (`this.schedule`) is still a live timer.
          const action = this;
          const tracked = Object.create(action) as SchedulerAction<S>;
          tracked.schedule = (nextState?: S, nextDelay?: number) => {
            live.add(subscription);
            return action.schedule(nextState, nextDelay);
          };
          work.call(tracked, s);
        },
        delay,
        state,
      );
      live.add(subscription);
      subscription.add(() => live.delete(subscription));
      return subscription;
    },
  };
  return { scheduler, pending: () => live.size };
}

export interface VirtualClock {
  /** Pass as `scheduler` to the code under test. */
  readonly scheduler: VirtualTimeScheduler;
  /** Runs every timer due within the next `ms` and moves the clock forward by exactly `ms`. */
  advanceBy(ms: number): void;
  /** Runs timers until none is left. */
  runAll(): void;
}

/**
 * A virtual clock for promise-based code (`createBatcher`), where `TestScheduler.run` cannot wait for promises:
 * advance it step by step and `await` in between.
 */
export function virtualClock(): VirtualClock {
  const scheduler = new VirtualTimeScheduler();
  return {
    scheduler,
    advanceBy(ms) {
      const target = scheduler.frame + ms;
      scheduler.maxFrames = target;
      scheduler.flush();
      scheduler.frame = target;
      scheduler.maxFrames = Infinity;
    },
    runAll() {
      scheduler.maxFrames = Infinity;
      scheduler.flush();
    },
  };
}
