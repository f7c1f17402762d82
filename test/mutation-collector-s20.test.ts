/**
 * The engine's collector (src/internal/collector.ts: `BatchCollector`'s push and withdraw, `watchWaiting`) against
 * what its documentation says, where mutation testing found it unguarded (issue 17, stop 20, docs/testing.md).
 */
import { getEventListeners } from 'node:events';
import { Subscription, VirtualTimeScheduler, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError } from '../src/errors.js';
import { BatchCollector, watchWaiting } from '../src/internal/collector.js';
import type { WindowSettings } from '../src/internal/windowSettings.js';
import { trackTimers } from '../src/testing/index.js';

const settings: WindowSettings = { windowMs: 10, maxSize: 10, minSize: 1, maxWaitMs: 100 };

function collector(onDrop?: (value: string, error: unknown) => void) {
  const scheduler = new VirtualTimeScheduler();
  const batches: string[][] = [];
  const c = new BatchCollector<string>({
    scheduler,
    settings: () => settings,
    emit: (batch) => batches.push(batch),
    ...(onDrop ? { onDrop } : {}),
  });
  return { c, scheduler, batches };
}

/** A signal-shaped object: its listeners are kept so that a test can fire them; its reason may throw. */
function fakeSignal(reason: () => unknown) {
  const listeners: (() => void)[] = [];
  const signal = {
    aborted: false,
    get reason() {
      return reason();
    },
    addEventListener: (_type: string, listener: () => void) => listeners.push(listener),
    removeEventListener: () => {},
  } as unknown as AbortSignal;
  return { signal, fire: () => listeners.forEach((l) => l()) };
}

describe('BatchCollector.push: the entry it returns', () => {
  it('returns none for a value nothing can take back (no deadline, no signal, not withdrawable), with or without options', () => {
    const { c } = collector();
    expect(c.push('a')).toBeUndefined();
    expect(c.push('b', {})).toBeUndefined();
    expect(c.push('c', { priority: 2 })).toBeUndefined();
    expect(c.size).toBe(3);
  });

  it('returns the entry of a value that can leave unbatched: a deadline, a signal, or withdrawable', () => {
    const { c } = collector();
    expect(c.push('a', { withdrawable: true })?.value).toBe('a');
    expect(c.push('b', { deadline: 1000, timeoutMs: 1000 })?.value).toBe('b');
    expect(c.push('c', { signal: new AbortController().signal })?.value).toBe('c');
  });
});

describe('BatchCollector.withdraw', () => {
  it('answers true when it took the value out of the queue (and tells onDrop), false once it had left', () => {
    const dropped: [string, unknown][] = [];
    const { c, scheduler, batches } = collector((value, error) => dropped.push([value, error]));
    const entry = c.push('a', { withdrawable: true })!;
    c.push('b');
    const error = new Error('taken back');
    expect(c.withdraw(entry, error)).toBe(true);
    expect(dropped).toEqual([['a', error]]);
    expect(c.withdraw(entry, error)).toBe(false);
    expect(dropped).toHaveLength(1);
    scheduler.flush();
    expect(batches).toEqual([['b']]);
  });

  it('works without onDrop (an optional hook): the value still leaves the queue', () => {
    const { c, scheduler, batches } = collector();
    const entry = c.push('a', { withdrawable: true })!;
    c.push('b');
    expect(c.withdraw(entry, new Error('taken back'))).toBe(true);
    expect(c.size).toBe(1);
    scheduler.flush();
    expect(batches).toEqual([['b']]);
  });
});

