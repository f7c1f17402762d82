/**
 * Survivors of the stop-16 Stryker run in the engine (src/internal/engine.ts, issue 17), through createBatcher.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

describe('a follower with a higher priority', () => {
  // Kills engine.ts queue() `if (kept && place !== undefined) slot.place = place` made false
  // (ConditionalExpression): the leader's record never knew its place in the queue, so a follower's higher
  // priority could not move its leader up (docs/scheduling.md: a higher priority moves its leader up to it).
  it('moves the request it joined up the queue, ahead of a request of a priority between theirs', async () => {
    const clock = virtualClock();
    const sent: string[][] = [];
    const release: (() => void)[] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      maxSize: 1,
      concurrency: 1,
      enablePriorities: true,
      execute: (items) => {
        sent.push([...items]);
        return new Promise<string[]>((resolve) => release.push(() => resolve(items.map((item) => item.toUpperCase()))));
      },
    });
    const answers = [batcher.process('x')];
    clock.advanceBy(1); // 'x' takes the only slot
    answers.push(batcher.process('a', { priority: 1 }), batcher.process('b', { priority: 5 }), batcher.process('a', { priority: 9 }));
    for (let i = 0; i < 10; i++) {
      release.shift()?.();
      await turn();
      clock.advanceBy(1);
    }
    await expect(Promise.all(answers)).resolves.toEqual(['X', 'A', 'B', 'A']);
    expect(sent).toEqual([['x'], ['a'], ['b']]);
  });
});
