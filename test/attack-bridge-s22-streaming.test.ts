/**
 * H-BR, stop 22: `processStreaming` given something that is not iterable. `processAll` refuses it naming the call
 * and what it got (`createBatcher.processAll: requests must be iterable, got null`); `processStreaming` let the
 * engine's `for...of` throw its own `TypeError: requests is not iterable`, naming neither the batcher nor the
 * call nor what was given. Main and `/lite` with `engine()` (the lean core has no `processStreaming`).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Made {
  processStreaming(requests: Iterable<string>): AsyncIterable<unknown>;
  close(): Promise<void>;
  getStats(): { totalRequests: number };
}
const makers: [string, (options: object) => Made][] = [
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
];

describe.each(makers)('%s: processStreaming of something not iterable', (_name, make) => {
  it.each([
    [null, 'null'],
    [5, '5'],
    [{ length: 2 }, 'an object'],
  ])('%s: the iteration rejects with a TypeError naming processStreaming and what it got', async (requests, shown) => {
    const clock = virtualClock();
    const batcher = make({ scheduler: clock.scheduler, windowMs: 1, execute: (items: string[]) => items });
    const iterator = batcher.processStreaming(requests as unknown as Iterable<string>)[Symbol.asyncIterator]();
    const error = (await iterator.next().catch((thrown: unknown) => thrown)) as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(`createBatcher.processStreaming: requests must be iterable, got ${shown}`);
    expect(batcher.getStats().totalRequests).toBe(0);
    await batcher.close();
  });
});
