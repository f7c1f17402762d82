/**
 * H-BR, stop 22: several calls given one signal (an HTTP handler passing its request's signal to each `process()`
 * it makes), aborted while one call's request executes alone and another's waits for a slot. Each call had its own
 * abort listener; the first one withdrew the executing request, which stopped its batch (nobody waits for it any
 * more: on `/lite`'s lean core always, on the engine once `close()` was called) and freed the slot at once; the
 * next batch then took the waiting request, whose caller had left too (its listener had not run yet), and sent it
 * to the backend (reliability row 5). Now the lean core's batch leaves out a request whose call's signal has
 * aborted, and answers it with the reason; main and `/lite` with `engine()` keep one listener per signal, which
 * answers every call given it before anything is stopped. Found while fixing test/attack-bridge-s22-abort-sends
 * (the same within one call).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Made {
  process(request: string, options?: { signal?: AbortSignal }): Promise<string>;
  close(): Promise<void>;
}
const makers: [string, (options: object) => Made][] = [
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
];

describe.each(makers)('%s: two calls sharing one signal, aborted while one executes and the other waits', (_name, make) => {
  function setup() {
    const clock = virtualClock();
    const sent: string[] = [];
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 0,
      maxSize: 1,
      concurrency: 1,
      execute: (items: string[]) => {
        sent.push(...items);
        // Never answers: only the abort (or the processing timeout) ends a batch.
        return new Promise<string[]>(() => undefined);
      },
    });
    return { clock, sent, batcher };
  }

  it.each([false, true])('the waiting one is never sent, and both reject with the reason (closed first: %s)', async (closeFirst) => {
    const { clock, sent, batcher } = setup();
    const controller = new AbortController();
    const reason = new Error('caller left');
    const a = batcher.process('a', { signal: controller.signal }).catch((error: unknown) => error);
    const b = batcher.process('b', { signal: controller.signal }).catch((error: unknown) => error);
    clock.advanceBy(1);
    expect(sent).toEqual(['a']);
    const closed = closeFirst ? batcher.close() : undefined;
    controller.abort(reason);
    expect([await a, await b]).toEqual([reason, reason]);
    expect(sent).toEqual(['a']);
    await (closed ?? batcher.close());
  });

  it('a request of another caller waiting behind it is sent, in a batch of its own', async () => {
    const { clock, sent, batcher } = setup();
    const controller = new AbortController();
    const reason = new Error('caller left');
    const a = batcher.process('a', { signal: controller.signal }).catch((error: unknown) => error);
    const b = batcher.process('b', { signal: controller.signal }).catch((error: unknown) => error);
    void batcher.process('c').catch(() => undefined);
    clock.advanceBy(1);
    controller.abort(reason);
    expect([await a, await b]).toEqual([reason, reason]);
    // At once on the lean core (it stops the batch nobody waits for); on the engine once that batch times out.
    clock.advanceBy(30_001);
    expect(sent).toEqual(['a', 'c']);
    const closing = batcher.close();
    clock.advanceBy(40_000);
    await closing;
  });
});
