/**
 * What a source sends after the subscriber left reaches nothing (src/internal/subscribeSource.ts; issue 17, stop
 * 19, H-MUT5). A subscriber that leaves while a synchronous source is still sending (a `take(1)` downstream of an
 * answer given synchronously) must not get the source's later error: RxJS reports a notification sent to a
 * subscriber that has stopped through `config.onStoppedNotification` (from a timeout), which this file watches. The stages' own
 * error paths would otherwise error a subscriber that left (fanOut's and dedupBy's, once idle).
 */
import { concat, config, of, take, throwError, type ObservableNotification, type Subscriber } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchDedup, dedupBy, fanOut } from '../src/index.js';
import { batchDedup as leanBatchDedup } from '../src/lite/index.js';

const tenfold = (items: readonly number[]) => items.map((x) => x * 10);

let stopped: ObservableNotification<unknown>[] = [];
/** Every kind of notification that reached a stopped subscriber. */
let stoppedKinds: string[] = [];
let previous: typeof config.onStoppedNotification;
beforeEach(() => {
  stopped = [];
  stoppedKinds = [];
  previous = config.onStoppedNotification;
  // RxJS reports a stopped notification from a timeout: fake timers, flushed by each test.
  vi.useFakeTimers();
  config.onStoppedNotification = (notification: ObservableNotification<unknown>, _subscriber: Subscriber<unknown>) => {
    stoppedKinds.push(notification.kind);
    // Only errors: a completion reaches a stopped subscriber in RxJS's own take(1) chain here, library or not.
    if (notification.kind === 'E') stopped.push(notification);
  };
});
afterEach(() => {
  vi.useRealTimers();
  config.onStoppedNotification = previous;
});

describe('a source error after the subscriber left (take(1) inside the first answer)', () => {
  it('batchDedup: reaches neither the subscriber nor a stopped one', () => {
    const errors: unknown[] = [];
    const results: unknown[] = [];
    concat(of(1, 2), throwError(() => new Error('late')))
      .pipe(batchDedup<number, number>({ maxSize: 1, execute: tenfold }), take(1))
      .subscribe({ next: (r) => results.push(r.value), error: (e: unknown) => errors.push(e) });
    expect(results).toEqual([10]);
    expect(errors).toEqual([]);
    vi.runAllTimers();
    expect(stopped).toEqual([]);
  });

  it('/lite batchDedup (the lean core): reaches neither the subscriber nor a stopped one', () => {
    const errors: unknown[] = [];
    const results: unknown[] = [];
    concat(of(1, 2), throwError(() => new Error('late')))
      .pipe(leanBatchDedup<number, number>({ maxSize: 1, execute: tenfold }), take(1))
      .subscribe({ next: (r) => results.push(r.value), error: (e: unknown) => errors.push(e) });
    expect(results).toEqual([10]);
    expect(errors).toEqual([]);
    vi.runAllTimers();
    expect(stopped).toEqual([]);
  });

  it('fanOut: reaches neither the subscriber nor a stopped one', () => {
    const errors: unknown[] = [];
    const results: unknown[] = [];
    concat(of([1], [2]), throwError(() => new Error('late')))
      .pipe(dedupBy<number>({}), fanOut<number, number>({ execute: tenfold }), take(1))
      .subscribe({ next: (r) => results.push(r.value), error: (e: unknown) => errors.push(e) });
    expect(results).toEqual([10]);
    expect(errors).toEqual([]);
    vi.runAllTimers();
    expect(stopped).toEqual([]);
  });

  it('dedupBy: reaches neither the subscriber nor a stopped one', () => {
    const errors: unknown[] = [];
    const batches: unknown[] = [];
    concat(of([1], [2]), throwError(() => new Error('late')))
      .pipe(dedupBy<number>({}), take(1))
      .subscribe({ next: (b) => batches.push(b.items), error: (e: unknown) => errors.push(e) });
    expect(batches).toEqual([[1]]);
    expect(errors).toEqual([]);
    vi.runAllTimers();
    expect(stopped).toEqual([]);
  });
});

describe('a source completion after the subscriber left (take(1) inside the first answer)', () => {
  it('dedupBy: reaches no stopped subscriber', () => {
    const batches: unknown[] = [];
    of([1], [2])
      .pipe(dedupBy<number>({}), take(1))
      .subscribe((b) => batches.push(b.items));
    vi.runAllTimers();
    expect(batches).toEqual([[1]]);
    expect(stoppedKinds).toEqual([]);
  });

  it('fanOut: reaches no stopped subscriber', () => {
    const results: unknown[] = [];
    of([1], [2])
      .pipe(dedupBy<number>({}), fanOut<number, number>({ execute: tenfold }), take(1))
      .subscribe((r) => results.push(r.value));
    vi.runAllTimers();
    expect(results).toEqual([10]);
    expect(stoppedKinds).toEqual([]);
  });
});
