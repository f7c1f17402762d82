/**
 * Keys and scopes you can trust (issue 11 items 1, 2, 5 and the default-key part of 14): what `key` and `scope` may
 * return and how values of each type compare, that no (scope, key) pair can pose as another in dedup, in-flight
 * dedup or the result cache, that a live `configure()` of anything dedup depends on leaves nothing of the old
 * settings to answer a new request, and what the default key counts as equal.
 */
import { map, timer } from 'rxjs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { createBatcher, stableKey, type BatchDedupOptions, type DedupKey, type DedupScope } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

interface Q {
  readonly label: string;
  readonly t?: unknown;
  readonly k?: unknown;
  readonly text?: string;
}

/** A batcher whose backend answers `for <label>` after 10 ms and records every call. */
function echoBatcher(options: Partial<BatchDedupOptions<Q, string>> = {}) {
  const clock = virtualClock();
  const calls: string[][] = [];
  const batcher = createBatcher<Q, string>({
    windowMs: 0,
    scheduler: clock.scheduler,
    key: (q) => q.k as DedupKey,
    scope: (q) => q.t as DedupScope,
    ...options,
    execute: (items) => {
      calls.push(items.map((q) => q.label));
      return timer(10, clock.scheduler).pipe(map(() => items.map((q) => `for ${q.label}`)));
    },
  });
  return { clock, calls, batcher };
}

type Mode = 'in flight' | 'result cache' | 'same batch';
const MODES: Mode[] = ['in flight', 'result cache', 'same batch'];

/** Sends `a` then `b` so that `b` could reuse `a`'s execution in the given way; returns both answers. */
async function sendPair(mode: Mode, a: Q, b: Q, options: Partial<BatchDedupOptions<Q, string>> = {}) {
  const { clock, calls, batcher } = echoBatcher({
    ...(mode === 'in flight' && { dedupInFlight: true }),
    ...(mode === 'result cache' && { resultCache: { ttlMs: 1000 } }),
    ...(mode === 'same batch' && { windowMs: 5 }),
    ...options,
  });
  const first = batcher.process(a);
  if (mode === 'in flight') clock.advanceBy(2); // a is executing
  if (mode === 'result cache') await settleAll(clock, first); // a is cached
  const second = batcher.process(b);
  const answers = await settleAll(clock, Promise.all([first, second]));
  return { answers, calls };
}

