/**
 * How the operators subscribe their source (src/internal/subscribeSource.ts), where mutation testing looked for
 * promises no test guarded (docs/testing.md): a subscriber that leaves while the source is being subscribed (a
 * `take(1)` downstream of an answer given synchronously) unsubscribes the source there and then, and nothing the
 * source sends afterwards reaches the stage.
 */
import { concat, finalize, NEVER, of, Subject, take, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, bufferWindow, dedupBy, fanOut } from '../src/index.js';

const tenfold = (items: readonly number[]) => items.map((x) => x * 10);

describe('a subscriber that leaves during the subscription', () => {
  it('batchDedup: a source that stays open is unsubscribed', () => {
    let unsubscribed = false;
    const source = concat(of(1), NEVER).pipe(finalize(() => (unsubscribed = true)));
    const results: unknown[] = [];
    source.pipe(batchDedup<number, number>({ maxSize: 1, execute: tenfold }), take(1)).subscribe((r) => results.push(r.value));
    expect(results).toEqual([10]);
    expect(unsubscribed).toBe(true);
  });

  it('fanOut: a source that stays open is unsubscribed', () => {
    let unsubscribed = false;
    const source = concat(of(1), NEVER).pipe(
      bufferWindow<number>({ maxSize: 1 }),
      dedupBy<number>({}),
      finalize(() => (unsubscribed = true)),
    );
    const results: unknown[] = [];
    source.pipe(fanOut<number, number>({ execute: tenfold }), take(1)).subscribe((r) => results.push(r.value));
    expect(results).toEqual([10]);
    expect(unsubscribed).toBe(true);
  });

  it('batchDedup: an execution still running is aborted', () => {
    // 1 is sent and stays in flight; 2 is answered at once, and take(1) leaves inside that answer.
    const signals: AbortSignal[] = [];
    const results: unknown[] = [];
    of(1, 2)
      .pipe(
        batchDedup<number, number>({
          maxSize: 1,
          concurrency: 2,
          execute: (items, { signal }) => {
            signals.push(signal);
            return items[0] === 1 ? NEVER : tenfold(items);
          },
        }),
        take(1),
      )
      .subscribe((r) => results.push(r.value));
    expect(results).toEqual([20]);
    expect(signals).toHaveLength(2);
    expect(signals[0]!.aborted).toBe(true);
  });

  it('batchDedup: a source error after the subscriber left reaches nobody', () => {
    const errors: unknown[] = [];
    const results: unknown[] = [];
    concat(of(1, 2), throwError(() => new Error('late')))
      .pipe(batchDedup<number, number>({ maxSize: 1, execute: tenfold }), take(1))
      .subscribe({ next: (r) => results.push(r.value), error: (e: unknown) => errors.push(e) });
    expect(results).toEqual([10]);
    expect(errors).toEqual([]);
  });
});

describe('a subscriber that leaves later', () => {
  it('batchDedup: the source is unsubscribed and what it sends afterwards is never executed', () => {
    const source = new Subject<number>();
    const calls: number[][] = [];
    const subscription = source
      .pipe(batchDedup<number, number>({ maxSize: 1, execute: (items) => (calls.push([...items]), tenfold(items)) }))
      .subscribe();
    source.next(1);
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    source.next(2);
    expect(calls).toEqual([[1]]);
  });
});
