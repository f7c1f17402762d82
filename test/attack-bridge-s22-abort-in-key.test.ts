/**
 * H-BR, stop 22: the caller's signal aborted from inside a user function the batcher calls while it takes the
 * request in (`key(request)`, `scope(request)`, `priority(request)`). The call's abort listener answers the request
 * with the reason at once; the request must then go no further: never queued, never sent (reliability row 5: a
 * request withdrawn by its abort signal never reaches the backend). Before the fix, main and `/lite` with
 * `engine()` answered it and then queued it anyway, so the backend received it (`['x', 'y']` below) and its
 * result was dropped; the lean core already stopped there (`if (ended || entry.done)` in its push).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine, priorities } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Made {
  process(request: string, options?: { signal?: AbortSignal }): Promise<string>;
  processAll(requests: Iterable<string>, options?: { signal?: AbortSignal }): Promise<string[]>;
  close(): Promise<void>;
  getStats(): { totalRequests: number };
}
type Maker = (options: object) => Made;
const makers: [string, Maker][] = [
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
];

/** A batcher whose `key` aborts `controller` with `reason` when it keys `trigger`. */
function setup(make: Maker, controller: AbortController, reason: Error, trigger: string, extra: object = {}) {
  const clock = virtualClock();
  const calls: string[][] = [];
  const batcher = make({
    scheduler: clock.scheduler,
    windowMs: 5,
    key: (request: string) => {
      if (request === trigger) controller.abort(reason);
      return request;
    },
    execute: (items: string[]) => {
      calls.push(items);
      return items.map((item) => item.toUpperCase());
    },
    ...extra,
  });
  return { clock, calls, batcher };
}

describe.each(makers)('%s: the caller aborts from inside key(request)', (_name, make) => {
  it('process: the request is rejected with the reason and never sent; the request batched with it is served', async () => {
    const controller = new AbortController();
    const reason = new Error('caller left');
    const { clock, calls, batcher } = setup(make, controller, reason, 'x');
    const x = batcher.process('x', { signal: controller.signal }).catch((error: unknown) => error);
    const y = batcher.process('y');
    clock.advanceBy(10);
    expect(await x).toBe(reason);
    expect(await y).toBe('Y');
    await batcher.close();
    expect(calls).toEqual([['y']]);
    expect(batcher.getStats().totalRequests).toBe(2);
  });

  it('processAll: the request whose key aborted the call is not sent, nor those after it', async () => {
    const controller = new AbortController();
    const reason = new Error('caller left');
    const { clock, calls, batcher } = setup(make, controller, reason, 'b');
    const all = batcher.processAll(['a', 'b', 'c'], { signal: controller.signal }).catch((error: unknown) => error);
    clock.advanceBy(10);
    expect(await all).toBe(reason);
    await batcher.close();
    expect(calls).toEqual([]);
  });

  it('an equal request arriving after it is served by a call of its own', async () => {
    const controller = new AbortController();
    const reason = new Error('caller left');
    const { clock, calls, batcher } = setup(make, controller, reason, 'x');
    const x = batcher.process('x', { signal: controller.signal }).catch((error: unknown) => error);
    // The trigger fires once: `controller` is aborted now, and aborting again does nothing.
    const again = batcher.process('x');
    clock.advanceBy(10);
    expect(await x).toBe(reason);
    expect(await again).toBe('X');
    await batcher.close();
    expect(calls).toEqual([['x']]);
  });
});

describe('the caller aborts from inside priority(request)', () => {
  const prioritized: [string, Maker][] = [
    [
      'main',
      (options) =>
        createMainBatcher({ ...options, enablePriorities: true, enableDedup: false, priority: abortingPriority } as never) as unknown as Made,
    ],
    [
      '/lite with priorities()',
      (options) =>
        createLiteBatcher({ ...options, enableDedup: false, priorities: priorities({ priority: abortingPriority }) } as never) as unknown as Made,
    ],
  ];
  let onPriority: ((request: string) => void) | undefined;
  function abortingPriority(request: string): number {
    onPriority?.(request);
    return 1;
  }

  it.each(prioritized)('%s: the request is rejected with the reason and never sent', async (_name, make) => {
    const controller = new AbortController();
    const reason = new Error('caller left');
    onPriority = (request) => {
      if (request === 'x') controller.abort(reason);
    };
    const { clock, calls, batcher } = setup(make, new AbortController(), reason, 'none');
    const x = batcher.process('x', { signal: controller.signal }).catch((error: unknown) => error);
    const y = batcher.process('y');
    clock.advanceBy(10);
    expect(await x).toBe(reason);
    expect(await y).toBe('Y');
    await batcher.close();
    onPriority = undefined;
    expect(calls).toEqual([['y']]);
  });
});
