/**
 * Issue 11, items 3, 13 and 15.
 *
 * - Long timers: `setTimeout`/`setInterval` fire a delay above 2^31-1 ms after about 1 ms. vitest's fake timers
 *   clamp the same way, so these tests run the real `asyncScheduler` on them: every duration the options accept
 *   is honoured exactly, and `Infinity` sets no timer.
 * - One abort listener per call: `processAll`/`processStreaming` with a signal add one listener to it, not one
 *   (or two) per request, and aborting still answers every request of the call.
 * - Honest stats and a bounded `close()`: every kind of timeout is counted in `stats.timeouts`, once; `close()`
 *   waits for every accepted request and for nothing else.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBatcher, type Batcher, type BatchDedupOptions } from '../src/index.js';
import { BatchTimeoutError } from '../src/errors.js';
import type { ExecuteContext } from '../src/types.js';
import { MAX_TIMER_DELAY_MS, scheduleAfter } from '../src/base/timer.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';
import { drain, turn } from './support.js';

/** A promise's state, readable synchronously after `await turn()`. */
function watch<V>(promise: Promise<V>): { readonly state: 'pending' | 'fulfilled' | 'rejected'; readonly value?: V; readonly error?: unknown } {
  const seen: { state: 'pending' | 'fulfilled' | 'rejected'; value?: V; error?: unknown } = { state: 'pending' };
  promise.then(
    (value) => Object.assign(seen, { state: 'fulfilled', value }),
    (error: unknown) => Object.assign(seen, { state: 'rejected', error }),
  );
  return seen;
}

/** A backend whose calls the test answers by hand; every call and its signal are kept. */
function manualBackend() {
  const calls: { items: string[]; context: ExecuteContext; answer: () => void }[] = [];
  return {
    calls,
    execute: (items: string[], context: ExecuteContext) =>
      new Promise<string[]>((resolve) => {
        calls.push({ items: [...items], context, answer: () => resolve(items.map((s) => s.toUpperCase())) });
      }),
  };
}

