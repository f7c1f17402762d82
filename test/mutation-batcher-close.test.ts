/**
 * createBatcher's close() (src/batcher/createBatcher.ts, src/internal/executor.ts), where a Stryker run
 * (STRYKER_TESTS=run, docs/testing.md) found promises no test guarded. Each `it` names the mutants it kills.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, type BatchStats } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, settleAll } from './support.js';

describe('stats$ around close()', () => {
  // executor's stopUnowed: `if (freed === 0) return` made false: close() (and every withdrawal after it) told
  // stats$ of a change when it had stopped nothing, an extra snapshot that no batch made.
  it('emits no snapshot at close() when it stops nothing', async () => {
    const clock = virtualClock();
    let finish!: () => void;
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items) => new Promise<string[]>((resolve) => (finish = () => resolve(items.map((item) => `value of ${item}`)))),
    });
    const snapshots: BatchStats[] = [];
    batcher.stats$.subscribe((s) => snapshots.push(s));
    const answer = batcher.process('a');
    clock.advanceBy(1);
    const before = snapshots.length;
    const closing = batcher.close();
    expect(snapshots.length).toBe(before);
    finish();
    await expect(settleAll(clock, answer)).resolves.toEqual({ status: 'fulfilled', value: 'value of a' });
    expect(await drain(clock, closing)).toBe(true);
    expect(batcher.getStats()).toMatchObject({ totalRequests: 1, totalBatches: 1, completed: 1 });
  });
});