describe('item 1: a (scope, key) pair never poses as another, whatever the types', () => {
  const distinct: [name: string, a: Omit<Q, 'label'>, b: Omit<Q, 'label'>][] = [
    ["tenant 1 with key '1x' and tenant 11 with key 'x'", { t: 1, k: '1x' }, { t: 11, k: 'x' }],
    ["tenant '1' with key '1x' and tenant '11' with key 'x'", { t: '1', k: '1x' }, { t: '11', k: 'x' }],
    ["numeric scope 1 and string scope '1'", { t: 1, k: 'x' }, { t: '1', k: 'x' }],
    ['scope 1 and scope 1n', { t: 1, k: 'x' }, { t: 1n, k: 'x' }],
    ['no scope and scope "undefined"', { k: 'x' }, { t: 'undefined', k: 'x' }],
    ["key ['a,b'] and key ['a', 'b']", { k: ['a,b'] }, { k: ['a', 'b'] }],
    ["key '1' and key 1", { k: '1' }, { k: 1 }],
    ['key 1 and key 1n', { k: 1 }, { k: 1n }],
    ['key true and key "true"', { k: true }, { k: 'true' }],
    ['key null and key "null"', { k: null }, { k: 'null' }],
    ['key [\'a\'] and key \'["a"]\' (its JSON)', { k: ['a'] }, { k: '["a"]' }],
    ['key {a: 1} and key \'{"a":1}\' (its JSON)', { k: { a: 1 } }, { k: '{"a":1}' }],
    ['key [1, 2] and key [2, 1]', { k: [1, 2] }, { k: [2, 1] }],
    ['key {a: [1]} and key {a: 1}', { k: { a: [1] } }, { k: { a: 1 } }],
    ['key [] and key {}', { k: [] }, { k: {} }],
  ];
  const equal: [name: string, a: Omit<Q, 'label'>, b: Omit<Q, 'label'>][] = [
    ['key {a: 1, b: 2} and key {b: 2, a: 1}', { k: { a: 1, b: 2 } }, { k: { b: 2, a: 1 } }],
    ['two arrays [1, [2, 3n]] with the same elements', { k: [1, [2, 3n]] }, { k: [1, [2, 3n]] }],
    ['key {a: 1, b: undefined} and key {a: 1}', { k: { a: 1, b: undefined } }, { k: { a: 1 } }],
    ['key 0 and key -0', { k: 0 }, { k: -0 }],
    ['scope 7 and scope 7', { t: 7, k: 'x' }, { t: 7, k: 'x' }],
    ['scope 7n and scope 7n', { t: 7n, k: 'x' }, { t: 7n, k: 'x' }],
  ];

  for (const mode of MODES) {
    it.each(distinct)(`${mode}: %s never share an answer`, async (_, a, b) => {
      const { answers, calls } = await sendPair(mode, { ...a, label: 'a' }, { ...b, label: 'b' });
      expect(answers).toEqual({ status: 'fulfilled', value: ['for a', 'for b'] });
      expect(calls.flat().sort()).toEqual(['a', 'b']);
    });

    it.each(equal)(`${mode}: %s are equal, executed once`, async (_, a, b) => {
      const { answers, calls } = await sendPair(mode, { ...a, label: 'a' }, { ...b, label: 'b' });
      expect(answers).toEqual({ status: 'fulfilled', value: ['for a', 'for a'] });
      expect(calls.flat()).toEqual(['a']);
    });
  }

  class Point {
    constructor(readonly x: number) {}
  }
  const loop: unknown[] = [];
  loop.push(loop);
  const badKeys: [what: string, key: unknown, message: RegExp][] = [
    ['NaN', Number.NaN, /returned NaN;/],
    ['Infinity', Infinity, /returned Infinity;/],
    ['-Infinity', -Infinity, /returned -Infinity;/],
    ['undefined', undefined, /returned undefined;/],
    ['a symbol', Symbol('s'), /returned a symbol;/],
    ['a function', () => 1, /returned a function;/],
    ['a Map', new Map([['a', 1]]), /returned an instance of Map;/],
    ['a Set', new Set([1]), /returned an instance of Set;/],
    ['a Date', new Date(0), /returned an instance of Date;/],
    ['a class instance', new Point(1), /returned an instance of Point;/],
    ['NaN inside an array', ['a', Number.NaN], /returned NaN at key\[1\];/],
    ['undefined inside an array', [undefined], /returned undefined at key\[0\];/],
    ['a symbol inside an object', { a: { 'b c': Symbol('s') } }, /returned a symbol at key\.a\["b c"\];/],
    ['a circular array', loop, /returned a circular reference at key\[0\];/],
  ];

  for (const shortcut of [false, true]) {
    it.each(badKeys)(
      `a key that returns %s rejects that request alone with a TypeError naming key(request)${shortcut ? ' (with dedupInFlight)' : ''}`,
      async (_, key, message) => {
        const { clock, batcher } = echoBatcher({ dedupInFlight: shortcut, windowMs: 5 });
        const bad = batcher.process({ label: 'bad', k: key });
        const good = batcher.process({ label: 'good', k: 'g' });
        const outcome = await settleAll(clock, bad);
        expect(outcome.status).toBe('rejected');
        const error = (outcome as PromiseRejectedResult).reason as Error;
        expect(error).toBeInstanceOf(TypeError);
        expect(error.message).toMatch(/^createBatcher: key\(request\) returned /);
        expect(error.message).toMatch(message);
        expect(error.message).toMatch(/a key may be a string, a finite number, a bigint, a boolean, null, or an array or plain object of these/);
        expect(await settleAll(clock, good)).toEqual({ status: 'fulfilled', value: 'for good' });
      },
    );
  }

  const badScopes: [what: string, scope: unknown, message: RegExp][] = [
    ['null', null, /returned null;/],
    ['true', true, /returned true;/],
    ['NaN', Number.NaN, /returned NaN;/],
    ['an object', { tenant: 1 }, /returned an object;/],
    ['an array', ['t'], /returned an array;/],
    ['a symbol', Symbol('t'), /returned a symbol;/],
  ];
  for (const strategy of ['exact', 'embedding'] as const) {
    it.each(badScopes)(`a scope that returns %s rejects that request alone (${strategy})`, async (_, scope, message) => {
      const { clock, batcher } = echoBatcher({ windowMs: 5, dedupStrategy: strategy });
      const bad = batcher.process({ label: 'bad', t: scope, k: 'x', text: 'same' });
      const good = batcher.process({ label: 'good', t: 'a', k: 'x', text: 'same' });
      const outcome = await settleAll(clock, bad);
      const error = (outcome as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(/^createBatcher: scope\(request\) returned /);
      expect(error.message).toMatch(message);
      expect(error.message).toMatch(/a scope may be a string, a number \(not NaN\) or a bigint, or undefined for no scope/);
      expect(await settleAll(clock, good)).toEqual({ status: 'fulfilled', value: 'for good' });
    });
  }

  it('process(request, { scope }) takes strings, numbers and bigints, each its own scope', async () => {
    const { clock, calls, batcher } = echoBatcher({ windowMs: 5, scope: undefined });
    const all = Promise.all([
      batcher.process({ label: 'n', k: 'x' }, { scope: 1 }),
      batcher.process({ label: 's', k: 'x' }, { scope: '1' }),
      batcher.process({ label: 'b', k: 'x' }, { scope: 1n }),
      batcher.process({ label: 'n again', k: 'x' }, { scope: 1 }),
    ]);
    expect(await settleAll(clock, all)).toEqual({ status: 'fulfilled', value: ['for n', 'for s', 'for b', 'for n'] });
    expect(calls.flat()).toEqual(['n', 's', 'b']);
  });

  it.each([
    ['NaN', Number.NaN],
    ['null', null],
    ['an object', {}],
    ['true', true],
  ])('process(request, { scope: %s }) is refused, naming the allowed types', async (_, scope) => {
    const { batcher } = echoBatcher();
    await expect(batcher.process({ label: 'x', k: 'x' }, { scope: scope as never })).rejects.toThrow(
      /createBatcher\.process: scope must be a string, a number \(not NaN\) or a bigint/,
    );
  });
});

describe('item 2: after configure() of anything dedup depends on, nothing of the old settings answers a new request', () => {
  interface Change {
    readonly name: string;
    /** Options at creation. */
    readonly before: Partial<BatchDedupOptions<Q, string>>;
    readonly change: Partial<BatchDedupOptions<Q, string>>;
    /**
     * Two requests. For key and scope, `b` under the new settings has what `a` had under the old ones (what a table
     * kept from before would match) while the two differ under the new settings.
     */
    readonly a: Q;
    readonly b: Q;
  }
  const changes: Change[] = [
    {
      name: 'key',
      before: { key: (q) => (q.k as { x: string }).x },
      change: { key: (q) => (q.k as { y: string }).y },
      a: { label: 'a', k: { x: '1', y: '2' } },
      b: { label: 'b', k: { x: '3', y: '1' } },
    },
    {
      name: 'scope',
      before: { scope: (q) => (q.t as { x: string }).x },
      change: { scope: (q) => (q.t as { y: string }).y },
      a: { label: 'a', t: { x: 'ann', y: 'bob' }, k: 'q' },
      b: { label: 'b', t: { x: 'cy', y: 'ann' }, k: 'q' },
    },
    { name: 'dedupStrategy', before: {}, change: { dedupStrategy: 'hybrid' }, a: { label: 'a', k: 'q', text: 'q' }, b: { label: 'b', k: 'q', text: 'q' } },
    { name: 'dedupThreshold', before: {}, change: { dedupThreshold: 0.5 }, a: { label: 'a', k: 'q' }, b: { label: 'b', k: 'q' } },
    { name: 'enableDedup', before: {}, change: { enableDedup: false }, a: { label: 'a', k: 'q' }, b: { label: 'b', k: 'q' } },
    { name: 'execute', before: {}, change: {}, a: { label: 'a', k: 'q' }, b: { label: 'b', k: 'q' } },
  ];

  function batcherFor(change: Change, options: Partial<BatchDedupOptions<Q, string>>) {
    const built = echoBatcher({ ...change.before, ...options });
    const configure = () => {
      if (change.name !== 'execute') {
        built.batcher.configure(change.change);
        return;
      }
      // A new backend: results of the old one must not answer requests sent after the switch.
      built.batcher.configure({
        execute: (items) => {
          built.calls.push(items.map((q) => q.label));
          return timer(10, built.clock.scheduler).pipe(map(() => items.map((q) => `v2 for ${q.label}`)));
        },
      });
    };
    return { ...built, configure };
  }
  const own = (change: Change, q: Q) => `${change.name === 'execute' ? 'v2 ' : ''}for ${q.label}`;

  it.each(changes)('configure({ $name }) while an equal request executes: a new request does not join it', async (change) => {
    const { clock, calls, batcher, configure } = batcherFor(change, { dedupInFlight: true });
    const first = batcher.process(change.a);
    clock.advanceBy(2);
    const joined = batcher.process({ ...change.a, label: 'a2' }); // before the change: joins a's execution
    configure();
    const second = batcher.process(change.b);
    const answers = await settleAll(clock, Promise.all([first, joined, second]));
    expect(answers).toEqual({ status: 'fulfilled', value: ['for a', 'for a', own(change, change.b)] });
    expect(calls.flat()).toEqual(['a', 'b']);
  });

  it.each(changes)('configure({ $name }) after a result was cached: a new request is not answered from the cache', async (change) => {
    const { clock, calls, batcher, configure } = batcherFor(change, { resultCache: { ttlMs: 1000 } });
    expect(await settleAll(clock, batcher.process(change.a))).toEqual({ status: 'fulfilled', value: 'for a' });
    configure();
    expect(await settleAll(clock, batcher.process(change.b))).toEqual({ status: 'fulfilled', value: own(change, change.b) });
    expect(calls.flat()).toEqual(['a', 'b']);
  });

  it('configure({ key }) while a request executes: its result is not cached under the new key', async () => {
    const change = changes[0]!;
    const { clock, calls, batcher, configure } = batcherFor(change, { resultCache: { ttlMs: 1000 } });
    const first = batcher.process(change.a);
    clock.advanceBy(2);
    configure(); // a finishes under the new key
    expect(await settleAll(clock, first)).toEqual({ status: 'fulfilled', value: 'for a' });
    expect(await settleAll(clock, batcher.process(change.b))).toEqual({ status: 'fulfilled', value: 'for b' });
    expect(calls.flat()).toEqual(['a', 'b']);
  });

  it.each([{ windowMs: 3 }, { concurrency: 2 }, { processingTimeoutMs: 5000 }, { maxQueueSize: 10 }])(
    'configure(%o), which dedup does not depend on, keeps the cache and the executions to join',
    async (change) => {
      const { clock, calls, batcher } = echoBatcher({ dedupInFlight: true, resultCache: { ttlMs: 1000 } });
      const first = batcher.process({ label: 'a', k: 'q' });
      clock.advanceBy(2);
      batcher.configure(change);
      const joined = batcher.process({ label: 'b', k: 'q' });
      expect(await settleAll(clock, Promise.all([first, joined]))).toEqual({ status: 'fulfilled', value: ['for a', 'for a'] });
      expect(await settleAll(clock, batcher.process({ label: 'c', k: 'q' }))).toEqual({ status: 'fulfilled', value: 'for a' });
      expect(calls.flat()).toEqual(['a']);
    },
  );

  it('a configure() that passes the same key function again keeps the cache', async () => {
    const key = (q: Q) => q.k as string;
    const { clock, calls, batcher } = echoBatcher({ key, resultCache: { ttlMs: 1000 } });
    await settleAll(clock, batcher.process({ label: 'a', k: 'q' }));
    batcher.configure({ key, windowMs: 1 });
    expect(await settleAll(clock, batcher.process({ label: 'b', k: 'q' }))).toEqual({ status: 'fulfilled', value: 'for a' });
    expect(calls.flat()).toEqual(['a']);
  });
});

describe('item 5: the default key', () => {
  const loop: Record<string, unknown> = { text: 'loop' };
  loop['self'] = loop;
  class Dto {
    constructor(readonly q: string) {}
  }
  const equal: [a: unknown, b: unknown][] = [
    [{ a: 1, b: 2 }, { b: 2, a: 1 }],
    [Number.NaN, Number.NaN],
    [0, -0],
    [{ n: -0 }, { n: 0 }],
    [12345678901234567890n, 12345678901234567890n],
    [new Date(5), new Date(5)],
    [{ a: 1, b: undefined }, { a: 1 }],
    [[{ x: [1, { y: 'z' }] }], [{ x: [1, { y: 'z' }] }]],
    [Object.assign(Object.create(null) as object, { a: 1 }), { a: 1 }],
    ['', ''],
    [undefined, undefined],
  ];
  const distinct: [a: unknown, b: unknown][] = [
    [Number.NaN, null],
    [Infinity, null],
    [-Infinity, null],
    [Infinity, -Infinity],
    [Number.NaN, Infinity],
    [{ n: Number.NaN }, { n: null }],
    [[Infinity], [null]],
    [1n, 1],
    [{ id: 1n }, { id: 1 }],
    [{ id: 1n }, { id: '1' }],
    ['1', 1],
    ['1n', 1n],
    [new Date(0), '1970-01-01T00:00:00.000Z'],
    [new Date(0), 0],
    [{ at: new Date(0) }, { at: new Date(0).toISOString() }],
    [[undefined], [null]],
    [[undefined], []],
    [undefined, null],
    [undefined, 'undefined'],
    [[1, 2], [2, 1]],
    [{ a: [1] }, { a: 1 }],
    [[], {}],
    ['{"a":1}', { a: 1 }],
    [true, 'true'],
  ];

  it.each(equal)('%o and %o are equal: one key, executed once', async (a, b) => {
    expect(stableKey(a)).toBe(stableKey(b));
    const clock = virtualClock();
    const calls: unknown[][] = [];
    const batcher = createBatcher<unknown, number>({
      windowMs: 5,
      scheduler: clock.scheduler,
      execute: (items) => {
        calls.push(items);
        return items.map((_, i) => i);
      },
    });
    expect(await settleAll(clock, Promise.all([batcher.process(a), batcher.process(b)]))).toEqual({ status: 'fulfilled', value: [0, 0] });
    expect(calls).toEqual([[a]]);
  });

  it.each(distinct)('%o and %o are different keys, executed apart', async (a, b) => {
    expect(stableKey(a)).not.toBe(stableKey(b));
    const clock = virtualClock();
    const batcher = createBatcher<unknown, unknown>({ windowMs: 5, scheduler: clock.scheduler, dedupInFlight: true, execute: (items) => items });
    const answers = await settleAll(clock, Promise.all([batcher.process(a), batcher.process(b)]));
    expect(answers.status).toBe('fulfilled');
    const [x, y] = (answers as PromiseFulfilledResult<unknown[]>).value;
    expect(x).toBe(a);
    expect(y).toBe(b);
  });

  const unencodable: [what: string, request: unknown, message: RegExp][] = [
    ['a symbol', Symbol('s'), /the default key cannot encode a symbol at request; pass a key function/],
    ['a function', () => 1, /cannot encode a function at request;/],
    ['a symbol in a field', { q: 'x', tag: Symbol('t') }, /cannot encode a symbol at request\.tag;/],
    ['a method', { q: 'x', run() {} }, /cannot encode a function at request\.run;/],
    ['a Map', { q: 'x', opts: new Map() }, /cannot encode an instance of Map at request\.opts;/],
    ['a Set in an array', { q: 'x', ids: [1, new Set()] }, /cannot encode an instance of Set at request\.ids\[1\];/],
    ['a class instance', new Dto('x'), /cannot encode an instance of Dto at request;/],
    ['a typed array', { v: new Uint8Array(2) }, /cannot encode an instance of Uint8Array at request\.v;/],
    ['a circular reference', loop, /cannot encode a circular reference at request\.self;/],
  ];

  it.each(unencodable)('%s: stableKey throws a TypeError naming the default key, the value, where, and the fix', (_, request, message) => {
    expect(() => stableKey(request)).toThrow(TypeError);
    expect(() => stableKey(request)).toThrow(message);
  });

  for (const options of [{}, { dedupInFlight: true }, { dedupStrategy: 'hybrid' as const }, { dedupStrategy: 'embedding' as const }]) {
    it.each(unencodable)(`%s: only that request is rejected, never as "key(request) threw" (${JSON.stringify(options)})`, async (_, request, message) => {
      const clock = virtualClock();
      const batcher = createBatcher<unknown, string>({
        windowMs: 5,
        scheduler: clock.scheduler,
        ...options,
        text: () => 'same text',
        execute: (items) => items.map(() => 'ok'),
      });
      const bad = batcher.process(request);
      const good = batcher.process({ q: 'fine' });
      const outcome = await settleAll(clock, bad);
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).not.toMatch(/key\(request\) threw/);
      // The similarity strategies compare the rest of the request by the same rules.
      expect(error.message).toMatch(options.dedupStrategy === 'embedding' ? /cannot encode/ : message);
      expect(await settleAll(clock, good)).toEqual({ status: 'fulfilled', value: 'ok' });
    });
  }

  it("stableKey called inside a key function: its error is reported as that key's throw", async () => {
    const clock = virtualClock();
    const batcher = createBatcher<unknown, string>({ windowMs: 5, scheduler: clock.scheduler, key: (r) => stableKey(r), execute: (items) => items.map(() => 'ok') });
    const outcome = await settleAll(clock, batcher.process(loop));
    expect((outcome as PromiseRejectedResult).reason).toMatchObject({
      message: 'createBatcher: key(request) threw: the default key cannot encode a circular reference at request.self; pass a key function',
    });
  });

  it('BigInt requests (database ids) are keyed by value', async () => {
    const clock = virtualClock();
    const calls: unknown[][] = [];
    const batcher = createBatcher<unknown, string>({
      windowMs: 5,
      scheduler: clock.scheduler,
      execute: (items) => {
        calls.push(items);
        return items.map((id) => `row ${String(id)}`);
      },
    });
    const all = Promise.all([batcher.process(9007199254740993n), batcher.process({ id: 2n }), batcher.process(9007199254740993n), batcher.process(9007199254740992)]);
    expect(await settleAll(clock, all)).toEqual({
      status: 'fulfilled',
      value: ['row 9007199254740993', 'row [object Object]', 'row 9007199254740993', 'row 9007199254740992'],
    });
    expect(calls).toEqual([[9007199254740993n, { id: 2n }, 9007199254740992]]);
  });

  it('stableKey stays canonical JSON for JSON data', () => {
    expect(stableKey({ b: [1, 'x', null, true], a: { d: 1.5, c: -0 } })).toBe('{"a":{"c":0,"d":1.5},"b":[1,"x",null,true]}');
    expect(stableKey('a"b')).toBe('"a\\"b"');
  });

  describe('the similarity strategies compare the rest of the request by the same rules', () => {
    it.each([
      [{ query: 'same', n: Number.NaN }, { query: 'same', n: null }],
      [{ query: 'same', id: 1n }, { query: 'same', id: 1 }],
      [{ query: 'same', at: new Date(0) }, { query: 'same', at: new Date(0).toISOString() }],
    ])('%o and %o are never merged', async (a, b) => {
      const clock = virtualClock();
      const batcher = createBatcher<unknown, unknown>({ windowMs: 5, scheduler: clock.scheduler, dedupStrategy: 'embedding', execute: (items) => items });
      const answers = await settleAll(clock, Promise.all([batcher.process(a), batcher.process(b)]));
      expect(answers).toEqual({ status: 'fulfilled', value: [a, b] });
    });

    it('requests with bigints and dates, equal in everything, merge', async () => {
      const clock = virtualClock();
      const calls: unknown[][] = [];
      const batcher = createBatcher<unknown, unknown>({
        windowMs: 5,
        scheduler: clock.scheduler,
        dedupStrategy: 'embedding',
        execute: (items) => {
          calls.push(items);
          return items;
        },
      });
      const a = { query: 'reset my password', id: 1n, at: new Date(1) };
      const b = { at: new Date(1), id: 1n, query: 'reset my password' };
      const answers = await settleAll(clock, Promise.all([batcher.process(a), batcher.process(b)]));
      expect(answers).toEqual({ status: 'fulfilled', value: [a, a] });
      expect(calls).toEqual([[a]]);
    });

    it("with a custom text, the removed text cannot be forged by a string in the request", async () => {
      const clock = virtualClock();
      const batcher = createBatcher<string[], unknown>({
        windowMs: 5,
        scheduler: clock.scheduler,
        dedupStrategy: 'embedding',
        mergeGuard: false,
        dedupThreshold: 0,
        text: (r) => r[2]!,
        execute: (items) => items,
      });
      // Without a typed marker, 'x' removed from a and the marker string in b would leave equal rests.
      const a = ['x', 'y', 'x'];
      const b = ['\u0000text', 'y', 'z'];
      const answers = await settleAll(clock, Promise.all([batcher.process(a), batcher.process(b)]));
      expect(answers).toEqual({ status: 'fulfilled', value: [a, b] });
    });
  });
});

