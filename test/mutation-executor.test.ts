/**
 * The execute stage (src/internal/executor.ts), where mutation testing found promises no test guarded
 * (docs/testing.md): the `inFlight` gauge of the stats counts the batches executing, not a constant 0, and a
 * closed pipeline leaves no gauge attached to a recorder that outlives it.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

/** A backend whose calls stay in flight until the test finishes them, one by one, oldest first. */
function heldBackend() {
  const calls: { items: string[]; finish: () => void }[] = [];
  const execute = (items: string[]) =>
    new Promise<string[]>((resolve) => calls.push({ items, finish: () => resolve(items.map((item) => `value of ${item}`)) }));
  return { calls, execute };
}

describe('the inFlight gauge', () => {
  it('counts the batches executing: 2 while two run, 1 once one settled, 0 once both did', async () => {
    const clock = virtualClock();
    const backend = heldBackend();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 1, concurrency: 2, execute: backend.execute });
    const a = batcher.process('a');
    clock.advanceBy(1);
    const b = batcher.process('b');
    clock.advanceBy(1);
    expect(backend.calls.map((call) => call.items)).toEqual([['a'], ['b']]);
    expect(batcher.getStats().inFlight).toBe(2);
    backend.calls[0]!.finish();
    await expect(settleAll(clock, a)).resolves.toEqual({ status: 'fulfilled', value: 'value of a' });
    expect(batcher.getStats().inFlight).toBe(1);
    backend.calls[1]!.finish();
    await expect(settleAll(clock, b)).resolves.toEqual({ status: 'fulfilled', value: 'value of b' });
    expect(batcher.getStats().inFlight).toBe(0);
  });
});

describe('a recorder shared by pipelines', () => {
  it('holds no gauge of a pipeline once it is closed', async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    // The recorder's gauges are private; a leak shows only as their count (and memory), so the test reads it.
    const gauges = () => (stats as unknown as { probes: Set<unknown> }).probes.size;
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 1, stats, execute: (items) => items });
    expect(gauges()).toBeGreaterThan(0);
    await expect(settleAll(clock, batcher.process('a'))).resolves.toEqual({ status: 'fulfilled', value: 'a' });
    await settleAll(clock, batcher.close());
    expect(gauges()).toBe(0);
  });
});
