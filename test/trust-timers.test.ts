/**
 * Issue 11, item 3.
 *
 * - Long timers: `setTimeout`/`setInterval` fire a delay above 2^31-1 ms after about 1 ms. vitest's fake timers
 *   clamp the same way, so these tests run the real `asyncScheduler` on them: every duration the options accept
 *   is honoured exactly, and `Infinity` sets no timer.
 */
import { asyncScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBatcher, type BatchDedupOptions } from '../src/index.js';
import { BatchTimeoutError } from '../src/errors.js';
import type { ExecuteContext } from '../src/types.js';
import { MAX_TIMER_DELAY_MS, scheduleAfter } from '../src/internal/timer.js';

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
