/**
 * The default key's refusals (keys.ts) that the stop-19 mutation run found unguarded (issue 17, H-MUT6): a request
 * nested too deeply for the tracked pass is refused, saying so, instead of with a stack overflow.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { restEncoding, stableKey, TEXT_REMOVED } from '../src/dedup/keys.js';
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

describe('the default key of a request nested past the fast pass (64 levels), with nothing wrong in it', () => {
  it('is encoded by the tracked pass, as the same key for equal requests', () => {
    const a = nested(100);
    const b = nested(100);
    // Symbols cannot be encoded: arrays of numbers instead.
    let x: unknown = 1;
    let y: unknown = 1;
    for (let i = 0; i < 100; i++) {
      x = [x];
      y = [y];
    }
    expect(stableKey(x)).toBe(`${'['.repeat(100)}1${']'.repeat(100)}`);
    expect(stableKey(x)).toBe(stableKey(y));
    expect(() => stableKey(a)).toThrow(/a symbol at request(\[0\]){100}/);
    expect(() => stableKey(b)).toThrow(TypeError);
  });

  it('a batcher deduplicates two such requests', async () => {
    const clock = virtualClock();
    const executed: unknown[][] = [];
    const batcher = createBatcher<unknown, string>({
      windowMs: 5,
      scheduler: clock.scheduler,
      execute: (items) => {
        executed.push(items);
        return items.map(() => 'ok');
      },
    });
    const deep = () => JSON.parse(`${'['.repeat(80)}"q"${']'.repeat(80)}`) as unknown;
    const first = batcher.process(deep());
    const second = batcher.process(deep());
    expect(await settleAll(clock, first)).toEqual({ status: 'fulfilled', value: 'ok' });
    expect(await settleAll(clock, second)).toEqual({ status: 'fulfilled', value: 'ok' });
    expect(executed).toHaveLength(1);
    expect(executed[0]).toHaveLength(1);
  });
});

describe('plain objects of another realm', () => {
  it('encode as the plain objects they are', () => {
    const foreign = runInNewContext('({ b: [1, { c: "x" }], a: null })') as object;
    expect(Object.getPrototypeOf(foreign)).not.toBe(Object.prototype);
    expect(stableKey(foreign)).toBe(stableKey({ a: null, b: [1, { c: 'x' }] }));
  });
});

describe("the rest of a request that similarity dedup cannot encode", () => {
  it('is refused naming where, what and what to send instead', () => {
    expect(() => restEncoding('dedupBy', { query: 'x', callback: () => 1 })).toThrow(
      new TypeError(
        'dedupBy: the rest of the request (compared exactly by similarity dedup) cannot encode a function at request.callback; ' +
          'send plain data: strings, numbers, bigints, booleans, null, Dates, arrays and plain objects',
      ),
    );
  });

  it('-0 and 0 are one key', () => {
    expect(stableKey([-0, { n: -0 }])).toBe('[0,{"n":0}]');
  });
});

describe('encodings that no other value shares', () => {
  it('[false] is not [] (false has an encoding of its own)', () => {
    expect(stableKey([false])).not.toBe(stableKey([]));
    expect(stableKey({ a: false })).toBe('{"a":false}');
  });

  it('the removed text, as a string or as the mark, is not nothing', () => {
    expect(restEncoding('dedupBy', { tags: ['hi'] }, 'hi')).not.toBe(restEncoding('dedupBy', { tags: [] }, 'hi'));
    expect(restEncoding('dedupBy', [TEXT_REMOVED])).not.toBe(restEncoding('dedupBy', []));
    expect(restEncoding('dedupBy', [TEXT_REMOVED, 'hi'], 'hi')).toBe('[~,~]');
  });

  it('a function is refused as a function, at its path', () => {
    expect(() => stableKey({ f: function named() {} })).toThrow(new TypeError('the default key cannot encode a function at request.f; pass a key function'));
    expect(() => stableKey([() => 1])).toThrow(new TypeError('the default key cannot encode a function at request[0]; pass a key function'));
  });
});
