/**
 * The engine's shared slots (src/internal/sharedSlots.ts) where stop 20's Stryker run (issue 17, H-MUT8, piece a)
 * found no test.
 *
 * - `ledBy` answers only for the request that leads a record: a follower withdrawn (its call aborted) leaves alone,
 *   and the request it followed is still sent and answered. With priorities the leader's record keeps its queue
 *   place; taken for the follower's, the withdrawal took the leader out of the queue with the follower's reason.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

const settle = (answer: Promise<string>) =>
  answer.then(
    (value) => `=${value}`,
    (error: unknown) => `!${(error as Error).message}`,
  );

/** Lets the answers' promise callbacks run (microtasks only: no timer). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

describe('a follower withdrawn while its leader waits in the queue', () => {
  it.each([true, false])('leaves alone: the leader is still sent and answered (enablePriorities %s)', async (enablePriorities) => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      enablePriorities,
      execute: (items) => (calls.push([...items]), items.map((item) => item.toUpperCase())),
    });
    const seen: string[] = [];
    void settle(batcher.process('a', { signal: new AbortController().signal })).then((o) => seen.push(`leader${o}`));
    const controller = new AbortController();
    void settle(batcher.process('a', { signal: controller.signal })).then((o) => seen.push(`follower${o}`));
    clock.advanceBy(1);
    controller.abort(new Error('the follower left'));
    await flush();
    expect(seen).toEqual(['follower!the follower left']);
    clock.advanceBy(5);
    await flush();
    expect(seen).toEqual(['follower!the follower left', 'leader=A']);
    expect(calls).toEqual([['a']]);
    await batcher.close();
  });
});

describe('followers sent with their leader no longer count as waiting', () => {
  it('queueDepth counts them while they wait, not once their batch is sent; the queue bound neither', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      maxQueueSize: 3,
      execute: (items) => new Promise<string[]>((resolve) => clock.scheduler.schedule(() => resolve(items.map((item) => item.toUpperCase())), 10)),
    });
    const answers = ['a', 'a', 'a'].map((request) => settle(batcher.process(request)));
    expect(batcher.getStats().queueDepth).toBe(3); // a leader and two followers
    clock.advanceBy(5); // the batch is sent, its followers with it
    expect(batcher.getStats().queueDepth).toBe(0);
    // Three more fit in the queue while the first batch executes.
    answers.push(...['b', 'c', 'd'].map((request) => settle(batcher.process(request))));
    expect(batcher.getStats().queueDepth).toBe(3);
    clock.advanceBy(20);
    expect(await Promise.all(answers)).toEqual(['=A', '=A', '=A', '=B', '=C', '=D']);
    await batcher.close();
  });
});

/**
 * `awaited`: after `close()`, an execution that no caller waits for any more is aborted, and one that a request
 * joined in flight still waits for runs on for it. Each call logs `abort <items>` when its signal aborts and answers
 * at frame 50 with its items upper-cased.
 */
describe('after close(), an execution is stopped only when nobody waits for it', () => {
  function setup() {
    const clock = virtualClock();
    const log: string[] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      processingTimeoutMs: 1000,
      execute: (items, context) => {
        context.signal.addEventListener('abort', () => log.push(`abort ${items.join(',')}`));
        return new Promise<string[]>((resolve) => clock.scheduler.schedule(() => resolve(items.map((item) => item.toUpperCase())), 50));
      },
    });
    const seen: string[] = [];
    const ask = (request: string, timeoutMs?: number) =>
      void settle(batcher.process(request, timeoutMs === undefined ? {} : { timeoutMs })).then((o) => seen.push(`${request}${o}`));
    return { clock, log, batcher, seen, ask };
  }

  it('one whose only caller left is aborted at close(), while another, joined in flight, runs on', async () => {
    const { clock, log, batcher, seen, ask } = setup();
    ask('a', 5); // its call at 1; its caller leaves at 5
    clock.advanceBy(2);
    ask('b'); // its call at 3
    clock.advanceBy(2);
    ask('b'); // joins b's call in flight
    clock.advanceBy(2); // a's caller has left
    const closed = batcher.close();
    await flush();
    expect(log).toEqual(['abort a']);
    clock.advanceBy(60);
    await closed;
    expect(seen).toEqual([expect.stringMatching(/^a!/), 'b=B', 'b=B']);
  });

  it('one whose leader left but a request joined in flight still waits for runs on for it', async () => {
    const { clock, log, batcher, seen, ask } = setup();
    ask('a', 5); // its call at 1; its caller leaves at 5
    clock.advanceBy(2);
    ask('a', 4); // joins in flight; leaves at 6
    ask('a'); // joins in flight, and waits
    clock.advanceBy(5);
    const closed = batcher.close();
    await flush();
    expect(log).toEqual([]);
    clock.advanceBy(60);
    await closed;
    expect(seen).toEqual([expect.stringMatching(/^a!/), expect.stringMatching(/^a!/), 'a=A']);
  });

  it('one whose leader and every request joined in flight left is aborted at close()', async () => {
    const { clock, log, batcher, seen, ask } = setup();
    ask('a', 5);
    clock.advanceBy(2);
    ask('a', 4); // joins in flight; leaves at 6
    ask('c'); // its call at 3 keeps the batcher open past close()
    clock.advanceBy(5);
    const closed = batcher.close();
    await flush();
    expect(log).toEqual(['abort a']);
    clock.advanceBy(60);
    await closed;
    expect(seen).toEqual([expect.stringMatching(/^a!/), expect.stringMatching(/^a!/), 'c=C']);
  });
});
