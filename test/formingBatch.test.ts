/**
 * The forming batch through the promise bridge (issue 12 item 1): a request equal to one waiting in the queue
 * joins it (a follower), and each per-call feature still applies to it alone: its own `timeoutMs` and `signal`
 * take it out without touching its leader, a withdrawn leader hands its place to a follower, `maxQueueSize` and
 * `queueDepth` count it, and `close()` or a defect hand it back like any request held.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BatchTimeoutError, createBatcher, QueueFullError } from '../src/index.js';
import { PipelineConfig } from '../src/internal/pipelineConfig.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import type { DedupedBatch } from '../src/types.js';
import { settleAll, turn } from './support.js';

const upper = (s: string) => s.toUpperCase();
const outcome = <V>(p: Promise<V>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));

function setup(options: { windowMs?: number; maxQueueSize?: number; requestTimeoutMs?: number } = {}) {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: upper });
  const batcher = createBatcher<string, string>({ execute: backend.execute, windowMs: 20, scheduler: clock.scheduler, ...options });
  return { clock, backend, batcher };
}

describe('createBatcher: a follower keeps its own deadline and signal', () => {
  it("rejects a follower at its own timeoutMs, counted as expired; its leader still runs and answers", async () => {
    const { clock, backend, batcher } = setup();
    const leader = outcome(batcher.process('a'));
    const follower = outcome(batcher.process('a', { timeoutMs: 8 }));
    await turn();
    expect(batcher.getStats().queueDepth).toBe(2); // both wait for the batch, one place in it
    clock.advanceBy(8);
    await turn();
    expect(await Promise.race([follower, turn().then(() => 'pending')])).toEqual({ error: expect.any(BatchTimeoutError) });
    expect(batcher.getStats()).toMatchObject({ queueDepth: 1, expired: 1, timeouts: 1 });
    clock.advanceBy(20);
    expect(await leader).toEqual({ value: 'A' });
    expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[20, ['a']]]);
    expect(batcher.getStats()).toMatchObject({ deduplicated: 0, executedItems: 1, completed: 2 });
  });

  it("rejects a follower whose signal aborts with the reason; its leader is still sent", async () => {
    const { clock, backend, batcher } = setup();
    const controller = new AbortController();
    const leader = outcome(batcher.process('a'));
    const follower = outcome(batcher.process('a', { signal: controller.signal }));
    const reason = new Error('caller left');
    controller.abort(reason);
    expect(await follower).toEqual({ error: reason });
    clock.advanceBy(30);
    expect(await leader).toEqual({ value: 'A' });
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('answers a follower with the batch of the leader it joined, as a duplicate counted like one', async () => {
    const { clock, backend, batcher } = setup();
    const results: { request: string; batchId: number; deduplicated: boolean }[] = [];
    const streaming = (async () => {
      for await (const r of batcher.processStreaming(['a', 'b', 'a'])) results.push({ request: r.request, batchId: r.batchId, deduplicated: r.deduplicated });
    })();
    await turn();
    clock.advanceBy(30);
    await streaming;
    expect(results).toEqual([
      { request: 'a', batchId: 1, deduplicated: false },
      { request: 'a', batchId: 1, deduplicated: true },
      { request: 'b', batchId: 1, deduplicated: false },
    ]);
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]);
    expect(batcher.getStats()).toMatchObject({ deduplicated: 1, avgBatchSize: 3, executedItems: 2 });
  });
});

describe('createBatcher: a withdrawn leader hands its place to a follower', () => {
  it('sends the follower when the leader times out while waiting', async () => {
    const { clock, backend, batcher } = setup();
    const leader = outcome(batcher.process('a', { timeoutMs: 5 }));
    const follower = outcome(batcher.process('a'));
    clock.advanceBy(5);
    expect(await leader).toEqual({ error: expect.any(BatchTimeoutError) });
    clock.advanceBy(30);
    expect(await follower).toEqual({ value: 'A' });
    expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[20, ['a']]]);
  });

  it('withdraws a promoted follower from the place it took when its own deadline passes: nothing is sent', async () => {
    const { clock, backend, batcher } = setup();
    const leader = outcome(batcher.process('a', { timeoutMs: 5 }));
    const follower = outcome(batcher.process('a', { timeoutMs: 8 }));
    clock.advanceBy(5);
    expect(await leader).toEqual({ error: expect.any(BatchTimeoutError) });
    clock.advanceBy(3);
    expect(await follower).toEqual({ error: expect.any(BatchTimeoutError) });
    expect(batcher.getStats()).toMatchObject({ queueDepth: 0, expired: 2 });
    clock.advanceBy(30);
    expect(backend.calls).toEqual([]);
  });

  it('sends nothing when one signal aborts a leader and all its followers (processAll)', async () => {
    const { clock, backend, batcher } = setup();
    const controller = new AbortController();
    const all = outcome(batcher.processAll(['a', 'a', 'a'], { signal: controller.signal }));
    controller.abort(new Error('gone'));
    expect(await all).toEqual({ error: new Error('gone') });
    clock.advanceBy(30);
    await turn();
    expect(backend.calls).toEqual([]);
    expect(batcher.getStats()).toMatchObject({ queueDepth: 0, completed: 3 });
  });
});

describe('createBatcher: followers are requests waiting like any other', () => {
  it('counts them against maxQueueSize: a duplicate past it is refused with QueueFullError', async () => {
    const { clock, batcher } = setup({ maxQueueSize: 2 });
    const waiting = [outcome(batcher.process('a')), outcome(batcher.process('a'))];
    expect(await outcome(batcher.process('a'))).toEqual({ error: expect.any(QueueFullError) });
    clock.advanceBy(30);
    expect(await Promise.all(waiting)).toEqual([{ value: 'A' }, { value: 'A' }]);
  });

  it('close() sends the followers with their leader, and resolves once they are answered', async () => {
    const { clock, backend, batcher } = setup({ windowMs: 1_000 });
    const pending = [batcher.process('a'), batcher.process('b'), batcher.process('a')];
    const closing = batcher.close();
    expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]);
    expect(await settleAll(clock, Promise.all(pending))).toEqual({ status: 'fulfilled', value: ['A', 'B', 'A'] });
    await closing;
  });
});

describe('createBatcher after a defect, with followers waiting', () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it('rejects every follower with the defect too', async () => {
    const defect = new Error('dedup stage rejects');
    type Deduper = (items: never[]) => DedupedBatch<never> | Promise<DedupedBatch<never>>;
    const realDeduper = Object.getOwnPropertyDescriptor(PipelineConfig.prototype, 'deduper')!;
    restore = () => Object.defineProperty(PipelineConfig.prototype, 'deduper', realDeduper);
    let dedups = 0;
    Object.defineProperty(PipelineConfig.prototype, 'deduper', {
      configurable: true,
      get(this: unknown) {
        const deduper = realDeduper.get!.call(this) as Deduper;
        return (items: never[]) => (++dedups === 2 ? Promise.reject(defect) : deduper(items));
      },
    });
    const batcher = createBatcher<string, string>({
      execute: () => new Promise<string[]>(() => undefined), // the first batch never answers
      maxSize: 2,
      windowMs: 1000,
      concurrency: 2,
      dedupStrategy: 'hybrid', // a dedup stage at batch time
    });
    const sent = [outcome(batcher.process('a')), outcome(batcher.process('b')), outcome(batcher.process('a'))];
    const failing = [outcome(batcher.process('c')), outcome(batcher.process('d'))];
    // Both slots taken: e waits in the queue, and its duplicate with it.
    const queued = [outcome(batcher.process('e')), outcome(batcher.process('e'))];
    const all = await Promise.all([...sent, ...failing, ...queued]);
    expect(all).toEqual(Array.from({ length: 7 }, () => ({ error: defect })));
  });
});
