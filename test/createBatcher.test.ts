import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/batcher/createBatcher.js';
import { BatcherClosedError, BatchTimeoutError, QueueFullError } from '../src/errors.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import type { BatchStats } from '../src/stats/batchStats.js';
import { turn } from './support.js';

const upper = (s: string) => s.toUpperCase();

function setup(options: { durationMs?: number; windowMs?: number; concurrency?: number; maxQueueSize?: number } = {}) {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => options.durationMs ?? 5, compute: upper });
  const batcher = createBatcher<string, string>({
    execute: backend.execute,
    windowMs: options.windowMs ?? 10,
    concurrency: options.concurrency ?? 4,
    maxQueueSize: options.maxQueueSize,
    scheduler: clock.scheduler,
  });
  return { clock, backend, batcher };
}


describe('createBatcher', () => {
  it('resolves each process() with its own result and executes duplicates once', async () => {
    const { clock, backend, batcher } = setup();
    const results = Promise.all([batcher.process('a'), batcher.process('b'), batcher.process('a')]);
    clock.advanceBy(15);
    await expect(results).resolves.toEqual(['A', 'B', 'A']);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]);
  });

  it('processAll resolves results in request order', async () => {
    const { clock, batcher } = setup();
    const all = batcher.processAll(['x', 'y', 'x', 'z']);
    clock.runAll();
    await expect(all).resolves.toEqual(['X', 'Y', 'X', 'Z']);
  });

  it('processStreaming yields one BatchResult per request as they complete', async () => {
    const { clock, batcher } = setup({ windowMs: 1, maxQueueSize: undefined });
    const seen: string[] = [];
    const done = (async () => {
      for await (const result of batcher.processStreaming(['p', 'q', 'p'])) seen.push(`${result.request}=${String(result.value)}`);
    })();
    await turn();
    clock.runAll();
    await done;
    expect(seen.sort()).toEqual(['p=P', 'p=P', 'q=Q']);
  });

  it('close() drains: every accepted request settles before it resolves', async () => {
    const { clock, batcher } = setup({ windowMs: 50 });
    const pending = [batcher.process('a'), batcher.process('b')];
    const closing = batcher.close();
    let closed = false;
    void closing.then(() => (closed = true));
    await turn();
    expect(closed).toBe(false);
    clock.runAll();
    await closing;
    await expect(Promise.all(pending)).resolves.toEqual(['A', 'B']);
  });

  it('rejects process() after close() with BatcherClosedError', async () => {
    const { batcher } = setup();
    await batcher.close();
    await expect(batcher.process('late')).rejects.toBeInstanceOf(BatcherClosedError);
    expect(batcher.closed).toBe(true);
  });

  it('rejects at once with QueueFullError past maxQueueSize', async () => {
    const { clock, batcher } = setup({ concurrency: 1, maxQueueSize: 2, windowMs: 1 });
    const first = batcher.process('a');
    clock.advanceBy(1); // 'a' is sent; the only slot is busy
    const queued = [batcher.process('b'), batcher.process('c')];
    const refused = batcher.process('d');
    await expect(refused).rejects.toBeInstanceOf(QueueFullError);
    clock.runAll();
    await expect(Promise.all([first, ...queued])).resolves.toEqual(['A', 'B', 'C']);
  });

  it('withdraws an aborted request that has not been sent', async () => {
    const { clock, backend, batcher } = setup();
    const controller = new AbortController();
    const aborted = batcher.process('gone', { signal: controller.signal });
    const kept = batcher.process('kept');
    controller.abort(new Error('client went away'));
    await expect(aborted).rejects.toThrow('client went away');
    clock.runAll();
    await expect(kept).resolves.toBe('KEPT');
    expect(backend.calls.map((c) => c.items)).toEqual([['kept']]);
  });

  it('rejects at once for an already aborted signal', async () => {
    const { backend, batcher } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(batcher.process('x', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(backend.calls).toHaveLength(0);
  });

  it('rejects with BatchTimeoutError at timeoutMs and withdraws a request still queued', async () => {
    const { clock, backend, batcher } = setup({ concurrency: 1, windowMs: 1, durationMs: 50 });
    const first = batcher.process('slow');
    clock.advanceBy(1);
    const late = batcher.process('late', { timeoutMs: 10 });
    clock.advanceBy(10);
    await expect(late).rejects.toBeInstanceOf(BatchTimeoutError);
    clock.runAll();
    await expect(first).resolves.toBe('SLOW');
    expect(backend.calls.map((c) => c.items)).toEqual([['slow']]);
  });

  it('rejects with BatchTimeoutError when the execution outlives timeoutMs', async () => {
    const { clock, batcher } = setup({ windowMs: 1, durationMs: 50 });
    const impatient = batcher.process('x', { timeoutMs: 20 });
    const patient = batcher.process('y');
    clock.advanceBy(20);
    await expect(impatient).rejects.toBeInstanceOf(BatchTimeoutError);
    clock.runAll();
    await expect(patient).resolves.toBe('Y');
  });

  it('serves process(req, { priority }) by priority when a slot frees', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 10, compute: upper });
    const batcher = createBatcher<string, string>({
      execute: backend.execute,
      windowMs: 1,
      maxSize: 1,
      concurrency: 1,
      enablePriorities: true,
      scheduler: clock.scheduler,
    });
    const all = Promise.all([
      batcher.process('first'),
      batcher.process('low', { priority: 1 }),
      batcher.process('urgent', { priority: 9 }),
      batcher.process('mid', { priority: 5 }),
    ]);
    clock.runAll();
    await all;
    expect(backend.calls.map((c) => c.items[0])).toEqual(['first', 'urgent', 'mid', 'low']);
    expect(Object.keys(batcher.getStats().latencyByPriority).sort()).toEqual(['0', '1', '5', '9']);
  });

  it('keeps scopes apart per call', async () => {
    const { clock, backend, batcher } = setup();
    const results = Promise.all([
      batcher.process('q', { scope: 'ann' }),
      batcher.process('q', { scope: 'bob' }),
      batcher.process('q', { scope: 'ann' }),
    ]);
    clock.runAll();
    await results;
    expect(backend.calls.map((c) => c.items)).toEqual([['q', 'q']]);
  });

  it('configure() changes the window live', async () => {
    const { clock, backend, batcher } = setup({ windowMs: 100 });
    batcher.configure({ windowMs: 5 });
    const result = batcher.process('a');
    clock.advanceBy(5);
    expect(backend.calls.map((c) => c.at)).toEqual([5]);
    clock.runAll();
    await expect(result).resolves.toBe('A');
  });

  it('configure() rejects an invalid change as a whole, naming the option, and applies none of it', async () => {
    const { clock, backend, batcher } = setup({ windowMs: 10 });
    expect(() => batcher.configure({ windowMs: 1, maxSize: 0 })).toThrow(/maxSize/);
    expect(() => batcher.configure({ windowMs: 2, dedupThreshold: 2 })).toThrow(RangeError);
    expect(() => batcher.configure({ windowMs: 3, scheduler: undefined, stats: undefined } as never)).toThrow(/cannot be changed/);
    // The old settings are all still in force: a 10 ms window (not 1, 2 or 3 ms), on the virtual clock.
    expect(batcher.getStats().currentWindowMs).toBe(10);
    const results = batcher.processAll(['a', 'b', 'c']);
    clock.advanceBy(9);
    expect(backend.calls).toEqual([]);
    clock.advanceBy(1);
    expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[10, ['a', 'b', 'c']]]);
    clock.runAll();
    await expect(results).resolves.toEqual(['A', 'B', 'C']);
  });

  it('exposes stats as a snapshot and as an observable', async () => {
    const { clock, batcher } = setup();
    const snapshots: BatchStats[] = [];
    const subscription = batcher.stats$.subscribe((s) => snapshots.push(s));
    const results = batcher.processAll(['a', 'a', 'b']);
    clock.runAll();
    await results;
    subscription.unsubscribe();
    expect(snapshots[0]!.totalRequests).toBe(0);
    expect(snapshots.at(-1)).toMatchObject({ totalRequests: 3, totalBatches: 1, deduplicated: 1, completed: 3 });
    expect(batcher.getStats()).toEqual(snapshots.at(-1));
  });

  it('rejects invalid per-call options with a clear error', async () => {
    const { batcher } = setup();
    await expect(batcher.process('a', { timeoutMs: -1 })).rejects.toThrow(/^createBatcher\.process: timeoutMs/);
    await expect(batcher.process('a', { signal: {} as AbortSignal })).rejects.toThrow(/signal must be an AbortSignal/);
  });
});
