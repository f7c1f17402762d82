/**
 * The engine's second half (src/internal/engine.ts from `followerLeft` on: promotion, admission, batch-time dedup,
 * execution, the end), where mutation testing looked for promises no test guarded (docs/testing.md, issue 17).
 * Through createBatcher only, on a virtual clock, so these tests hold whatever the engine's internals become.
 */
import { describe, expect, it, vi } from 'vitest';
import { BatchTimeoutError, createBatcher, type BatchDedupOptions } from '../src/index.js';
import { simulatedBackend, virtualClock, type VirtualClock } from '../src/testing/index.js';

const upper = (s: string) => s.toUpperCase();

/** Lets `promise` settle on the virtual clock; 'pending' when it has not after `ms` of virtual time. */
async function settleWithin<V>(clock: VirtualClock, promise: Promise<V>, ms = 1000): Promise<PromiseSettledResult<V> | 'pending'> {
  let done: PromiseSettledResult<V> | undefined;
  void Promise.allSettled([promise]).then(([r]) => (done = r));
  for (let t = 0; t < ms && done === undefined; t++) {
    for (let k = 0; k < 5; k++) await Promise.resolve();
    clock.advanceBy(1);
  }
  for (let k = 0; k < 5; k++) await Promise.resolve();
  return done ?? 'pending';
}

function setup(options: Partial<BatchDedupOptions<string, string>> = {}, durationMs = 100) {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => durationMs, compute: upper });
  const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: backend.execute, ...options });
  return { clock, backend, batcher };
}

describe('a follower promoted in place of its withdrawn leader', () => {
  it('keeps the priority of the followers still behind it: it is batched before a request of lower priority', async () => {
    const { clock, backend, batcher } = setup({ enablePriorities: true, priorityAgingPerSecond: 0, maxSize: 1, concurrency: 1 });
    const block = batcher.process('block'); // takes the one slot until t = 100
    const controller = new AbortController();
    const leader = batcher.process('x', { priority: 0, signal: controller.signal });
    const promoted = batcher.process('x', { priority: 0 });
    const urgent = batcher.process('x', { priority: 10 }); // raises what it follows to 10
    const middle = batcher.process('y', { priority: 5 });
    controller.abort('leader left');
    await expect(leader).rejects.toBe('leader left');
    expect(await settleWithin(clock, Promise.all([block, promoted, urgent, middle]))).toEqual({
      status: 'fulfilled',
      value: ['BLOCK', 'X', 'X', 'Y'],
    });
    expect(backend.calls.map((c) => c.items)).toEqual([['block'], ['x'], ['y']]);
  });

  it('without priorities, a withdrawable one with a follower still behind it is queued and answered with it', async () => {
    const { clock, backend, batcher } = setup({}, 1);
    const leader = batcher.process('x', { timeoutMs: 3 }); // leaves at t = 3, before its batch forms at t = 5
    const promoted = batcher.process('x', { timeoutMs: 500 });
    const last = batcher.process('x');
    const outcomes = await settleWithin(clock, Promise.allSettled([leader, promoted, last]));
    expect(outcomes).toMatchObject({ status: 'fulfilled', value: [{ status: 'rejected' }, { status: 'fulfilled', value: 'X' }, { status: 'fulfilled', value: 'X' }] });
    expect(((outcomes as PromiseFulfilledResult<PromiseSettledResult<string>[]>).value[0] as PromiseRejectedResult).reason).toBeInstanceOf(BatchTimeoutError);
    expect(backend.calls.map((c) => c.items)).toEqual([['x']]);
  });
});

