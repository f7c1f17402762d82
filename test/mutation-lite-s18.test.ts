/**
 * `/lite`'s createBatcher on the lean core (src/lite/bridge.ts): the per-call `signal` is checked as main's is.
 * Kills the survivors of stop 18's Stryker run on src/lite: bridge.ts:114 (the shape check of a call's signal,
 * eight mutants) and :127-129 (no coverage: addEventListener that throws).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';

const up = (xs: readonly string[]) => xs.map((x) => x.toUpperCase());
const listener = () => {};

const BAD_SIGNALS: [string, unknown][] = [
  ['null', null],
  ['a string', 'x'],
  ['an empty object', {}],
  ['aborted not a boolean', { aborted: 'no', addEventListener: listener, removeEventListener: listener }],
  ['no addEventListener', { aborted: false, removeEventListener: listener }],
  ['no removeEventListener', { aborted: false, addEventListener: listener }],
];

describe("/lite createBatcher (lean core): a call's signal", () => {
  it.each(BAD_SIGNALS)('that is %s is refused naming signal, and nothing is executed', async (_, signal) => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: (xs) => (calls.push([...xs]), up(xs)) });
    await expect(batcher.process('a', { signal: signal as AbortSignal })).rejects.toThrow(/^createBatcher\.process: signal must be an AbortSignal$/);
    clock.advanceBy(10);
    expect(calls).toEqual([]);
    const closed = batcher.close();
    clock.runAll();
    await closed;
  });

  it('whose addEventListener throws: process() rejects with a TypeError naming it, with the cause, and the next call is served', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const broken = new Error('addEventListener is broken');
    const signal = {
      aborted: false,
      addEventListener: () => {
        throw broken;
      },
      removeEventListener: listener,
    } as unknown as AbortSignal;
    const refused = batcher.process('a', { signal }).catch((error: unknown) => error);
    const served = batcher.process('b');
    clock.advanceBy(10);
    const error = (await refused) as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/^createBatcher\.process: signal\.addEventListener\('abort'\) threw: .*addEventListener is broken/);
    expect(error.cause).toBe(broken);
    await expect(served).resolves.toBe('B');
    const closed = batcher.close();
    clock.runAll();
    await closed;
  });
});