describe('item 3: timers longer than 2^31-1 ms, on asyncScheduler with timers that clamp like the host', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the fake timers clamp as Node does: a raw 3e9 ms timer fires after 1 ms', () => {
    const fired = vi.fn();
    asyncScheduler.schedule(fired, 3e9);
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it.each([0, 1, 1000, MAX_TIMER_DELAY_MS, 2 ** 31, 3e9, 2 ** 32, 1e12])(
    'scheduleAfter(%d) fires once, exactly then',
    (delayMs) => {
      const fired = vi.fn();
      const start = Date.now();
      scheduleAfter(asyncScheduler, () => fired(Date.now() - start), delayMs);
      if (delayMs >= 1) vi.advanceTimersByTime(delayMs - 1);
      expect(fired).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(fired).toHaveBeenCalledTimes(1);
      expect(fired.mock.calls[0]![0]).toBe(delayMs);
      vi.advanceTimersByTime(1e10);
      expect(fired).toHaveBeenCalledTimes(1);
      expect(vi.getTimerCount()).toBe(0);
    },
  );

  it('scheduleAfter(Infinity) sets no timer and never fires', () => {
    const fired = vi.fn();
    const subscription = scheduleAfter(asyncScheduler, fired, Infinity);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1e15);
    expect(fired).not.toHaveBeenCalled();
    subscription.unsubscribe();
  });

  it('unsubscribing cancels whichever link of the chain is pending', () => {
    for (const cancelAt of [1, MAX_TIMER_DELAY_MS - 1, MAX_TIMER_DELAY_MS + 1, 2 * MAX_TIMER_DELAY_MS + 5, 1e10 - 1]) {
      const fired = vi.fn();
      const subscription = scheduleAfter(asyncScheduler, fired, 1e10);
      vi.advanceTimersByTime(cancelAt);
      expect(vi.getTimerCount()).toBe(1);
      subscription.unsubscribe();
      expect(vi.getTimerCount()).toBe(0);
      vi.advanceTimersByTime(1e11);
      expect(fired).not.toHaveBeenCalled();
    }
  });

  /** A batcher on the real asyncScheduler (fake timers) with a backend answered by hand. */
  function batcherWith(options: Partial<BatchDedupOptions<string, string>>) {
    const backend = manualBackend();
    const batcher = createBatcher<string, string>({ execute: backend.execute, windowMs: 0, ...options });
    return { backend, batcher };
  }

  it('process({ timeoutMs: 2^31 }) waits for a backend that takes 10 s, and rejects at 2^31 ms exactly', async () => {
    const { backend, batcher } = batcherWith({ processingTimeoutMs: Infinity });
    const answered = watch(batcher.process('a', { timeoutMs: 2 ** 31 }));
    const stalled = watch(batcher.process('b', { timeoutMs: 2 ** 31 }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(backend.calls).toHaveLength(1);
    expect([answered.state, stalled.state]).toEqual(['pending', 'pending']);
    backend.calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(answered).toMatchObject({ state: 'fulfilled', value: 'A' });
    expect(stalled).toMatchObject({ state: 'fulfilled', value: 'B' });

    const late = watch(batcher.process('c', { timeoutMs: 2 ** 31 }));
    await vi.advanceTimersByTimeAsync(2 ** 31 - 1);
    expect(late.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(late.state).toBe('rejected');
    expect(late.error).toBeInstanceOf(BatchTimeoutError);
  });

  it.each([3e9, Number.MAX_SAFE_INTEGER])('processingTimeoutMs: %d lets a backend take a minute', async (processingTimeoutMs) => {
    const { backend, batcher } = batcherWith({ processingTimeoutMs });
    const result = watch(batcher.process('a'));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(result.state).toBe('pending');
    backend.calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(result).toMatchObject({ state: 'fulfilled', value: 'A' });
  });

  it('processingTimeoutMs: 3e9 rejects with BatchTimeoutError at 3e9 ms, not before', async () => {
    const { batcher } = batcherWith({ processingTimeoutMs: 3e9 });
    const result = watch(batcher.process('a'));
    await vi.advanceTimersByTimeAsync(3e9 - 1);
    expect(result.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(result.error).toBeInstanceOf(BatchTimeoutError);
  });

  it('requestTimeoutMs: 2^32 keeps a request queued behind a busy slot, and withdraws it at 2^32 ms', async () => {
    const { backend, batcher } = batcherWith({ concurrency: 1, requestTimeoutMs: 2 ** 32, processingTimeoutMs: Infinity });
    const first = watch(batcher.process('a'));
    await vi.advanceTimersByTimeAsync(1);
    const queued = watch(batcher.process('b'));
    await vi.advanceTimersByTimeAsync(3e9);
    expect(queued.state).toBe('pending');
    backend.calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(first.value).toBe('A');
    backend.calls[1]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect(queued.value).toBe('B');

    const blocker = batcher.process('c');
    await vi.advanceTimersByTimeAsync(1);
    const expiring = watch(batcher.process('d'));
    await vi.advanceTimersByTimeAsync(2 ** 32 - 1);
    expect(expiring.state).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(expiring.error).toBeInstanceOf(BatchTimeoutError);
    expect(backend.calls.map((c) => c.items)).toEqual([['a'], ['b'], ['c']]);
    void blocker;
  });

  it.each([
    ['windowMs', { windowMs: 3e9 }],
    ['maxWaitMs', { windowMs: 10, minSize: 2, maxWaitMs: 3e9 }],
  ])('%s: 3e9 holds a batch for 3e9 ms, not 1 ms', async (_, options) => {
    const { backend, batcher } = batcherWith(options);
    void batcher.process('a');
    await vi.advanceTimersByTimeAsync(3e9 - 1);
    expect(backend.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('Infinity for timeoutMs, processingTimeoutMs, requestTimeoutMs and maxWaitMs sets no timer at all', async () => {
    const { backend, batcher } = batcherWith({
      windowMs: 10,
      minSize: 2,
      maxWaitMs: Infinity,
      processingTimeoutMs: Infinity,
      requestTimeoutMs: Infinity,
    });
    const a = watch(batcher.process('a', { timeoutMs: Infinity }));
    await vi.advanceTimersByTimeAsync(20);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1e15);
    expect(backend.calls).toHaveLength(0);
    const b = watch(batcher.process('b', { timeoutMs: Infinity }));
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1e15);
    expect([a.state, b.state]).toEqual(['pending', 'pending']);
    backend.calls[0]!.answer();
    await vi.advanceTimersByTimeAsync(0);
    expect([a.value, b.value]).toEqual(['A', 'B']);
  });

  it('windowMs: Infinity batches by size, and close() flushes the rest', async () => {
    const { backend, batcher } = batcherWith({ windowMs: Infinity, maxSize: 2, processingTimeoutMs: Infinity });
    const results = batcher.processAll(['a', 'b', 'c']);
    await vi.advanceTimersByTimeAsync(1e15);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]);
    const closing = batcher.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b'], ['c']]);
    for (const call of backend.calls) call.answer();
    await expect(results).resolves.toEqual(['A', 'B', 'C']);
    await closing;
  });
});

/** An AbortSignal that counts the abort listeners added to it and still registered. */
function countedSignal() {
  const controller = new AbortController();
  const { signal } = controller;
  const live = new Set<unknown>();
  let added = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: AddEventListenerOptions) => {
    if (type === 'abort') {
      added++;
      live.add(listener);
    }
    add(type, listener, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: EventListenerOptions) => {
    if (type === 'abort') live.delete(listener);
    remove(type, listener, options);
  }) as typeof signal.removeEventListener;
  return {
    signal,
    abort: (reason: unknown) => controller.abort(reason),
    added: () => added,
    /** Listeners still registered (a `once` listener that ran is gone too). */
    live: () => (signal.aborted ? 0 : live.size),
  };
}

