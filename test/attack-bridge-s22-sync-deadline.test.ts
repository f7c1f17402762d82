/**
 * H-BR, stop 22: a per-call `timeoutMs: 0` on a scheduler that runs a zero delay at once (RxJS's `queueScheduler`,
 * a valid `SchedulerLike` the options accept). The call's deadline timer is set when the call opens, before its
 * requests are submitted: on such a scheduler it fires right there, finds no request to withdraw, and was lost:
 * the request then waited with no deadline at all (for ever against a backend that never answers, with
 * `processingTimeoutMs: Infinity`), and `close()` with it. A call whose deadline has passed must refuse what it
 * submits after, with its `BatchTimeoutError`, as a call whose signal aborted does (reliability row 120), on main,
 * `/lite` with `engine()` and the lean core.
 */
import { queueScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError } from '../src/errors.js';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';

interface Made {
  process(request: string, options?: { timeoutMs?: number }): Promise<string>;
  processAll(requests: Iterable<string>, options?: { timeoutMs?: number }): Promise<string[]>;
  close(): Promise<void>;
  getStats(): { totalRequests: number; timeouts?: number };
}
const makers: [string, (options: object) => Made][] = [
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
];

/** Settles `promise` within a few microtask turns, or reports it pending. */
async function settledSoon<T>(promise: Promise<T>): Promise<{ value: T } | { error: unknown } | 'pending'> {
  let outcome: { value: T } | { error: unknown } | 'pending' = 'pending';
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return outcome;
}

describe.each(makers)('%s: timeoutMs 0 on a scheduler that runs a zero delay at once', (_name, make) => {
  function setup() {
    const calls: string[][] = [];
    const batcher = make({
      scheduler: queueScheduler,
      windowMs: 0,
      processingTimeoutMs: Infinity,
      execute: (items: string[]) => {
        calls.push(items);
        return new Promise<string[]>(() => undefined);
      },
    });
    return { calls, batcher };
  }

  it('process: rejects with BatchTimeoutError, and close() resolves', async () => {
    const { batcher } = setup();
    const outcome = await settledSoon(batcher.process('x', { timeoutMs: 0 }));
    expect(outcome).toEqual({ error: expect.any(BatchTimeoutError) });
    expect(await settledSoon(batcher.close())).toEqual({ value: undefined });
  });

  it('processAll: rejects with BatchTimeoutError, and close() resolves', async () => {
    const { batcher } = setup();
    const outcome = await settledSoon(batcher.processAll(['a', 'b'], { timeoutMs: 0 }));
    expect(outcome).toEqual({ error: expect.any(BatchTimeoutError) });
    expect(await settledSoon(batcher.close())).toEqual({ value: undefined });
  });

  it('the expired request is counted once, as a request and (where counted) as a timeout', async () => {
    const { batcher } = setup();
    await settledSoon(batcher.process('x', { timeoutMs: 0 }));
    const stats = batcher.getStats();
    expect(stats.totalRequests).toBe(1);
    if (stats.timeouts !== undefined) expect(stats.timeouts).toBe(1);
    await settledSoon(batcher.close());
  });
});
