/**
 * The adaptive window's timing rules that no marble held (issue 17, stop 19, H-MUT5): under an adaptive window,
 * `maxWaitMs` defaults to the widest window it may choose (`max(maxWindowMs, 100)`), so a window wider than 100 ms
 * is not cut short by the plain default of `max(windowMs, 100)`.
 */
import { describe, it } from 'vitest';
import { adaptiveBuffer } from '../src/operators/adaptiveBuffer.js';
import { testScheduler } from './helpers.js';

describe('adaptiveBuffer: maxWaitMs defaults to the widest adaptive window', () => {
  it('a window held at 250 ms (minWindowMs = maxWindowMs = 250) closes at 250 ms, not at 100', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      // One arrival gives a rate of 0.01/ms: 0.01 * 250 >= 1, so the window opening is the held 250 ms.
      const source = hot(' a 299ms |');
      const expected = '  250ms x 49ms |';
      expectObservable(
        source.pipe(adaptiveBuffer({ minWindowMs: 250, maxWindowMs: 250, targetLatencyMs: 1000 })),
      ).toBe(expected, { x: ['a'] });
    });
  });

  it('a maxWaitMs given still bounds it (120 ms)', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' a 299ms |');
      const expected = '  120ms x 179ms |';
      expectObservable(
        source.pipe(adaptiveBuffer({ minWindowMs: 250, maxWindowMs: 250, targetLatencyMs: 1000, maxWaitMs: 120 })),
      ).toBe(expected, { x: ['a'] });
    });
  });
});