describe('item 13: one abort listener per call, not per request', () => {
  const N = 1000;
  const items = Array.from({ length: N }, (_, i) => `q${i}`);

  function setup(clock: VirtualClock, options: Partial<BatchDedupOptions<string, string>> = {}) {
    const backend = manualBackend();
    const batcher = createBatcher<string, string>({
      execute: backend.execute,
      windowMs: 5,
      maxSize: 100,
      concurrency: 2,
      scheduler: clock.scheduler,
      ...options,
    });
    return { backend, batcher };
  }

  /** Moves the clock and answers every call until `promise` settles. */
  async function serve(clock: VirtualClock, backend: ReturnType<typeof manualBackend>, promise: Promise<unknown>) {
    let settled = false;
    void promise.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let round = 0; round < 50 && !settled; round++) {
      clock.advanceBy(10);
      for (const call of backend.calls.splice(0)) call.answer();
      await turn();
    }
  }

  it.each([
    ['no other option', {}],
    ['priorities', { enablePriorities: true }],
    ['requestTimeoutMs', { requestTimeoutMs: 1e6 }],
    ['dedupInFlight', { dedupInFlight: true }],
  ])('processAll of 1000 requests with %s adds one listener to the signal, removed once all are answered', async (_, options) => {
    const clock = virtualClock();
    const { backend, batcher } = setup(clock, options);
    const counted = countedSignal();
    const all = batcher.processAll(items, { signal: counted.signal, timeoutMs: 1e6 });
    expect(counted.added()).toBe(1);
    await serve(clock, backend, all);
    await expect(all).resolves.toEqual(items.map((s) => s.toUpperCase()));
    expect(counted.added()).toBe(1);
    expect(counted.live()).toBe(0);
  });

  it('processStreaming of 1000 requests adds one listener, and aborting answers each of them with the reason', async () => {
    const clock = virtualClock();
    const { backend, batcher } = setup(clock);
    const counted = countedSignal();
    const seen: { request: string; status: string; error?: unknown }[] = [];
    const done = (async () => {
      for await (const result of batcher.processStreaming(items, { signal: counted.signal })) seen.push(result);
    })();
    await turn();
    clock.advanceBy(5); // two batches of 100 are sent, 800 requests wait for a slot
    expect(backend.calls.map((c) => c.items.length)).toEqual([100, 100]);
    expect(counted.added()).toBe(1);
    const reason = new Error('client went away');
    counted.abort(reason);
    await done;
    expect(seen).toHaveLength(N);
    expect(seen.every((r) => r.status === 'rejected' && r.error === reason)).toBe(true);
    // The 800 that were still waiting were withdrawn: nothing more is sent.
    for (const call of backend.calls.splice(0)) call.answer();
    clock.runAll();
    await turn();
    expect(backend.calls).toHaveLength(0);
    expect(batcher.getStats()).toMatchObject({ completed: N, errors: N, queueDepth: 0 });
  });

  it('aborting a processAll rejects every request of the call, sent or waiting, and sends no waiting one', async () => {
    const clock = virtualClock();
    const { backend, batcher } = setup(clock);
    const counted = countedSignal();
    const all = batcher.processAll(items, { signal: counted.signal });
    void all.catch(() => undefined);
    clock.advanceBy(5);
    expect(backend.calls).toHaveLength(2);
    const reason = new Error('cancelled');
    counted.abort(reason);
    await expect(all).rejects.toBe(reason);
    for (const call of backend.calls.splice(0)) call.answer();
    clock.runAll();
    await turn();
    expect(backend.calls).toHaveLength(0);
    // Promise.all shows only the first rejection; the stats show that every request of the call was answered.
    expect(batcher.getStats()).toMatchObject({ totalRequests: N, completed: N, errors: N, timeouts: 0, queueDepth: 0 });
    expect(counted.live()).toBe(0);
  });

  it('Node prints no MaxListenersExceededWarning for a processAll of 1000 with one signal', async () => {
    const clock = virtualClock();
    const { backend, batcher } = setup(clock);
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    globalThis.process.on('warning', onWarning);
    try {
      const controller = new AbortController();
      const all = batcher.processAll(items, { signal: controller.signal });
      await serve(clock, backend, all);
      await all;
      await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      globalThis.process.off('warning', onWarning);
    }
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
  });
});

