/**
 * createBatcher's promise bridge (src/batcher/createBatcher.ts, lines 170-405: the submissions, submit, the
 * calls), where mutation testing looked for promises no test guarded (docs/testing.md, issue 17). Public API only.
 */
import { describe, expect, it } from 'vitest';
import { BatcherClosedError, createBatcher, createBatchStats } from '../src/index.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';

/** Lets `promise` settle on the virtual clock; 'pending' when it has not after `ms` of virtual time. */
async function settleWithin<V>(clock: VirtualClock, promise: Promise<V>, ms = 100): Promise<PromiseSettledResult<V> | 'pending'> {
  let done: PromiseSettledResult<V> | undefined;
  void Promise.allSettled([promise]).then(([r]) => (done = r));
  for (let t = 0; t < ms && done === undefined; t++) {
    for (let k = 0; k < 5; k++) await Promise.resolve();
    clock.advanceBy(1);
  }
  for (let k = 0; k < 5; k++) await Promise.resolve();
  return done ?? 'pending';
}

const execute = (items: readonly string[]) => items.map((s) => s.toUpperCase());

describe('a batcher closed while a call is still submitting', () => {
  // submit()'s own `if (closed)` made false (openCall checks it too, but only once per call): requests that a
  // processAll iterable yields after it closed the batcher were accepted.
  it('processAll: the requests after close() are refused with BatcherClosedError', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ execute, windowMs: 1, scheduler: clock.scheduler });
    function* requests() {
      yield 'a';
      void batcher.close();
      yield 'b';
    }
    const outcome = await settleWithin(clock, batcher.processAll(requests()));
    expect(outcome).toMatchObject({ status: 'rejected' });
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(BatcherClosedError);
    expect(batcher.getStats().totalRequests).toBe(1);
  });
});

describe('a defect while a request is pushed', () => {
  // submit()'s catch emptied: an error thrown while the engine took the request (a defect, here a stats recorder
  // that throws) was swallowed, and the caller waited forever.
  it('rejects that request with the error, and the batcher refuses later calls with it', async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<string, string>({ execute, windowMs: 1, scheduler: clock.scheduler, stats });
    const defect = new Error('recorder broke');
    stats.recordRequests = () => {
      throw defect;
    };
    const outcome = await settleWithin(clock, batcher.process('a'));
    expect(outcome).toEqual({ status: 'rejected', reason: defect });
    expect(batcher.closed).toBe(true);
    await expect(batcher.process('b')).rejects.toBe(defect);
  });
});

describe('a defect while requests already answered are still held', () => {
  // Submission.settle()'s `answer === undefined` guard made false: the defect's rejection of every request held
  // reached one already answered (its deadline passed while its batch ran), threw there, and left the requests
  // after it unanswered.
  it('every request still waiting is rejected with the error, past one answered already', async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<string, string>({
      execute: () => new Promise<string[]>(() => undefined), // never answers
      windowMs: 1,
      scheduler: clock.scheduler,
      stats,
    });
    const early = batcher.process('a', { timeoutMs: 5 });
    const waiting = batcher.process('b');
    expect(await settleWithin(clock, early)).toMatchObject({ status: 'rejected', reason: { name: 'BatchTimeoutError' } });
    const defect = new Error('recorder broke');
    stats.recordRequests = () => {
      throw defect;
    };
    expect(await settleWithin(clock, batcher.process('c'))).toEqual({ status: 'rejected', reason: defect });
    expect(await settleWithin(clock, waiting)).toEqual({ status: 'rejected', reason: defect });
  });
});

