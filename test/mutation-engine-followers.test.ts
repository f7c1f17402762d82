/**
 * Requests that follow an equal request waiting in the queue (src/internal/engine.ts, `follow`, `promote`,
 * `admit`), where mutation testing looked for promises no test guarded (docs/testing.md): a follower counts
 * against `maxQueueSize`, keeps its own deadline and signal, and one promoted in place of a withdrawn leader takes
 * the place that leader freed.
 */
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError, createBatcher, QueueFullError } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

const upper = (s: string) => s.toUpperCase();

function setup(options: { maxQueueSize?: number; requestTimeoutMs?: number } = {}) {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 1, compute: upper });
  const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 20, execute: backend.execute, ...options });
  return { clock, backend, batcher };
}

describe('a follower and maxQueueSize', () => {
  it('a request equal to one waiting is refused with QueueFullError when the queue is full', async () => {
    const { clock, backend, batcher } = setup({ maxQueueSize: 1 });
    const leader = batcher.process('a');
    const follower = batcher.process('a');
    const refused = await settleAll(clock, follower);
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
    expect(await settleAll(clock, leader)).toEqual({ status: 'fulfilled', value: 'A' });
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('followers count against the bound too: a distinct request finding the queue full of them is refused', async () => {
    const { clock, backend, batcher } = setup({ maxQueueSize: 2 });
    const answers = Promise.all([batcher.process('a'), batcher.process('a')]);
    const refused = await settleAll(clock, batcher.process('b'));
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
    expect(await settleAll(clock, answers)).toEqual({ status: 'fulfilled', value: ['A', 'A'] });
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('a refusal by the bound is not counted as an expiry', async () => {
    const { clock, batcher } = setup({ maxQueueSize: 1 });
    const answer = batcher.process('a');
    await settleAll(clock, batcher.process('b'));
    await settleAll(clock, answer);
    expect(batcher.getStats()).toMatchObject({ expired: 0, totalRequests: 2 });
  });

  it('a follower promoted in place of its withdrawn leader takes the place it freed, even past a bound lowered meanwhile', async () => {
    const { clock, backend, batcher } = setup({ maxQueueSize: 3 });
    const controller = new AbortController();
    const leader = batcher.process('a', { signal: controller.signal });
    const follower = batcher.process('a');
    const other = batcher.process('b');
    batcher.configure({ maxQueueSize: 1 });
    controller.abort('leader left');
    await expect(leader).rejects.toBe('leader left');
    expect(await settleAll(clock, Promise.all([follower, other]))).toEqual({ status: 'fulfilled', value: ['A', 'B'] });
    expect(backend.calls.map((c) => [...c.items].sort())).toEqual([['a', 'b']]);
  });
});

describe("a follower's own deadline", () => {
  it('requestTimeoutMs takes a follower out alone; its leader, with a deadline of its own, is still sent', async () => {
    const { clock, backend, batcher } = setup({ requestTimeoutMs: 5 });
    const leader = batcher.process('a', { timeoutMs: 100 });
    clock.advanceBy(2);
    const follower = batcher.process('a');
    const settled = await settleAll(clock, follower);
    expect(settled.status).toBe('rejected');
    expect((settled as PromiseRejectedResult).reason).toBeInstanceOf(BatchTimeoutError);
    expect(await settleAll(clock, leader)).toEqual({ status: 'fulfilled', value: 'A' });
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it("requestTimeoutMs counts from the follower's own arrival", async () => {
    const { clock, batcher } = setup({ requestTimeoutMs: 5 });
    void batcher.process('a', { timeoutMs: 100 });
    clock.advanceBy(3);
    let rejectedAt: number | undefined;
    const follower = batcher.process('a').catch((error: unknown) => {
      rejectedAt = clock.scheduler.now();
      throw error;
    });
    expect((await settleAll(clock, follower)).status).toBe('rejected');
    expect(rejectedAt).toBe(8);
  });
});
