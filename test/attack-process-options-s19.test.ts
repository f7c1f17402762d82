/**
 * H-ATK5, stop 19: a per-call option name that `process`, `processAll` or `processStreaming` does not take (a typo
 * such as `timeOutMs`) is refused with a TypeError naming it and listing the names taken, as `/lite`'s lean batcher
 * and every operator's options (reliability row 100) already did. Before the fix, main's `createBatcher` and
 * `/lite` with `engine()` ignored it: `process(q, { timeOutMs: 5 })` ran with no deadline at all. An option given
 * as `undefined` is still no option.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Made {
  process(request: string, options?: object): Promise<string>;
  processAll(requests: Iterable<string>, options?: object): Promise<string[]>;
  close(): Promise<void>;
}
const makers: [string, (options: object) => Made][] = [
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
];

describe.each(makers)('%s: a per-call option it does not take', (_name, make) => {
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

  it('process() rejects with a TypeError naming it, and sends nothing', async () => {
    const { clock, calls, batcher } = setup();
    const answer = batcher.process('a', { timeOutMs: 5 });
    clock.advanceBy(2);
    await expect(answer).rejects.toThrow(TypeError);
    await expect(answer).rejects.toThrow(/^createBatcher\.process: unknown option timeOutMs; it takes .*timeoutMs, signal, scope/);
    await batcher.close();
    expect(calls).toEqual([]);
  });

  it('processAll() rejects with a TypeError naming it, and sends nothing', async () => {
    const { clock, calls, batcher } = setup();
    const answers = batcher.processAll(['a', 'b'], { deadline: 5 });
    clock.advanceBy(2);
    await expect(answers).rejects.toThrow(/unknown option deadline/);
    await batcher.close();
    expect(calls).toEqual([]);
  });

  it('an unknown name given as undefined is no option: the request is served', async () => {
    const { clock, batcher } = setup();
    const answer = batcher.process('a', { timeOutMs: undefined });
    clock.advanceBy(2);
    expect(await answer).toBe('A');
    await batcher.close();
  });
});

describe.each(makers.slice(0, 2))('%s: processStreaming with an option it does not take', (_name, make) => {
  it('refuses it with a TypeError naming it, and sends nothing', async () => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items: string[]) => {
        calls.push(items);
        return items;
      },
    }) as Made & { processStreaming(requests: Iterable<string>, options?: object): AsyncIterable<unknown> };
    const read = async () => {
      for await (const result of batcher.processStreaming(['a'], { timeOutMs: 5 })) void result;
    };
    const reading = read();
    clock.advanceBy(2);
    await expect(reading).rejects.toThrow(/^createBatcher\.process: unknown option timeOutMs/);
    await batcher.close();
    expect(calls).toEqual([]);
  });
});
