/**
 * `processAll` over an iterable that fails: the promise it returns rejects with the iterable's error (it never
 * throws at the call), and the requests it had already taken in, which still run, never surface as unhandled
 * rejections (in Node, an unhandled rejection ends the process).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

function* failingAfter(requests: string[], error: Error): Generator<string> {
  yield* requests;
  throw error;
}

describe.each([
  ['main', createBatcher],
  ['lite', createLiteBatcher],
  // /lite on the engine (the lean core is its default).
  ['lite with engine()', ((options: object) => createLiteBatcher({ ...(options as { execute: () => [] }), engine: engine() })) as typeof createLiteBatcher],
] as const)('createBatcher (%s).processAll over an iterable that fails', (_, make) => {
  it('rejects with the iterable\'s error instead of throwing at the call', async () => {
    const clock = virtualClock();
    const batcher = make<string, string>({ scheduler: clock.scheduler, windowMs: 1, execute: (items) => items.map((q) => q.toUpperCase()) });
    const broken = new Error('iterator broke');
    let answer: Promise<string[]> | undefined;
    expect(() => (answer = batcher.processAll(failingAfter(['a', 'b'], broken)))).not.toThrow();
    await expect(answer).rejects.toBe(broken);
    clock.runAll();
    await batcher.close();
  });

  it('rejects with a TypeError for something that is not iterable', async () => {
    const batcher = make<string, string>({ windowMs: 1, execute: (items) => items });
    let answer: Promise<string[]> | undefined;
    expect(() => (answer = batcher.processAll(5 as unknown as string[]))).not.toThrow();
    await expect(answer).rejects.toBeInstanceOf(TypeError);
    await batcher.close();
  });

  it('the requests taken in before the failure still run, and their failures are not unhandled rejections', async () => {
    const clock = virtualClock();
    const executed: string[][] = [];
    const batcher = make<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items) => {
        executed.push([...items]);
        return Promise.reject(new Error('backend down'));
      },
    });
    const answer = batcher.processAll(failingAfter(['a', 'b'], new Error('iterator broke')));
    await expect(answer).rejects.toThrow('iterator broke');
    clock.runAll();
    await batcher.close();
    for (let i = 0; i < 5; i++) await turn();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(executed).toEqual([['a', 'b']]);
    expect(unhandled).toEqual([]);
  });
});
