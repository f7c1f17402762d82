/**
 * What `bufferWindow` (through collect.ts, the collecting operator it shares with `adaptiveBuffer`) reports to its
 * `stats` recorder while values wait (issue 17, stop 19, H-MUT5): the queue depth and, with no adaptive window, the
 * configured window. No test read either gauge from `bufferWindow`: a depth always 0, or a window never reported,
 * survived.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats } from '../src/index.js';
import { bufferWindow } from '../src/operators/index.js';
import { createTestScheduler } from '../src/testing/index.js';

describe('bufferWindow reports to its stats recorder', () => {
  it('queueDepth: the values waiting in the open window', () => {
    const scheduler = createTestScheduler();
    const stats = createBatchStats({ scheduler });
    const source = new Subject<string>();
    const batches: string[][] = [];
    const subscription = source.pipe(bufferWindow({ windowMs: 30, maxSize: 10, scheduler, stats })).subscribe((b) => batches.push(b));
    source.next('a');
    source.next('b');
    source.next('c');
    expect(stats.snapshot().queueDepth).toBe(3);
    scheduler.flush(); // the window closes at 30
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(stats.snapshot().queueDepth).toBe(0);
    subscription.unsubscribe();
  });

  it('currentWindowMs: the window it was given (30 ms)', () => {
    const scheduler = createTestScheduler();
    const stats = createBatchStats({ scheduler });
    const subscription = new Subject<string>().pipe(bufferWindow({ windowMs: 30, scheduler, stats })).subscribe();
    expect(stats.snapshot().currentWindowMs).toBe(30);
    subscription.unsubscribe();
  });
});
