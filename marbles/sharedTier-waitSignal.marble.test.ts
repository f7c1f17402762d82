/**
 * `ResultLeases.wait` gets a signal that aborts when the pipeline stops waiting for it, at that frame: the bound
 * (`leaseMs + storeTimeoutMs`) passed, or the batch was let go; never when the wait answered. A store that polls
 * (`redisStore`) stops on it instead of polling on for `leaseMs` after nobody reads its answer.
 */
import { map, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, sharedStore, type ResultLeases } from '../src/index.js';
import { simulatedBackend, type TestScheduler } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

/** `value` after `after` frames on the test scheduler, or never. */
function later<V>(scheduler: TestScheduler, after: number | 'never', value: V): PromiseLike<V> {
  return {
    then(ok) {
      if (after !== 'never') scheduler.schedule(() => ok?.(value), after);
      return undefined as never;
    },
  } as PromiseLike<V>;
}

/**
 * One request `'a'` at frame 0 through `batchDedup` (window 1 frame, storeTimeoutMs 10), its key held by another
 * process (claim answers false at frame 2); the wait answers `waitAnswer` after `waitAfter` frames. With
 * `unsubscribeAt`, the subscriber leaves at that frame. Returns what happened to the wait's signal, and when.
 */
function run(waitAfter: number | 'never', waitAnswer: unknown, unsubscribeAt?: number) {
  const scheduler = testScheduler();
  const events: string[] = [];
  const signals: AbortSignal[] = [];
  const leases: ResultLeases = {
    leaseMs: 30,
    claim: (keys) => later(scheduler, 1, keys.map(() => false)),
    release: () => later(scheduler, 0, undefined),
    wait: (keys, timeoutMs, signal) => {
      events.push(`${scheduler.now()} wait ${timeoutMs}`);
      if (signal) {
        signals.push(signal);
        signal.addEventListener('abort', () => events.push(`${scheduler.now()} wait aborted`));
      }
      return later(scheduler, waitAfter, keys.map(() => waitAnswer));
    },
  };
  const store = sharedStore({ get: (keys) => later(scheduler, 0, keys.map(() => undefined)), set: () => later(scheduler, 0, undefined), leases });
  scheduler.run(({ cold }) => {
    const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (key: string) => `${key} executed` });
    let subscription: Subscription | undefined;
    subscription = cold('a|')
      .pipe(
        batchDedup<string, string>({ execute: backend.execute, windowMs: 1, scheduler, resultCache: { ttlMs: 1000, store, storeTimeoutMs: 10 } }),
        map((r) => `${scheduler.now()} answer ${r.status === 'fulfilled' ? r.value : String(r.error)}`),
      )
      .subscribe((line) => events.push(line));
    if (unsubscribeAt !== undefined) scheduler.schedule(() => subscription?.unsubscribe(), unsubscribeAt);
  });
  return { events, signals };
}

describe('ResultLeases.wait: the signal of a wait', () => {
  it('is given to the store, and aborts at the frame the bound passes (2 + 30 + 10), before the item runs here', () => {
    const { events, signals } = run('never', undefined);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
    expect(events).toEqual(['2 wait 30', '42 wait aborted', '47 answer a executed']);
  });

  it('is never aborted when the wait answers within its bound', () => {
    const { events, signals } = run(7, 'a by another replica');
    expect(signals[0]!.aborted).toBe(false);
    expect(events).toEqual(['2 wait 30', '9 answer a by another replica']);
  });

  it('aborts at the frame the subscriber leaves while the wait is pending', () => {
    const { events, signals } = run('never', undefined, 15);
    expect(signals[0]!.aborted).toBe(true);
    expect(events).toEqual(['2 wait 30', '15 wait aborted']);
  });

  it('is not aborted by a subscriber leaving after the wait answered', () => {
    const { events, signals } = run(3, 'a by another replica', 20);
    expect(signals[0]!.aborted).toBe(false);
    expect(events).toEqual(['2 wait 30', '5 answer a by another replica']);
  });
});