describe('the types say what key and scope may return (checked by npm test, which type-checks this file)', () => {
  const execute = (items: Q[]) => items.map((q) => q.label);
  it('accepts keys and scopes of every allowed type', () => {
    expectTypeOf(() => createBatcher({ execute, key: (q: Q) => [q.label, 1, 2n, true, null, { a: [q.label] }] })).toBeFunction();
    expectTypeOf(() => createBatcher({ execute, key: (q: Q) => ({ q: q.label, lang: q.text }) })).toBeFunction();
    expectTypeOf(() => createBatcher({ execute, scope: (q: Q) => (q.text ? 1n : 7) })).toBeFunction();
    expectTypeOf(() => createBatcher({ execute }).process({ label: 'x' }, { scope: 7 })).toBeFunction();
    expectTypeOf<DedupScope>().toEqualTypeOf<string | number | bigint | undefined>();
  });

  it('refuses the others at compile time', () => {
    // @ts-expect-error a symbol is not a key
    expectTypeOf(() => createBatcher({ execute, key: () => Symbol('k') })).toBeFunction();
    // @ts-expect-error a Date is not a key (return date.getTime())
    expectTypeOf(() => createBatcher({ execute, key: () => new Date() })).toBeFunction();
    // @ts-expect-error a Map is not a key
    expectTypeOf(() => createBatcher({ execute, key: () => new Map<string, number>() })).toBeFunction();
    // @ts-expect-error undefined is not a key
    expectTypeOf(() => createBatcher({ execute, key: () => undefined })).toBeFunction();
    // @ts-expect-error an object is not a scope
    expectTypeOf(() => createBatcher({ execute, scope: (q: Q) => ({ tenant: q.label }) })).toBeFunction();
    // @ts-expect-error null is not a scope (undefined is "no scope")
    expectTypeOf(() => createBatcher({ execute, scope: () => null })).toBeFunction();
    // @ts-expect-error a boolean is not a per-call scope
    expectTypeOf(() => createBatcher({ execute }).process({ label: 'x' }, { scope: true })).toBeFunction();
  });
});
