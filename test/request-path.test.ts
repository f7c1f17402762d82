/**
 * Issue 15, the per-request cost: what the request path leaves out, or does later, must not change what a caller
 * sees. Each test names the change it pins.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BatchTimeoutError } from '../src/errors.js';
import { createBatcher } from '../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('the processing timeout on the real clock (armed a microtask after the call starts)', () => {
  it('sets no timer for a call that answers at once', async () => {
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    // maxSize 1 and no window: the batch leaves at once, so the only timer left is the processing timeout.
    const batcher = createBatcher<string, string>({
      execute: (items) => Promise.resolve(items.map((item) => item.toUpperCase())),
      maxSize: 1,
      windowMs: Infinity,
    });
    await expect(batcher.process('a')).resolves.toBe('A');
    expect(setInterval).not.toHaveBeenCalled();
    await batcher.close();
  });

  it('still rejects a call that runs past processingTimeoutMs', async () => {
    const batcher = createBatcher<string, string>({
      execute: () => new Promise<string[]>(() => undefined),
      maxSize: 1,
      windowMs: Infinity,
      processingTimeoutMs: 5,
    });
    await expect(batcher.process('a')).rejects.toBeInstanceOf(BatchTimeoutError);
    await batcher.close();
  });

  it('counts the timeout from the start of the call, not from when the timer is armed', async () => {
    vi.useFakeTimers();
    const batcher = createBatcher<string, string>({
      // 30 ms pass inside execute itself (a backend that blocks before it returns its promise).
      execute: () => {
        vi.setSystemTime(Date.now() + 30);
        return new Promise<string[]>(() => undefined);
      },
      maxSize: 1,
      windowMs: Infinity,
      processingTimeoutMs: 50,
    });
    let outcome: unknown;
    batcher.process('a').catch((error: unknown) => (outcome = error));
    await vi.advanceTimersByTimeAsync(19);
    expect(outcome).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(outcome).toBeInstanceOf(BatchTimeoutError);
    void batcher.close();
  });
});