describe('item 15: every timeout counted once; close() waits for every accepted request and nothing else', () => {
  function setup(options: Partial<BatchDedupOptions<string, string>> = {}) {
    const clock = virtualClock();
    const backend = manualBackend();
    const batcher: Batcher<string, string> = createBatcher<string, string>({
      execute: backend.execute,
      windowMs: 0,
      scheduler: clock.scheduler as SchedulerLike,
      ...options,
    });
    return { clock, backend, batcher };
  }

  it('a per-call timeoutMs that passes while the request executes counts in timeouts, and its late result does not count again', async () => {
    const { clock, backend, batcher } = setup({ processingTimeoutMs: 1000 });
    const timed = watch(batcher.process('a', { timeoutMs: 50 }));
    const other = watch(batcher.process('b'));
    clock.advanceBy(1);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]);
    clock.advanceBy(50);
    await turn();
    expect(timed.error).toBeInstanceOf(BatchTimeoutError);
    expect(batcher.getStats()).toMatchObject({ completed: 1, timeouts: 1, errors: 0, expired: 0 });
    backend.calls[0]!.answer();
    await turn();
    expect(other.value).toBe('B');
    expect(batcher.getStats()).toMatchObject({ totalRequests: 2, completed: 2, timeouts: 1, errors: 0 });
  });

  it('a per-call timeoutMs that passes while the request waits counts in timeouts and expired', async () => {
    const { clock, backend, batcher } = setup({ concurrency: 1 });
    void batcher.process('a');
    clock.advanceBy(1);
    const timed = watch(batcher.process('b', { timeoutMs: 20 }));
    clock.advanceBy(20);
    await turn();
    expect(timed.error).toBeInstanceOf(BatchTimeoutError);
    expect(batcher.getStats()).toMatchObject({ completed: 1, timeouts: 1, expired: 1 });
    backend.calls[0]!.answer();
    await turn();
    clock.runAll();
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('requestTimeoutMs and processingTimeoutMs count in timeouts too (expired only for the queue)', async () => {
    const { clock, batcher } = setup({ concurrency: 1, requestTimeoutMs: 10, processingTimeoutMs: 30 });
    const a = watch(batcher.process('a'));
    clock.advanceBy(1);
    const b = watch(batcher.process('b'));
    clock.advanceBy(30);
    await turn();
    expect(b.error).toBeInstanceOf(BatchTimeoutError);
    expect(a.error).toBeInstanceOf(BatchTimeoutError);
    expect(batcher.getStats()).toMatchObject({ completed: 2, timeouts: 2, expired: 1, errors: 0 });
  });

  it('refuses the signal(request) option, which only batchDedup honours, at creation and in configure()', () => {
    const signal = () => new AbortController().signal;
    expect(() => createBatcher<string, string>({ execute: (items) => items, signal })).toThrow(
      /^createBatcher: signal is an option of batchDedup; with createBatcher pass it per call: process\(request, \{ signal \}\)$/,
    );
    const batcher = createBatcher<string, string>({ execute: (items) => items });
    expect(() => batcher.configure({ signal })).toThrow(/^createBatcher\.configure: signal is an option of batchDedup/);
    void batcher.close();
  });

  it('a call whose signal is already aborted counts as a request and an error, as batchDedup counts it', async () => {
    const { clock, backend, batcher } = setup();
    const aborted = new AbortController();
    aborted.abort(new Error('gone'));
    await expect(batcher.processAll(['a', 'b'], { signal: aborted.signal })).rejects.toThrow('gone');
    clock.runAll();
    await turn();
    expect(backend.calls).toEqual([]);
    expect(batcher.getStats()).toMatchObject({ totalRequests: 2, completed: 2, errors: 2, timeouts: 0 });
  });

  it('an abort counts as an error, once, whether the request waited or was sent', async () => {
    const { clock, backend, batcher } = setup({ concurrency: 1 });
    const sent = new AbortController();
    const waiting = new AbortController();
    void batcher.process('a', { signal: sent.signal }).catch(() => undefined);
    clock.advanceBy(1);
    void batcher.process('b', { signal: waiting.signal }).catch(() => undefined);
    sent.abort(new Error('a'));
    waiting.abort(new Error('b'));
    backend.calls[0]!.answer();
    await turn();
    clock.runAll();
    await turn();
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
    expect(batcher.getStats()).toMatchObject({ totalRequests: 2, completed: 2, errors: 2, timeouts: 0 });
  });

  it('close() does not wait for an execution whose every caller timed out: it aborts it at close()', async () => {
    const { clock, backend, batcher } = setup({ processingTimeoutMs: Infinity });
    const timed = watch(batcher.process('a', { timeoutMs: 10 }));
    clock.advanceBy(10);
    await turn();
    expect(timed.error).toBeInstanceOf(BatchTimeoutError);
    const { signal } = backend.calls[0]!.context;
    expect(signal.aborted).toBe(false);
    const closing = watch(batcher.close());
    await turn();
    expect(closing.state).toBe('fulfilled');
    expect(signal.aborted).toBe(true);
  });

  it('close() aborts an abandoned execution that holds the only slot, so the request behind it runs at once', async () => {
    const { clock, backend, batcher } = setup({ concurrency: 1, processingTimeoutMs: 1e6 });
    void batcher.process('abandoned', { timeoutMs: 10 }).catch(() => undefined);
    clock.advanceBy(1);
    const live = watch(batcher.process('live'));
    clock.advanceBy(20);
    expect(backend.calls.map((c) => c.items)).toEqual([['abandoned']]);
    const closing = watch(batcher.close());
    expect(backend.calls[0]!.context.signal.aborted).toBe(true);
    expect(backend.calls.map((c) => c.items)).toEqual([['abandoned'], ['live']]);
    backend.calls[1]!.answer();
    await turn();
    await turn();
    expect(live.value).toBe('LIVE');
    expect(closing.state).toBe('fulfilled');
  });

  it('after close(), an execution is aborted as soon as its last caller times out, freeing its slot', async () => {
    const { clock, backend, batcher } = setup({ concurrency: 1, processingTimeoutMs: 1e6 });
    const timed = watch(batcher.process('a', { timeoutMs: 100 }));
    clock.advanceBy(1);
    const queued = watch(batcher.process('b'));
    const closing = watch(batcher.close());
    clock.advanceBy(50);
    await turn();
    // a's caller still waits: its execution is owed, and b waits for the slot.
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
    expect(backend.calls[0]!.context.signal.aborted).toBe(false);
    clock.advanceBy(50);
    await turn();
    expect(timed.error).toBeInstanceOf(BatchTimeoutError);
    expect(backend.calls[0]!.context.signal.aborted).toBe(true);
    expect(backend.calls.map((c) => c.items)).toEqual([['a'], ['b']]);
    expect(closing.state).toBe('pending');
    backend.calls[1]!.answer();
    await turn();
    await turn();
    expect(queued.value).toBe('B');
    expect(closing.state).toBe('fulfilled');
  });

  it.each([
    ['before', 5],
    ['after', 15],
  ])(
    'close() called %s the last request settles resolves then, even while a batch of theirs is still being deduplicated',
    async (_, closeAt) => {
      const { clock, backend, batcher } = setup({
        dedupStrategy: 'embedding',
        embed: () => new Promise<number[][]>(() => undefined),
      });
      const timed = [watch(batcher.process('x', { timeoutMs: 10 })), watch(batcher.process('y', { timeoutMs: 10 }))];
      clock.advanceBy(closeAt);
      const closing = watch(batcher.close());
      await turn();
      expect(closing.state).toBe(closeAt < 10 ? 'pending' : 'fulfilled');
      clock.advanceBy(20);
      await turn();
      expect(timed.map((t) => t.error)).toEqual([expect.any(BatchTimeoutError), expect.any(BatchTimeoutError)]);
      expect(closing.state).toBe('fulfilled');
      expect(backend.calls).toHaveLength(0);
    },
  );

  it('close() waits for an execution that a request joined in flight, though its own caller timed out', async () => {
    const { clock, backend, batcher } = setup({ dedupInFlight: true, processingTimeoutMs: Infinity });
    const first = watch(batcher.process('a', { timeoutMs: 10 }));
    clock.advanceBy(1);
    const joined = watch(batcher.process('a'));
    clock.advanceBy(20);
    await turn();
    expect(first.error).toBeInstanceOf(BatchTimeoutError);
    expect(backend.calls).toHaveLength(1);
    const closing = watch(batcher.close());
    clock.advanceBy(1000);
    await turn();
    expect(closing.state).toBe('pending');
    expect(backend.calls[0]!.context.signal.aborted).toBe(false);
    backend.calls[0]!.answer();
    await turn();
    await turn();
    expect(joined.value).toBe('A');
    expect(closing.state).toBe('fulfilled');
    expect(batcher.getStats()).toMatchObject({ totalRequests: 2, completed: 2, timeouts: 1, inFlightHits: 1 });
  });

  it('close() is bounded by processingTimeoutMs for an execution that never settles', async () => {
    const { clock, batcher } = setup({ processingTimeoutMs: 500 });
    const stuck = watch(batcher.process('a'));
    clock.advanceBy(1);
    const closing = batcher.close();
    clock.advanceBy(498);
    await turn();
    expect(stuck.state).toBe('pending');
    expect(await drain(clock, closing)).toBe(true);
    expect(stuck.error).toBeInstanceOf(BatchTimeoutError);
  });
});
