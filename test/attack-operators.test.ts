/**
 * The operators composed by hand, fed what their types forbid (H-ATK2). `fanOut` checks each `DedupedBatch` it is
 * given (docs/reliability.md row 30); `dedupBy` took whatever came: `null` threw inside its source's `next`, which
 * RxJS reports as an uncaught exception (a crash under Node) while the stream went on silently, and a string or a
 * number came out as a "batch" whose `items` was that value and whose `leaderOf` held `undefined`. Now something
 * that is not an array errors the output with a `TypeError` naming what came, once the batches before it are out.
 */
import { config, Observable, of, Subject } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dedupBy, type DedupedBatch } from '../src/index.js';
import { turn } from './support.js';

const uncaught: unknown[] = [];
let previous: typeof config.onUnhandledError;
beforeEach(() => {
  uncaught.length = 0;
  previous = config.onUnhandledError;
  config.onUnhandledError = (error) => uncaught.push(error);
});
afterEach(() => {
  config.onUnhandledError = previous;
});

/** Lets RxJS's reports of uncaught errors (on a timer) arrive. */
const reportsArrive = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('dedupBy given something that is not a batch', () => {
  it.each([
    ['null', null, 'null'],
    ['undefined', undefined, 'undefined'],
    ['a string', 'ab', '"ab"'],
    ['a number', 42, '42'],
    ['an array-like object', { length: 2 }, 'object'],
  ])('%s: errors the output with a TypeError naming it, and nothing escapes', async (_, bad, named) => {
    const out: DedupedBatch<string>[] = [];
    let error: unknown;
    let afterwards = 0;
    const source = new Subject<unknown>();
    source.pipe(dedupBy<string>() as never).subscribe({ next: (batch) => out.push(batch as DedupedBatch<string>), error: (e: unknown) => (error = e) });
    source.next(['a', 'a']);
    source.next(bad);
    source.next(['b']);
    if (source.observed) afterwards++;
    await reportsArrive();
    expect(uncaught).toEqual([]);
    expect(out.map((batch) => batch.items)).toEqual([['a', 'a']]);
    expect(error).toBeInstanceOf(TypeError);
    expect(String((error as Error).message)).toMatch(/^dedupBy: /);
    expect(String((error as Error).message)).toContain(named);
    expect(afterwards, 'the source is still listened to').toBe(0);
  });

  it('errors only after a batch still being embedded is out', async () => {
    const out: DedupedBatch<string>[] = [];
    let error: unknown;
    let resolveEmbed: ((vectors: number[][]) => void) | undefined;
    const embed = (texts: string[]) => new Promise<number[][]>((resolve) => (resolveEmbed = () => resolve(texts.map(() => [1, 0]))));
    new Observable<unknown>((subscriber) => {
      subscriber.next(['reset my password', 'reset my password please']);
      subscriber.next(null);
    })
      .pipe(dedupBy<string>({ dedupStrategy: 'embedding', embed, mergeGuard: false }) as never)
      .subscribe({ next: (batch) => out.push(batch as DedupedBatch<string>), error: (e: unknown) => (error = e) });
    await turn();
    expect(error).toBeUndefined();
    resolveEmbed!([]);
    await turn();
    expect(out.map((batch) => batch.leaderOf)).toEqual([[0, 0]]);
    expect(error).toBeInstanceOf(TypeError);
    await reportsArrive();
    expect(uncaught).toEqual([]);
  });

  it('a synchronous source that sends a non-batch first: one error, nothing it sends later goes through, and it is unsubscribed', async () => {
    let errors = 0;
    let unsubscribed = false;
    const out: unknown[] = [];
    new Observable<unknown>((subscriber) => {
      subscriber.next(7);
      subscriber.next(['x']);
      subscriber.next(null);
      subscriber.complete();
      return () => (unsubscribed = true);
    })
      .pipe(dedupBy() as never)
      .subscribe({ next: (batch) => out.push(batch), error: (e: unknown) => (errors += e instanceof TypeError && String(e).includes('7') ? 1 : 100) });
    expect(errors).toBe(1);
    expect(out).toEqual([]);
    expect(unsubscribed).toBe(true);
    await reportsArrive();
    expect(uncaught).toEqual([]);
  });

  it('an empty array is still dropped silently (bufferTime emits them), not refused', () => {
    let error: unknown;
    const out: unknown[] = [];
    of([], ['a']).pipe(dedupBy<string>()).subscribe({ next: (b) => out.push(b), error: (e: unknown) => (error = e) });
    expect(error).toBeUndefined();
    expect(out).toHaveLength(1);
  });
});
