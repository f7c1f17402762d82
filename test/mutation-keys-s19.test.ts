/**
 * The default key's refusals (keys.ts) that the stop-19 mutation run found unguarded (issue 17, H-MUT6): a request
 * nested too deeply for the tracked pass is refused, saying so, instead of with a stack overflow.
 */
import { describe, expect, it } from 'vitest';
import { stableKey } from '../src/dedup/keys.js';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

/** Arrays nested `depth` deep around a symbol, which the default key cannot encode. */
function nested(depth: number): unknown {
  let value: unknown = Symbol('leaf');
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

describe('the default key of a request nested too deeply', () => {
  it('stableKey throws a TypeError naming the depth, not a RangeError', () => {
    let thrown: unknown;
    try {
      stableKey(nested(50_000));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as Error).message).toMatch(/^the default key cannot encode a structure nested too deeply at request\[0\]\[0\]/);
  });

  it('a batcher rejects that request naming it, and answers the others', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<unknown, string>({ windowMs: 5, scheduler: clock.scheduler, execute: (items) => items.map(() => 'ok') });
    const deepCall = batcher.process(nested(50_000));
    const plainCall = batcher.process('plain');
    const deep = await settleAll(clock, deepCall);
    const plain = await settleAll(clock, plainCall);
    expect(deep).toMatchObject({ status: 'rejected', reason: { name: 'TypeError' } });
    expect(((deep as PromiseRejectedResult).reason as Error).message).toMatch(/^createBatcher: the default key cannot encode a structure nested too deeply at request\[0\]/);
    expect(plain).toEqual({ status: 'fulfilled', value: 'ok' });
  });

  it('a symbol a few levels down is named with its path', () => {
    expect(() => stableKey({ a: [1, { b: Symbol('x') }] })).toThrow(new TypeError('the default key cannot encode a symbol at request.a[1].b; pass a key function'));
  });
});
