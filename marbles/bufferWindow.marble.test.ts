import { describe, expect, it } from 'vitest';
import { bufferWindow } from '../src/operators/bufferWindow.js';
import { trackTimers } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

describe('bufferWindow', () => {
  it('opens a window at the first value and emits everything collected when it closes', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' a--------b----------|');
      const subs = '      ^-------------------!';
      const expected = '  ----------x---------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10 }))).toBe(expected, { x: ['a', 'b'] });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('opens the next window with the next value, not on a fixed clock', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' a-------------b--c-------------|');
      const expected = '  -----x-------------y-----------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 5 }))).toBe(expected, { x: ['a'], y: ['b', 'c'] });
    });
  });

  it('emits a buffer that reaches maxSize in the same frame', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -a-b-c-------|');
      const expected = '  -----x-------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10, maxSize: 3 }))).toBe(expected, {
        x: ['a', 'b', 'c'],
      });
    });
  });

  it('lets the value after a full buffer open a new window', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -a-b-c-d-------------|');
      const expected = '  -----x---------y-----|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 8, maxSize: 3 }))).toBe(expected, {
        x: ['a', 'b', 'c'],
        y: ['d'],
      });
    });
  });

  it('emits several full buffers in one frame when values arrive together', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -(abcde)------------|');
      const expected = '  -(xy)-----z---------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 9, maxSize: 2 }))).toBe(expected, {
        x: ['a', 'b'],
        y: ['c', 'd'],
        z: ['e'],
      });
    });
  });

  it('holds a closed window below minSize until maxWaitMs after the oldest value', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' a-b---------------------------------|');
      const expected = '  ------------------------------x-----|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10, minSize: 3, maxWaitMs: 30 }))).toBe(expected, {
        x: ['a', 'b'],
      });
    });
  });

  it('emits a held buffer as soon as it reaches minSize after its window closed', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' a-b------------c-------------------|');
      const expected = '  ---------------x-------------------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10, minSize: 3, maxWaitMs: 30 }))).toBe(expected, {
        x: ['a', 'b', 'c'],
      });
    });
  });

  it('still waits for the window when minSize is reached before it closes', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' a-b-c-------------|');
      const expected = '  ----------x-------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10, minSize: 2, maxWaitMs: 30 }))).toBe(expected, {
        x: ['a', 'b', 'c'],
      });
    });
  });

  it('lets maxWaitMs win over a longer window', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' a--b--------------|');
      const expected = '  -----x------------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 20, maxWaitMs: 5 }))).toBe(expected, { x: ['a', 'b'] });
    });
  });

  it('defaults maxWaitMs to max(windowMs, 100)', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' a 150ms |');
      const expected = '  100ms x 50ms |';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10, minSize: 2 }))).toBe(expected, { x: ['a'] });
    });
  });

  it('never emits an empty buffer', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -(ab)------------------|');
      const expected = '  -x---------------------|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 5, maxSize: 2 }))).toBe(expected, { x: ['a', 'b'] });
    });
  });

  it('emits the buffer then completes when the source completes', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' a-b|');
      const subs = '      ^--!';
      const expected = '  ---(x|)';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10 }))).toBe(expected, { x: ['a', 'b'] });
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('completes at once when nothing is buffered', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' ----|');
      const expected = '  ----|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10 }))).toBe(expected);
    });
  });

  it('emits the buffer then the error when the source errors', () => {
    testScheduler().run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' a-b#', undefined, new Error('boom'));
      const subs = '      ^--!';
      const expected = '  ---(x#)';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10 }))).toBe(expected, { x: ['a', 'b'] }, new Error('boom'));
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
  });

  it('cancels its timer when unsubscribed', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' a------------');
      const subs = '      ^---!';
      const unsub = '     ^---!';
      const expected = '  -----';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10, scheduler: tracked.scheduler })), unsub).toBe(expected);
      expectSubscriptions(source.subscriptions).toBe(subs);
    });
    expect(tracked.pending()).toBe(0);
  });

  it('includes a value that arrives in the frame its window closes', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b|').pipe(bufferWindow({ windowMs: 2, scheduler: tracked.scheduler }))).toBe('--x|', {
        x: ['a', 'b'],
      });
    });
    expect(tracked.pending()).toBe(0);
  });

  it('lets the timer of a window emptied by a full flush run out, serving the next window with one timer', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const armed: number[] = [];
    const counting = {
      now: () => tracked.scheduler.now(),
      schedule: ((work: never, delay?: number, state?: never) => {
        armed.push(scheduler.now() + (delay ?? 0));
        return tracked.scheduler.schedule(work, delay, state);
      }) as typeof tracked.scheduler.schedule,
    };
    scheduler.run(({ hot, expectObservable }) => {
      // The timer armed by a (for frame 10) outlives two full flushes; at 10 it re-arms for g's window (18).
      // Cancelled at every full flush instead, it would be set three times: 10, 14 and 18.
      const source = hot(' (ab)(cd)g------------|');
      const expected = '  x---y-------------z--|';
      expectObservable(source.pipe(bufferWindow({ windowMs: 10, maxSize: 2, scheduler: counting }))).toBe(expected, {
        x: ['a', 'b'],
        y: ['c', 'd'],
        z: ['g'],
      });
    });
    expect(armed).toEqual([10, 18]);
    expect(tracked.pending()).toBe(0);
  });
});
