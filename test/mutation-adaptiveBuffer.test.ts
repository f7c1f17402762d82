/**
 * adaptiveBuffer's wiring (src/operators/adaptiveBuffer.ts), where mutation testing found promises no test guarded
 * (docs/testing.md): the stats report the adaptive window, and unsubscribing stops listening to the channel.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchFeedback, createBatchStats, type BatchFeedback } from '../src/index.js';
import { adaptiveBuffer } from '../src/operators/index.js';
import { testScheduler } from '../marbles/helpers.js';

/** A channel that counts the listeners attached to it. */
function countingChannel(concurrency: number) {
  const real = createBatchFeedback(concurrency);
  let listening = 0;
  const channel: BatchFeedback = {
    get concurrency() {
      return real.concurrency;
    },
    set concurrency(value: number) {
      real.concurrency = value;
    },
    get outstanding() {
      return real.outstanding;
    },
    hasCapacity: () => real.hasCapacity(),
    reserve: () => real.reserve(),
    release: (report) => real.release(report),
    onRelease: (listener) => {
      listening++;
      const stop = real.onRelease(listener);
      return () => {
        listening--;
        stop();
      };
    },
  };
  return { channel, listening: () => listening };
}

describe('adaptiveBuffer wiring', () => {
  it('reports its window in the stats (currentWindowMs) from the start', () => {
    const stats = createBatchStats();
    const scheduler = testScheduler();
    const subscription = new Subject<string>().pipe(adaptiveBuffer<string>({ windowMs: 30, targetLatencyMs: 100, stats, scheduler })).subscribe();
    expect(stats.snapshot().currentWindowMs).toBe(30);
    subscription.unsubscribe();
  });

  it('listens to the feedback channel while subscribed, and stops when unsubscribed', () => {
    const { channel, listening } = countingChannel(2);
    const subscription = new Subject<string>().pipe(adaptiveBuffer<string>({ windowMs: 30, feedback: channel, scheduler: testScheduler() })).subscribe();
    expect(listening()).toBeGreaterThan(0);
    subscription.unsubscribe();
    expect(listening()).toBe(0);
  });
});
