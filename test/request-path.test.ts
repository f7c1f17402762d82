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

describe('the slot an arrival is keyed into (one scratch slot, not a record per request)', () => {
  it('keeps apart a request submitted from inside the key function of another', async () => {
    const executed: string[][] = [];
    // eslint-disable-next-line prefer-const
    let batcher: ReturnType<typeof createBatcher<string, string>>;
    let inner: Promise<string> | undefined;
    batcher = createBatcher<string, string>({
      execute: (items) => {
        executed.push([...items]);
        return items.map((item) => `=${item}`);
      },
      key: (request) => {
        if (request === 'outer' && inner === undefined) inner = batcher.process('inner');
        return request;
      },
      // Two distinct items fill a batch: the second 'inner' joins the first and takes no place.
      maxSize: 2,
      windowMs: Infinity,
    });
    const again = batcher.process('inner');
    const outer = batcher.process('outer');
    await expect(Promise.all([outer, inner, again])).resolves.toEqual(['=outer', '=inner', '=inner']);
    // The second 'inner' was keyed while 'outer' was being keyed, and joined the first.
    expect(executed).toEqual([['inner', 'outer']]);
    await batcher.close();
  });

  it('gives each request that joins an equal one a record of its own slot', async () => {
    let answer: (() => void) | undefined;
    const batcher = createBatcher<{ id: string; n: number }, string>({
      execute: (items) =>
        new Promise<string[]>((resolve) => (answer = () => resolve(items.map((item) => `=${item.id}${item.n}`)))),
      key: (request) => request.id,
      dedupInFlight: true,
      maxSize: 2,
      windowMs: Infinity,
    });
    // a2 joins a1 while it waits, then b3 fills the batch; once it is sent, a4 joins a1's execution and b5 b3's.
    // Each join makes a record for its holder: were it the slot lent to every arrival, a's and b's would be one.
    const answers = Promise.all([
      batcher.process({ id: 'a', n: 1 }),
      batcher.process({ id: 'a', n: 2 }),
      batcher.process({ id: 'b', n: 3 }),
      batcher.process({ id: 'a', n: 4 }),
      batcher.process({ id: 'b', n: 5 }),
    ]);
    answer!();
    await expect(answers).resolves.toEqual(['=a1', '=a1', '=b3', '=a1', '=b3']);
    await batcher.close();
  });
});
