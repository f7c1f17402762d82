/**
 * H-ATK5, stop 19: `processAll(requests, { signal })` whose iterable aborts the signal while it is read. The
 * requests it yields after the abort meet an aborted signal: they are rejected with its reason without being
 * queued, as `process()` with an aborted signal is, and never reach the backend. Before the fix, `/lite`'s lean
 * batcher read the signal once, when the call opened: the requests yielded after the abort were queued and sent to
 * the backend (`['b', 'c']` below), their answers dropped by the rejected `Promise.all`. Main and `/lite` with
 * `engine()` run the same cases.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Made {
  process(request: string, options?: { signal?: AbortSignal }): Promise<string>;
  processAll(requests: Iterable<string>, options?: { signal?: AbortSignal }): Promise<string[]>;
  close(): Promise<void>;
  getStats(): { totalRequests: number };
}
const makers: [string, (options: object) => Made][] = [
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
];

/** Yields `before`, aborts `controller` with `reason`, then yields `after`. */
function* abortingAfter(before: string[], controller: AbortController, reason: unknown, after: string[]): Generator<string> {
  yield* before;
  controller.abort(reason);
  yield* after;
}

describe.each(makers)('%s: processAll whose iterable aborts its signal', (_name, make) => {
  function setup() {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items: string[]) => {
        calls.push(items);
        return items.map((item) => item.toUpperCase());
      },
    });
    return { clock, calls, batcher };
  }

  it('the requests yielded after the abort are never sent; the call rejects with the reason', async () => {
    const { clock, calls, batcher } = setup();
    const controller = new AbortController();
    const reason = new Error('caller left');
    const all = batcher.processAll(abortingAfter(['a'], controller, reason, ['b', 'c']), { signal: controller.signal }).catch((error: unknown) => error);
    clock.advanceBy(5);
    expect(await all).toBe(reason);
    await batcher.close();
    expect(calls).toEqual([]);
    expect(batcher.getStats().totalRequests).toBe(3);
  });

  it('a request yielded after the abort, equal to one of another caller waiting, keeps nothing alive: that caller leaving, nothing is sent', async () => {
    const { clock, calls, batcher } = setup();
    const otherController = new AbortController();
    const other = batcher.process('b', { signal: otherController.signal }).catch((error: unknown) => error);
    const controller = new AbortController();
    const reason = new Error('caller left');
    const all = batcher.processAll(abortingAfter(['a'], controller, reason, ['b']), { signal: controller.signal }).catch((error: unknown) => error);
    const otherReason = new Error('other caller left');
    otherController.abort(otherReason);
    clock.advanceBy(5);
    expect(await all).toBe(reason);
    expect(await other).toBe(otherReason);
    await batcher.close();
    expect(calls).toEqual([]);
  });
});
