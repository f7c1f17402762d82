/**
 * Keys and scopes (src/dedup/keys.ts), where mutation testing found promises no test guarded (docs/testing.md):
 * similarity dedup keeping scopes of different types and values apart, the `cause` of the errors about a
 * user's function, the operator named in a similarity stage's message, and a string key being its own slot key.
 */
import fc from 'fast-check';
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatcher, type DedupedBatch } from '../src/index.js';
import { customSlotKey, scopeTag, type DedupScope } from '../src/dedup/keys.js';
import { dedupBy } from '../src/operators/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

/** The batch dedupBy makes of `items`, synchronously (the built-in embedder answers at once). */
function dedupOnce<T>(operator: ReturnType<typeof dedupBy<T>>, items: T[]): DedupedBatch<T> {
  let out: DedupedBatch<T> | undefined;
  of(items)
    .pipe(operator)
    .subscribe((batch) => (out = batch));
  return out!;
}

const scopes = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 6 }),
  fc.oneof(fc.integer({ min: -3, max: 3 }), fc.double({ noNaN: true })),
  fc.bigInt({ min: -3n, max: 3n }),
);
/** Scopes are the same when a Map counts them the same: `-0` is `0`, and values of different types differ. */
const sameScope = (a: DedupScope, b: DedupScope) => new Map([[a, 0]]).has(b);

describe('similarity dedup keeps scopes apart', () => {
  it('requests with the same text merge only within one scope: 1, "1" and 1n are three scopes; -0 is 0', () => {
    const scoped: DedupScope[] = [undefined, 1, '1', 1n, 2, '2', 2n, 0, -0, '', 'n1;'];
    const items = scoped.map((scope) => ({ query: 'How do I reset my password?', scope }));
    const batch = dedupOnce(dedupBy<(typeof items)[number]>({ dedupStrategy: 'embedding', scope: (r) => r.scope }), items);
    // One unique request per scope; -0 joins 0.
    expect(batch.leaderOf).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 7, 8, 9]);
    expect(batch.unique).toHaveLength(10);
  });

  it('the tag of a scope is its own and never the start of another scope\'s tag', () => {
    fc.assert(
      fc.property(scopes, scopes, (a, b) => {
        const [ta, tb] = [scopeTag(a), scopeTag(b)];
        if (sameScope(a, b)) return ta === tb;
        return !ta.startsWith(tb) && !tb.startsWith(ta);
      }),
      { numRuns: 300 },
    );
  });
});

describe('errors about a user function', () => {
  interface Ask {
    query: string;
  }
  const fail = (message: string): never => {
    throw new Error(message);
  };
  const run = async (options: { key?: (r: string) => string; scope?: (r: string) => never }) => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ windowMs: 5, scheduler: clock.scheduler, execute: (items) => items, ...options });
    return ((await settleAll(clock, batcher.process('poison'))) as PromiseRejectedResult).reason as TypeError;
  };

  it('a function that threw: the TypeError keeps what it threw as cause', async () => {
    const thrown = new Error('lookup failed');
    const error = await run({
      key: () => {
        throw thrown;
      },
    });
    expect(error.message).toBe('createBatcher: key(request) threw: lookup failed');
    expect(error.cause).toBe(thrown);
  });

  it('a function that returned a wrong value: the TypeError has no cause at all', async () => {
    const error = await run({ scope: () => null as never });
    expect(error.message).toMatch(/^createBatcher: scope\(request\) returned null; /);
    expect(error).not.toHaveProperty('cause');
  });

  it.each([
    ['text', { text: (r: Ask) => (r.query === 'x' ? fail('no text') : r.query) }, 'text(request) threw: no text'],
    ['scope', { scope: (r: Ask) => (r.query === 'x' ? fail('no tenant') : 't') }, 'scope(request) threw: no tenant'],
  ])('similarity dedup used alone: a %s function that throws is named with dedupBy', (_, options, message) => {
    const items: Ask[] = [{ query: 'x' }, { query: 'how do I reset my password' }];
    const batch = dedupOnce(dedupBy<Ask>({ dedupStrategy: 'embedding', ...options }), items);
    expect(batch.leaderOf[0]).toBe(-1);
    expect(String(batch.failures?.get(0))).toBe(`TypeError: dedupBy: ${message}`);
  });
});

describe('customSlotKey', () => {
  it('takes a string key as its own slot key, as the callers\' fast path for strings does', () => {
    const slotKey = customSlotKey('dedupBy');
    for (const key of ['', 'a', '[1]', '{"a":1}']) expect(slotKey(key)).toBe(key);
  });
});
