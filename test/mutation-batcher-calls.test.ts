/**
 * createBatcher's calls (src/batcher/createBatcher.ts), where a Stryker run on the file (STRYKER_TESTS=run,
 * docs/testing.md) found promises no test guarded. Each `it` names the mutants it kills.
 */
import { describe, expect, it } from 'vitest';
import { BatcherClosedError, BatchTimeoutError, createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

function setup(windowMs = 1) {
  const clock = virtualClock();
  const executed: string[][] = [];
  const batcher = createBatcher<string, string>({
    scheduler: clock.scheduler,
    windowMs,
    execute: (items) => {
      executed.push([...items]);
      return items.map((item) => `value of ${item}`);
    },
  });
  return { clock, batcher, executed };
}

describe('a call on a closed batcher', () => {
  // createBatcher's openCall `if (closed) throw` made false: a call without requests was accepted after close()
  // (submit() checks too, but a call of none submits nothing), and resolved with no results.
  it('processAll of no requests is refused with BatcherClosedError', async () => {
    const { batcher } = setup();
    await batcher.close();
    await expect(batcher.processAll([])).rejects.toBeInstanceOf(BatcherClosedError);
  });

  it('processStreaming of no requests is refused with BatcherClosedError', async () => {
    const { batcher } = setup();
    await batcher.close();
    const iterator = batcher.processStreaming([])[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBeInstanceOf(BatcherClosedError);
  });

  // createBatcher's configure `if (closed) throw` made false: a change to a closed batcher was taken silently.
  it('configure() is refused with BatcherClosedError', async () => {
    const { batcher } = setup();
    await batcher.close();
    expect(() => batcher.configure({ windowMs: 5 })).toThrow(BatcherClosedError);
  });
});

describe('a call whose deadline passes', () => {
  // createBatcher's Call: the BatchTimeoutError's message emptied.
  it('is rejected with a BatchTimeoutError that names its timeoutMs', async () => {
    const { clock, batcher, executed } = setup(100);
    const settled = await settleAll(clock, batcher.process('a', { timeoutMs: 10 }));
    expect(settled.status).toBe('rejected');
    const error = (settled as PromiseRejectedResult).reason as BatchTimeoutError;
    expect(error).toBeInstanceOf(BatchTimeoutError);
    expect(error.message).toBe('no result within 10 ms (timeoutMs)');
    expect(executed).toEqual([]);
  });
});

describe('a signal that is not an AbortSignal', () => {
  // createBatcher's checkProcessOptions: each part of `!s || typeof s.aborted !== 'boolean' ||
  // typeof s.addEventListener !== 'function'` made false, or an `||` made `&&`: a signal missing one of the two
  // was accepted (and then failed inside the call, or aborted nothing).
  it.each<[string, unknown]>([
    ['null', null],
    ['an object without addEventListener', { aborted: false }],
    ['an object whose aborted is not a boolean', { aborted: 'no', addEventListener: (): void => undefined }],
    ['an object without aborted', { addEventListener: (): void => undefined }],
  ])('%s: process() is refused with a TypeError that says so', async (_, signal) => {
    const { batcher, executed } = setup();
    await expect(batcher.process('a', { signal: signal as never })).rejects.toThrow(
      new TypeError('createBatcher.process: signal must be an AbortSignal'),
    );
    expect(executed).toEqual([]);
  });
});

describe('processStreaming', () => {
  // createBatcher's processStreaming: `ready.shift()` made `ready.pop()`: results that came in together were
  // yielded last first.
  it('yields results that come in together in the order they came', async () => {
    const { clock, batcher } = setup();
    const seen: string[] = [];
    const done = (async () => {
      for await (const result of batcher.processStreaming(['p', 'q', 'r'])) seen.push(result.request);
    })();
    await settleAll(clock, done);
    expect(seen).toEqual(['p', 'q', 'r']);
  });
});

describe('a call\'s timeoutMs in place of requestTimeoutMs', () => {
  // createBatcher's Submission `get timeoutMs()` emptied: the call's own timeoutMs no longer replaced
  // requestTimeoutMs, and a request the caller would wait for was withdrawn from the queue at requestTimeoutMs.
  it('a longer timeoutMs keeps the request queued past requestTimeoutMs: it is sent with its batch and answered', async () => {
    const clock = virtualClock();
    const executed: string[][] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 50,
      requestTimeoutMs: 10,
      execute: (items) => {
        executed.push([...items]);
        return items.map((item) => `value of ${item}`);
      },
    });
    await expect(settleAll(clock, batcher.process('a', { timeoutMs: 1000 }))).resolves.toEqual({ status: 'fulfilled', value: 'value of a' });
    expect(executed).toEqual([['a']]);
  });
});
