import { describe, expect, it } from 'vitest';
import { adaptiveBuffer } from '../src/operators/adaptiveBuffer.js';
import { trackTimers } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

describe('adaptiveBuffer', () => {
  it('sends a lone request at once instead of waiting a window nothing will fill', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' a------------------------------------------|');
      const subs = '      ^------------------------------------------!';
      const expected = '  x------------------------------------------|';
      expectObservable(source.pipe(adaptiveBuffer({ windowMs: 30, targetLatencyMs: 100 }))).toBe(expected, { x: ['a'] });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('batches once arrivals come fast enough to fill a window (rate * window >= 1)', () => {
    // Arrivals 1 ms apart. The rate estimate (time constant 100 ms) reaches 1 per window of 30 ms at the
    // fourth arrival: 0.01 + 0.0099 + 0.0098 + 0.0097 = 0.0394/ms * 30 ms >= 1. The first three leave alone.
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' abcdefg------------------------------------|');
      const expected = '  xyz------------------------------w---------|';
      expectObservable(source.pipe(adaptiveBuffer({ windowMs: 30, targetLatencyMs: 100 }))).toBe(expected, {
        x: ['a'],
        y: ['b'],
        z: ['c'],
        w: ['d', 'e', 'f', 'g'],
      });
    });
  });

  it('keeps maxSize: a full buffer leaves in the frame it fills', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' abcdefgh------------------------------------|');
      const expected = '  xyz----w------------------------------------|';
      expectObservable(source.pipe(adaptiveBuffer({ windowMs: 30, maxSize: 5, targetLatencyMs: 100 }))).toBe(expected, {
        x: ['a'],
        y: ['b'],
        z: ['c'],
        w: ['d', 'e', 'f', 'g', 'h'],
      });
    });
  });

  it('cancels its timer when unsubscribed', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot('abcdef------');
      expectObservable(source.pipe(adaptiveBuffer({ windowMs: 30, scheduler: tracked.scheduler })), '^-------!').toBe('xyz-----', {
        x: ['a'],
        y: ['b'],
        z: ['c'],
      });
    });
    expect(tracked.pending()).toBe(0);
  });
});