describe('watchWaiting', () => {
  it('watches nothing, and returns no unwatch, with neither a deadline nor a signal', () => {
    const tracked = trackTimers(new VirtualTimeScheduler());
    expect(watchWaiting(tracked.scheduler, {}, 0, () => {})).toBeUndefined();
    expect(watchWaiting(tracked.scheduler, { withdrawable: true }, 0, () => {})).toBeUndefined();
    expect(tracked.pending()).toBe(0);
  });

  it('sets no timer for a value with a signal and no deadline', () => {
    // Counts every schedule() call, whatever its delay (a virtual clock drops a NaN delay without a trace).
    const delays: (number | undefined)[] = [];
    const scheduler = {
      now: () => 0,
      schedule: (_work: () => void, delay?: number) => {
        delays.push(delay);
        return new Subscription();
      },
    } as unknown as SchedulerLike;
    const unwatch = watchWaiting(scheduler, { signal: new AbortController().signal }, 0, () => {});
    expect(unwatch).toBeTypeOf('function');
    expect(delays).toEqual([]);
  });

  it('leaves with a TypeError naming batchDedup: signal(request) when the aborted signal reason getter throws', () => {
    const left: unknown[] = [];
    const { signal, fire } = fakeSignal(() => {
      throw new Error('no reason');
    });
    watchWaiting(new VirtualTimeScheduler(), { signal }, 0, (error) => left.push(error));
    fire();
    expect(left).toHaveLength(1);
    expect(left[0]).toBeInstanceOf(TypeError);
    expect((left[0] as Error).message).toBe('batchDedup: signal(request): signal.reason threw: no reason');
  });

  it('listens to an abort once: after it, the signal holds no listener, even when leave does not unwatch', () => {
    const left: unknown[] = [];
    const controller = new AbortController();
    watchWaiting(new VirtualTimeScheduler(), { signal: controller.signal }, 0, (error) => left.push(error));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(left).toEqual([reason]);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('unwatching removes the abort listener and the deadline timer: a later abort or deadline does nothing', () => {
    const left: unknown[] = [];
    const controller = new AbortController();
    const tracked = trackTimers(new VirtualTimeScheduler());
    const unwatch = watchWaiting(tracked.scheduler, { signal: controller.signal, deadline: 50, timeoutMs: 50 }, 0, (e) => left.push(e));
    expect(tracked.pending()).toBe(1);
    unwatch!();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(tracked.pending()).toBe(0);
    controller.abort();
    expect(left).toEqual([]);
  });

  it('a deadline-only watch leaves at the deadline with BatchTimeoutError, and its unwatch cancels that timer', () => {
    const scheduler = new VirtualTimeScheduler();
    const left: unknown[] = [];
    watchWaiting(scheduler, { deadline: 20, timeoutMs: 20 }, 0, (e) => left.push(e));
    const tracked = trackTimers(scheduler);
    const unwatch = watchWaiting(tracked.scheduler, { deadline: 20, timeoutMs: 20 }, 0, (e) => left.push(e));
    expect(tracked.pending()).toBe(1);
    unwatch!();
    expect(tracked.pending()).toBe(0);
    scheduler.flush();
    expect(left).toHaveLength(1);
    expect(left[0]).toBeInstanceOf(BatchTimeoutError);
  });

  it('a signal that cannot be listened to: leaves at once with a TypeError that has the thrown error as its cause, and no timer stays', () => {
    const left: unknown[] = [];
    const thrown = new Error('no listeners here');
    const signal = {
      aborted: false,
      reason: undefined,
      addEventListener: () => {
        throw thrown;
      },
      removeEventListener: () => {},
    } as unknown as AbortSignal;
    const tracked = trackTimers(new VirtualTimeScheduler());
    expect(watchWaiting(tracked.scheduler, { signal, deadline: 50, timeoutMs: 50 }, 0, (e) => left.push(e))).toBeUndefined();
    expect(tracked.pending()).toBe(0);
    expect(left).toHaveLength(1);
    expect(left[0]).toBeInstanceOf(TypeError);
    expect((left[0] as Error).message).toBe(
      "batchDedup: signal(request) returned a signal whose addEventListener('abort') threw: no listeners here",
    );
    expect((left[0] as Error).cause).toBe(thrown);
  });
});
