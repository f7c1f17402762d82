/**
 * `stats$` tells the whole story of a batcher that is closed: the batch whose answer was the last one owed after
 * `close()` stops the pipeline from inside that answer, before its run reports; its snapshot must still reach
 * `stats$` (an exporter that reads `stats$` would otherwise report a short-lived batcher as idle), and a
 * `close()` that stops nothing adds no snapshot.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, type BatchStats } from '../src/index.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';

const upperAll = (qs: readonly string[]) => qs.map((q) => q.toUpperCase());

async function runFor(clock: VirtualClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t++) {
    clock.advanceBy(1);
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
  }
}

function batcherOn(clock: VirtualClock, executeMs: number) {
  const batcher = createBatcher<string, string>({
    execute: (qs) => new Promise((resolve) => clock.scheduler.schedule(() => resolve(upperAll(qs)), executeMs)),
    windowMs: 5,
    scheduler: clock.scheduler,
  });
  const seen: BatchStats[] = [];
  batcher.stats$.subscribe((s) => seen.push(s));
  return { batcher, seen };
}

describe('stats$ after close()', () => {
  it('close() while requests wait: the last snapshot on stats$ counts their batch, as getStats() does', async () => {
    const clock = virtualClock();
    const { batcher, seen } = batcherOn(clock, 3);
    const answers = batcher.processAll(['a', 'b', 'a']);
    const closing = batcher.close();
    await runFor(clock, 20);
    await expect(answers).resolves.toEqual(['A', 'B', 'A']);
    await closing;
    expect(seen.at(-1)).toMatchObject({ totalRequests: 3, totalBatches: 1, executedItems: 2, deduplicated: 1, completed: 3 });
    expect(seen.at(-1)).toEqual(batcher.getStats());
  });

  it('close() while the batch executes: the same', async () => {
    const clock = virtualClock();
    const { batcher, seen } = batcherOn(clock, 10);
    const answers = batcher.processAll(['a', 'b']);
    await runFor(clock, 7); // the batch left at 5 and runs till 15
    const closing = batcher.close();
    await runFor(clock, 20);
    await expect(answers).resolves.toEqual(['A', 'B']);
    await closing;
    expect(seen.at(-1)).toMatchObject({ totalBatches: 1, completed: 2 });
    expect(seen.at(-1)).toEqual(batcher.getStats());
  });

  it('close() once everything was answered adds no snapshot', async () => {
    const clock = virtualClock();
    const { batcher, seen } = batcherOn(clock, 3);
    const answers = batcher.processAll(['a', 'b']);
    await runFor(clock, 20);
    await answers;
    const before = seen.length;
    await batcher.close();
    expect(seen.length).toBe(before);
    expect(seen.at(-1)).toMatchObject({ totalBatches: 1, completed: 2 });
  });
});
