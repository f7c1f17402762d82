/**
 * A request that joined an equal one waiting in the queue, under settings a live `configure()` then changed
 * (found by the `trust-keys` property in CI, seed 839789321): it was equal to its leader under the old key only,
 * and when the batch, deduplicated under the new key, merged that leader into another request, it was answered
 * with that other request's result, equal to it under neither key. Now such a leader is executed on its own
 * (its batch carries no more items than it has leaders, so maxSize holds).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { runFor } from './support.js';

interface Req {
  readonly a: number;
  readonly b: number;
}

/** A batcher keyed by `a` that answers each request with itself, noting each call's items. */
function keyedByA() {
  const clock = virtualClock();
  const calls: Req[][] = [];
  const batcher = createBatcher<Req, Req>({
    key: (r) => r.a,
    windowMs: 5,
    scheduler: clock.scheduler,
    execute: (items) => {
      calls.push([...items]);
      return items;
    },
  });
  return { clock, calls, batcher };
}

describe('followers joined under settings configure() changed', () => {
  it('are answered with their own leader\'s result: a leader merged into another under the new settings runs on its own', async () => {
    const { clock, calls, batcher } = keyedByA();
    const first = batcher.process({ a: 0, b: 0 });
    const second = batcher.process({ a: 1, b: 0 });
    const third = batcher.process({ a: 1, b: 1 }); // joins the second: equal under the key a
    batcher.configure({ key: (r) => r.b }); // before the window closes: the batch is keyed by b
    await runFor(clock, 10);
    // Under b the second equals the first, but the third (b 1) equals neither under b, and only the second
    // under a: the second is executed for it, and the batch holds no more items than it had leaders.
    await expect(first).resolves.toEqual({ a: 0, b: 0 });
    await expect(second).resolves.toEqual({ a: 1, b: 0 });
    await expect(third).resolves.toEqual({ a: 1, b: 0 });
    expect(calls).toEqual([[{ a: 0, b: 0 }, { a: 1, b: 0 }]]);
  });

  it('that equal their leader\'s new group under the new settings still share it when nothing joined under the old', async () => {
    const { clock, calls, batcher } = keyedByA();
    const first = batcher.process({ a: 0, b: 0 });
    const second = batcher.process({ a: 1, b: 0 }); // nothing joins it
    batcher.configure({ key: (r) => r.b });
    await runFor(clock, 10);
    await expect(first).resolves.toEqual({ a: 0, b: 0 });
    await expect(second).resolves.toEqual({ a: 0, b: 0 }); // merged under b, as batch-time dedup does
    expect(calls).toEqual([[{ a: 0, b: 0 }]]);
  });

  it('still share their leader\'s execution when the settings did not change', async () => {
    const { clock, calls, batcher } = keyedByA();
    const answers = Promise.all([batcher.process({ a: 0, b: 0 }), batcher.process({ a: 1, b: 0 }), batcher.process({ a: 1, b: 1 })]);
    batcher.configure({ windowMs: 5 });
    await runFor(clock, 10);
    await expect(answers).resolves.toEqual([{ a: 0, b: 0 }, { a: 1, b: 0 }, { a: 1, b: 0 }]);
    expect(calls).toEqual([[{ a: 0, b: 0 }, { a: 1, b: 0 }]]);
  });
});
