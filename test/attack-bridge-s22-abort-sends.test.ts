/**
 * H-BR, stop 22 (found by test/attack-bridge-s22.properties): a call's abort withdraws its requests one by one.
 * On `/lite`'s lean core, withdrawing one that executes alone stops its batch (nobody waits for it any more),
 * which frees an execution slot at once; the next batch then formed with a request of the same call that the
 * withdrawal had not reached yet, and sent it to the backend after its caller's abort (reliability row 5), only
 * to stop that batch too. The requests that wait are now withdrawn before those that execute. Main and `/lite`
 * with `engine()` (which lets an execution nobody waits for run to its end while the batcher is open) run the
 * same case.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Made {
  processAll(requests: Iterable<string>, options?: { signal?: AbortSignal }): Promise<string[]>;
  close(): Promise<void>;
}
const makers: [string, (options: object) => Made][] = [
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
];

describe.each(makers)('%s: a call aborted while some of its requests execute and one waits', (_name, make) => {
  it.each([false, true])('the waiting one is never sent (closed before the abort: %s)', async (closeFirst) => {
    const clock = virtualClock();
    const sent: string[] = [];
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 0,
      maxSize: 1,
      concurrency: 2,
      execute: (items: string[]) => {
        sent.push(...items);
        // Never answers: only the abort (or the processing timeout) ends a batch.
        return new Promise<string[]>(() => undefined);
      },
    });
    const controller = new AbortController();
    const reason = new Error('caller left');
    const all = batcher.processAll(['a', 'b', 'c'], { signal: controller.signal }).catch((error: unknown) => error);
    clock.advanceBy(1);
    // 'a' and 'b' execute (concurrency 2), 'c' waits for a slot.
    expect(sent).toEqual(['a', 'b']);
    const closed = closeFirst ? batcher.close() : undefined;
    controller.abort(reason);
    expect(await all).toBe(reason);
    expect(sent).toEqual(['a', 'b']);
    await (closed ?? batcher.close());
  });
});
