/**
 * The shared tier's call (src/internal/sharedExecute.ts `TierRun.run`, `answer`) where stop 20's Stryker run (issue
 * 17, H-MUT8, piece a) found no test: the tier's `execute` observed directly, as the batch run observes it.
 *
 * - A stream from `execute` that sent every result at once and stays open is let go (its teardown runs), and the
 *   tier's own stream completes after its last result.
 * - A tier call stopped while `execute`'s results are being passed on (its subscriber left after the first) passes
 *   nothing more on (rxjs reports a notification sent to a stopped subscriber to `config.onStoppedNotification`),
 *   and stores nothing: a stopped call's leases go with the stop, and nothing more is sent to the store.
 */
import { config, Observable, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBatchStats, sharedStore, type ResultStore } from '../src/index.js';
import type { Slot } from '../src/internal/inFlight.js';
import { resolveSharedTier, storeKeyOf } from '../src/internal/sharedTier.js';
import type { ExecuteFn, StreamedResult } from '../src/types.js';
import { virtualClock } from '../src/testing/index.js';

const slotOf = (item: string): Slot => ({ scope: undefined, encoded: false, key: item });
const context = { batchId: 1, signal: new AbortController().signal, individual: false };
type Thenable<V> = PromiseLike<V>;
/** A thenable answering at once. */
const now = <V>(value: V): Thenable<V> => ({ then: (ok?: ((v: V) => unknown) | null) => (ok?.(value), undefined) }) as unknown as Thenable<V>;

function tier(execute: ExecuteFn<string, string>, get: ResultStore['get'], log: string[]) {
  const clock = virtualClock();
  const store = sharedStore({
    get,
    set: (entries) => (log.push(`set ${entries.map(([k, v]) => `${k}=${String(v)}`).join(',')}`), now(undefined)),
  });
  const run = store.sharedExecute('test', execute, slotOf, { store, ttlMs: 1000, timeoutMs: 100 }, clock.scheduler, createBatchStats());
  return (items: string[]) => run(items, context) as Observable<StreamedResult<string>>;
}

afterEach(() => {
  config.onStoppedNotification = null;
  vi.useRealTimers();
});

describe('the tier lets go of a stream from execute once it has every result', () => {
  it('a stream that sends its results at once and stays open is unsubscribed, and the tier completes', () => {
    const log: string[] = [];
    let torn = 0;
    const execute = ((items: string[]) =>
      new Observable<string[]>((subscriber) => {
        subscriber.next(items.map((item) => item.toUpperCase()));
        return () => torn++;
      })) as unknown as ExecuteFn<string, string>;
    const seen: string[] = [];
    tier(execute, (keys) => now(keys.map(() => undefined)), log)(['a', 'b']).subscribe({
      next: (r) => seen.push(`${r.index}=${String((r as { value: string }).value)}`),
      complete: () => seen.push('complete'),
    });
    expect(seen).toEqual(['0=A', '1=B', 'complete']);
    expect(torn).toBe(1);
    expect(log).toEqual([`set ${storeKeyOf(slotOf('a'))}=A,${storeKeyOf(slotOf('b'))}=B`]);
  });
});

describe('a tier call stopped while the results of execute are passed on', () => {
  it('passes nothing more on to its subscriber, and stores nothing', () => {
    vi.useFakeTimers();
    const stopped: unknown[] = [];
    config.onStoppedNotification = (notification) => stopped.push(notification);
    const log: string[] = [];
    let answer: ((values: unknown[]) => void) | undefined;
    const get: ResultStore['get'] = () => ({ then: (ok: (v: unknown[]) => void) => void (answer = ok) }) as unknown as PromiseLike<unknown[]>;
    const seen: number[] = [];
    let subscription: Subscription | undefined = undefined;
    subscription = tier((items) => items.map((item) => item.toUpperCase()), get, log)(['a', 'b']).subscribe((r) => {
      seen.push(r.index);
      subscription!.unsubscribe();
    });
    answer!([undefined, undefined]); // both missed: executed here, answering both at once
    vi.runAllTimers(); // rxjs reports a notification to a stopped subscriber on a timer
    expect(seen).toEqual([0]);
    expect(stopped).toEqual([]);
    expect(log).toEqual([]);
  });
});

describe('storeKeyOf: the store key of a slot, one per (scope, key) pair', () => {
  const key = (k: unknown, encoded = false, scope: unknown = undefined) =>
    storeKeyOf({ scope, encoded, key: k } as Slot);
  it.each([
    ['a string', 'x', '-sx'],
    ['a number', 1, '-n1'],
    ['-0, as 0', -0, '-n0'],
    ['NaN', Number.NaN, '-nNaN'],
    ['a bigint', 1n, '-b1'],
    ['true', true, '-t'],
    ['false', false, '-f'],
    ['undefined', undefined, '-u'],
    ['null', null, '-z'],
  ])('%s has its own letter', (_, k, expected) => {
    expect(key(k)).toBe(expected);
  });

  it('an encoded key (an array or object key) is its own kind; its encoding must be a string', () => {
    expect(key('[1]', true)).toBe('-e[1]');
    expect(key(['1'], true)).toBeUndefined();
  });

  it('a key with no stable text has none: an object not encoded, a symbol, a function', () => {
    expect(key({})).toBeUndefined();
    expect(key([1])).toBeUndefined();
    expect(key(Symbol('x'))).toBeUndefined();
    expect(key(() => 1)).toBeUndefined();
  });

  it('the scope comes first, by its tag', () => {
    expect(key('x', false, 'tenant')).toBe('s6:tenantsx');
    expect(key(null, false, 7)).toBe('n7;z');
  });
});

describe('resolveSharedTier', () => {
  const store = sharedStore({ get: (keys) => now(keys.map(() => undefined)), set: () => now(undefined) });

  it('gives no tier without a result cache, or without a store', () => {
    expect(resolveSharedTier('here', undefined, undefined)).toBeUndefined();
    expect(resolveSharedTier('here', undefined, 1000)).toBeUndefined();
    expect(resolveSharedTier('here', { store }, undefined)).toBeUndefined();
    expect(resolveSharedTier('here', {}, 1000)).toBeUndefined();
  });

  it('a store: the tier with the cache TTL and storeTimeoutMs, 100 by default', () => {
    expect(resolveSharedTier('here', { store }, 1000)).toEqual({ store, ttlMs: 1000, timeoutMs: 100 });
    expect(resolveSharedTier('here', { store, storeTimeoutMs: 7 }, 1000)).toEqual({ store, ttlMs: 1000, timeoutMs: 7 });
  });

  it('a resultCache.store of null is refused as no shared store, not with a TypeError of its own', () => {
    expect(() => resolveSharedTier('here', { store: null as never }, 1000)).toThrow(/^here: resultCache\.store must be a shared store: .* got null$/);
  });

  it('a resultCache.store that is no shared store is refused, naming the ways to make one', () => {
    expect(() => resolveSharedTier('here', { store: {} as never }, 1000)).toThrow(
      /^here: resultCache\.store must be a shared store: keyvStore\(keyv\), redisStore\(\{ client \}\) from rxjs-batch-dedup\/redis, or sharedStore\(store\) of your own ResultStore; got /,
    );
  });
});
