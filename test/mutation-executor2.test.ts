/**
 * The execution slots given back without a batch run (src/internal/executor.ts, `freeSlots`: a batch the semantic
 * result cache answered whole, or executions close() stopped), where mutation testing looked for promises no test
 * guarded (docs/testing.md, issue 17). Through createBatcher only, on a virtual clock.
 */
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError, createBatcher } from '../src/index.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';
import { drain, settleAll } from './support.js';

/** Lets `promise` settle on the virtual clock; 'pending' when it has not after `ms` of virtual time. */
async function settleWithin<V>(clock: VirtualClock, promise: Promise<V>, ms: number): Promise<PromiseSettledResult<V> | 'pending'> {
  let done: PromiseSettledResult<V> | undefined;
  void Promise.allSettled([promise]).then(([r]) => (done = r));
  for (let t = 0; t < ms && done === undefined; t++) {
    for (let k = 0; k < 5; k++) await Promise.resolve();
    clock.advanceBy(1);
  }
  for (let k = 0; k < 5; k++) await Promise.resolve();
  return done ?? 'pending';
}

describe('a slot given back without a run', () => {
  // freeSlots' `k < count` made `k <= count`: one slot freed gave two back, so the collector formed a batch while
  // both slots were still busy (it then waited in the executor), instead of holding its requests for a free slot.
  it('gives back exactly that slot: with both slots busy, the requests that come meanwhile wait and go together', async () => {
    const clock = virtualClock();
    const executed: string[][] = [];
    const batcher = createBatcher<string, string>({
      execute: (qs) => {
        executed.push([...qs]);
        const ms = qs[0]!.startsWith('What') ? 1 : 1000;
        return new Promise((resolve) => clock.scheduler.schedule(() => resolve(qs.map((q) => `answer to ${q}`)), ms));
      },
      windowMs: 1,
      concurrency: 2,
      dedupStrategy: 'hybrid',
      dedupThreshold: 0.94,
      resultCache: { ttlMs: 60_000, semantic: true },
      scheduler: clock.scheduler,
    });
    await expect(settleAll(clock, batcher.process('What is the capital of France?'))).resolves.toMatchObject({ status: 'fulfilled' });
    const slow = batcher.process('refund order 1234'); // holds a slot until t + 1000
    clock.advanceBy(2);
    // Answered whole by the cache: the slot the collector took for its batch is given back.
    await expect(settleAll(clock, batcher.process('what is the capital of france'))).resolves.toEqual({
      status: 'fulfilled',
      value: 'answer to What is the capital of France?',
    });
    const second = batcher.process('weather in Paris tomorrow'); // the second slot, until t + 1000
    clock.advanceBy(2);
    const waiting = [batcher.process('reset my password please')];
    clock.advanceBy(5);
    waiting.push(batcher.process('ship parcel to Berlin'));
    expect(await settleWithin(clock, Promise.all([slow, second, ...waiting]), 3000)).toMatchObject({ status: 'fulfilled' });
    expect(executed.slice(1)).toEqual([
      ['refund order 1234'],
      ['weather in Paris tomorrow'],
      ['reset my password please', 'ship parcel to Berlin'],
    ]);
    await batcher.close();
  });

  // freeSlots' empty report made `{}`: the adaptive window, which reads every report's latencies, threw from
  // inside close() when close() stopped an execution that nobody waited for any more.
  it('with the adaptive window: close() stopping an execution nobody waits for resolves', async () => {
    const clock = virtualClock();
    let started = 0;
    const batcher = createBatcher<string, string>({
      execute: () => {
        started++;
        return new Promise<string[]>(() => undefined); // never answers: only close() ends it
      },
      windowMs: 1,
      adaptive: true,
      scheduler: clock.scheduler,
    });
    const answer = settleAll(clock, batcher.process('a', { timeoutMs: 10 }));
    const result = await answer;
    expect(result.status).toBe('rejected');
    expect((result as PromiseRejectedResult).reason).toBeInstanceOf(BatchTimeoutError);
    expect(started).toBe(1);
    let closing!: Promise<void>;
    expect(() => (closing = batcher.close())).not.toThrow();
    expect(await drain(clock, closing)).toBe(true);
  });
});