describe('admission with priorities on', () => {
  // admit()'s `timeoutMs === undefined && !signal && !withdrawable` made true on the prioritized path: a request
  // was queued with its priority only, and requestTimeoutMs never took it out of the queue.
  it('requestTimeoutMs still takes a waiting request out: rejected with BatchTimeoutError, never sent', async () => {
    const { clock, backend, batcher } = setup({ enablePriorities: true, maxSize: 1, concurrency: 1, requestTimeoutMs: 50 });
    const block = batcher.process('block'); // takes the one slot until t = 100
    const late = batcher.process('late');
    const outcome = await settleWithin(clock, late);
    expect(outcome).toMatchObject({ status: 'rejected' });
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(BatchTimeoutError);
    expect(await settleWithin(clock, block)).toEqual({ status: 'fulfilled', value: 'BLOCK' });
    expect(backend.calls.map((c) => c.items)).toEqual([['block']]);
  });

  // admit()'s `priority === undefined` made true: priority(request), computed at arrival, was called again when
  // the request was queued.
  it('priority(request) is called once per request', async () => {
    const seen: string[] = [];
    const { clock, batcher } = setup({ enablePriorities: true, priority: (q) => (seen.push(q), q.length) }, 1);
    expect(await settleWithin(clock, Promise.all([batcher.process('a'), batcher.process('bb'), batcher.process('a')]))).toEqual({
      status: 'fulfilled',
      value: ['A', 'BB', 'A'],
    });
    expect(seen).toEqual(['a', 'bb', 'a']);
  });

  // admit()'s `timeoutMs === undefined ? undefined : ...` on the prioritized path made false: a request with a
  // deadline of its own (so no requestTimeoutMs) was queued with the deadline NaN, and on the host's clock a
  // timer of NaN ms fires at once: it was rejected with BatchTimeoutError about a millisecond after it arrived.
  // Under fake timers (no real time passes); a virtual clock holds a NaN timer back instead.
  it('on the default scheduler, a call with its own timeoutMs is not expired early', async () => {
    vi.useFakeTimers();
    try {
      const batcher = createBatcher<string, string>({ enablePriorities: true, windowMs: 50, execute: (qs) => qs.map(upper) });
      let outcome: PromiseSettledResult<string> | undefined;
      void Promise.allSettled([batcher.process('a', { timeoutMs: 1000 })]).then(([r]) => (outcome = r));
      await vi.advanceTimersByTimeAsync(100);
      expect(outcome).toEqual({ status: 'fulfilled', value: 'A' });
      await batcher.close();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('batch-time dedup after a configure() of the key', () => {
  // dedup()'s `if (older) distinct = false` made false: a batch holding a leader that others joined under the old
  // key was taken as distinct under the new one, and a request arriving after the change, equal to that leader
  // under the new key, was sent as an item of its own.
  it('a request equal, under the new key, to a leader that others joined under the old one shares its item', async () => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = createBatcher<{ id: number; v: string }, string>({
      scheduler: clock.scheduler,
      windowMs: 10,
      key: (q) => `${q.id}${q.v}`,
      execute: (items) => {
        calls.push(items.map((q) => `${q.id}${q.v}`));
        return items.map((q) => `for ${q.id}${q.v}`);
      },
    });
    const leader = batcher.process({ id: 1, v: 'a' });
    const follower = batcher.process({ id: 1, v: 'a' }); // joins it under the old key
    batcher.configure({ key: (q) => String(q.id) });
    const later = batcher.process({ id: 1, v: 'b' }); // equal to the leader under the new key only
    expect(await settleWithin(clock, Promise.all([leader, follower, later]))).toEqual({
      status: 'fulfilled',
      value: ['for 1a', 'for 1a', 'for 1a'],
    });
    expect(calls).toEqual([['1a']]);
  });
});

describe('a batch whose dedup answers later (an asynchronous embedder)', () => {
  // dedupLater()'s `followers === undefined ? leaders : leaders.concat(followers)` made true: the batch's
  // followers were left out of what it holds, so once its leaders' callers had all left (a deadline) the batch was
  // dropped as owed to nobody, and a follower still waiting was never answered.
  it('is still executed for a follower when every leader has left meanwhile', async () => {
    const clock = virtualClock();
    const embeds: (() => void)[] = [];
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      dedupStrategy: 'hybrid',
      embedTimeoutMs: Infinity,
      embed: (texts: string[]) => new Promise<number[][]>((resolve) => embeds.push(() => resolve(texts.map((_, i) => [1, i])))),
      execute: (items) => {
        calls.push([...items]);
        return items.map(upper);
      },
    });
    // Two texts close enough for the embedder to be asked whether they are the same question.
    const leader = batcher.process('What is the capital of France?', { timeoutMs: 5 });
    const follower = batcher.process('What is the capital of France?'); // joins the leader at arrival
    const other = batcher.process('what is the capital of france', { timeoutMs: 5 });
    clock.advanceBy(2); // the batch forms and waits for its embeddings
    expect(embeds).toHaveLength(1);
    expect(await settleWithin(clock, Promise.allSettled([leader, other]), 10)).toMatchObject({
      status: 'fulfilled',
      value: [{ status: 'rejected' }, { status: 'rejected' }],
    });
    embeds[0]!();
    expect(await settleWithin(clock, follower)).toEqual({ status: 'fulfilled', value: 'WHAT IS THE CAPITAL OF FRANCE?' });
    // The follower is owed its leader's item; the other item, whose only caller left, is not sent (row 168).
    expect(calls).toEqual([['What is the capital of France?']]);
  });

  // dedupLater()'s `if (this.unowed(items))` made false: the batch was sent though nobody waited for it any more;
  // its block emptied: it was neither sent nor given its slot back, and with concurrency 1 nothing ran after it.
  it('is not sent when every caller left meanwhile, and gives its slot back', async () => {
    const clock = virtualClock();
    const embeds: (() => void)[] = [];
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      concurrency: 1,
      dedupStrategy: 'hybrid',
      embedTimeoutMs: Infinity,
      embed: (texts: string[]) => new Promise<number[][]>((resolve) => embeds.push(() => resolve(texts.map((_, i) => [1, i])))),
      execute: (items) => {
        calls.push([...items]);
        return items.map(upper);
      },
    });
    const left = [
      batcher.process('What is the capital of France?', { timeoutMs: 5 }),
      batcher.process('what is the capital of france', { timeoutMs: 5 }),
    ];
    clock.advanceBy(2);
    expect(embeds).toHaveLength(1);
    expect(await settleWithin(clock, Promise.allSettled(left), 10)).toMatchObject({
      status: 'fulfilled',
      value: [{ status: 'rejected' }, { status: 'rejected' }],
    });
    embeds[0]!();
    expect(await settleWithin(clock, batcher.process('refund order 1234'))).toEqual({ status: 'fulfilled', value: 'REFUND ORDER 1234' });
    expect(calls).toEqual([['refund order 1234']]);
  });
});

