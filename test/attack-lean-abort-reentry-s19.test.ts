/**
 * H-ATK5, stop 19: a backend's abort listener that sends an equal request again, at once (a retry on the same
 * batcher), from inside the library stopping its batch. The new request has nothing to do with the stopped batch:
 * it is queued anew and answered by the next call, never with the stopped batch's error (its processing timeout,
 * or the reason of the caller whose leaving stopped it). Before the fix, `/lite`'s lean core aborted the batch's
 * signal while its slot still took joins: the new request joined the batch being stopped and was rejected with its
 * error. The lean core now stops taking joins before the signal aborts (the abort still comes before the answers,
as every ending property requires: a call owing answers is aborted by the time they are seen).

Main's engine (and `/lite` with `engine()`) had the same fault: its timed-out or refused call aborted while its
slot was still `SENT`. Answering before the abort would break test/attack-endings-s17 (a call owing answers must be
aborted when they are seen); instead the run now tells the engine's shared slots before the abort
(`BatchRunConfig.stopping`, `SharedSlots.stopping`): the slot takes no join from then on (`STOPPING`), and those
that joined before still get the call's error.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import type { ExecuteContext } from '../src/types.js';

interface Made {
  process(request: string, options?: { signal?: AbortSignal }): Promise<string>;
  close(): Promise<void>;
}
const makers: [string, (options: object) => Made][] = [
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
];

const settle = (answer: Promise<string>) =>
  answer.then(
    (value) => `=${value}`,
    (error: unknown) => `!${(error as Error).name}: ${(error as Error).message}`,
  );

describe.each(makers)('%s: an equal request sent from the abort listener of a stopped batch', (name, make) => {
    const test = it;
  /**
   * The first call never settles (or, `malformed`, answers one result too many at 5 ms), and sends 'a' again when
   * its signal aborts; the later calls answer at once.
   */
  function setup(malformed = false) {
    const clock = virtualClock();
    const calls: string[][] = [];
    const retries: Promise<string>[] = [];
    const batcher: Made = make({
      scheduler: clock.scheduler,
      windowMs: 1,
      processingTimeoutMs: 10,
      execute: (items: string[], context: ExecuteContext) => {
        calls.push(items);
        if (calls.length > 1) return items.map((item) => item.toUpperCase());
        context.signal.addEventListener('abort', () => retries.push(settle(batcher.process('a'))));
        return new Promise<string[]>((resolve) => {
          if (malformed) clock.scheduler.schedule(() => resolve([...items, 'extra']), 5);
        });
      },
    });
    return { clock, calls, retries, batcher };
  }

  test('stopped by its processing timeout: the new request is served by the next call', async () => {
    const { clock, calls, retries, batcher } = setup();
    const first = settle(batcher.process('a'));
    clock.advanceBy(1); // the batch starts
    clock.advanceBy(10); // ... and times out
    expect(await first).toMatch(/^!BatchTimeoutError/);
    expect(retries).toHaveLength(1);
    clock.advanceBy(2);
    expect(await retries[0]).toBe('=A');
    await batcher.close();
    expect(calls).toEqual([['a'], ['a']]);
  });

  test('a request that joined the call before it was stopped gets its error; the one sent from the listener does not', async () => {
    const { clock, calls, retries, batcher } = setup();
    const first = settle(batcher.process('a'));
    clock.advanceBy(1); // the batch starts
    clock.advanceBy(4);
    const joined = settle(batcher.process('a')); // joins the call in flight
    clock.advanceBy(6); // the call times out at 11
    expect(await first).toMatch(/^!BatchTimeoutError/);
    expect(await joined).toMatch(/^!BatchTimeoutError/);
    expect(retries).toHaveLength(1);
    clock.advanceBy(2);
    expect(await retries[0]).toBe('=A');
    await batcher.close();
    expect(calls).toEqual([['a'], ['a']]);
  });

  test('stopped for a malformed answer (one result too many): the new request is served by the next call', async () => {
    const { clock, calls, retries, batcher } = setup(true);
    const first = settle(batcher.process('a'));
    clock.advanceBy(1);
    clock.advanceBy(5);
    expect(await first).toMatch(/^!BatchResultMismatchError/);
    expect(retries).toHaveLength(1);
    clock.advanceBy(2);
    expect(await retries[0]).toBe('=A');
    await batcher.close();
    expect(calls).toEqual([['a'], ['a']]);
  });
});

describe('/lite lean core: an equal request sent from the abort listener of a batch its last caller left', () => {
  it('is served by the next call, never rejected with the reason of the caller who left', async () => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const retries: Promise<string>[] = [];
    const batcher = createLiteBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items, context) => {
        calls.push(items);
        if (calls.length > 1) return items.map((item) => item.toUpperCase());
        context.signal.addEventListener('abort', () => retries.push(settle(batcher.process('a'))));
        return new Promise<string[]>(() => undefined);
      },
    });
    const controller = new AbortController();
    const first = settle(batcher.process('a', { signal: controller.signal }));
    clock.advanceBy(1);
    controller.abort(new Error('the first caller left'));
    expect(await first).toBe('!Error: the first caller left');
    expect(retries).toHaveLength(1);
    clock.advanceBy(2);
    expect(await retries[0]).toBe('=A');
    await batcher.close();
    expect(calls).toEqual([['a'], ['a']]);
  });
});