describe('a follower whose leader cannot be keyed under the settings a configure() put in effect', () => {
  // joinFollowers()'s `failures !== undefined && failed!.has(leader)` made false (or the follower's index
  // `n + k` made `n - k`): the follower was not given its leader's failure.
  it("is rejected with its leader's error, as its leader is", async () => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = createBatcher<{ id: string }, string>({
      scheduler: clock.scheduler,
      windowMs: 10,
      key: (q) => q.id,
      execute: (items) => {
        calls.push(items.map((q) => q.id));
        return items.map((q) => `for ${q.id}`);
      },
    });
    const other = batcher.process({ id: 'ok' });
    const otherFollower = batcher.process({ id: 'ok' }); // so that the follower below is not the first one
    const leader = batcher.process({ id: 'bad' });
    const follower = batcher.process({ id: 'bad' }); // joins it under the old key
    batcher.configure({
      key: (q) => {
        if (q.id === 'bad') throw new Error('no key for bad');
        return q.id;
      },
    });
    expect(await settleWithin(clock, Promise.all([other, otherFollower]))).toEqual({ status: 'fulfilled', value: ['for ok', 'for ok'] });
    const outcomes = await settleWithin(clock, Promise.allSettled([leader, follower]));
    expect(outcomes).toMatchObject({ status: 'fulfilled', value: [{ status: 'rejected' }, { status: 'rejected' }] });
    const [l, f] = (outcomes as PromiseFulfilledResult<PromiseSettledResult<string>[]>).value as PromiseRejectedResult[];
    expect(f!.reason).toBe(l!.reason);
    expect(String(l!.reason)).toMatch(/no key for bad/);
    expect(calls).toEqual([['ok']]);
  });
});

