/**
 * Survivors of the stop-16 Stryker run in the priority a request waits with (src/internal/pipelineConfig.ts
 * priorityOf, issue 17), through createBatcher with priorities on.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, type BatchDedupOptions } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

/** The batches sent, one request each, when 'x' holds the only slot while `queued` arrive. */
async function order(options: Partial<BatchDedupOptions<string, string>>, queued: readonly (readonly [request: string, priority?: number])[]) {
  const clock = virtualClock();
  const sent: string[][] = [];
  const release: (() => void)[] = [];
  const batcher = createBatcher<string, string>({
    scheduler: clock.scheduler,
    windowMs: 1,
    maxSize: 1,
    concurrency: 1,
    enablePriorities: true,
    ...options,
    execute: (items) => {
      sent.push([...items]);
      return new Promise<string[]>((resolve) => release.push(() => resolve(items.map((item) => item.toUpperCase()))));
    },
  });
  const answers = [batcher.process('x')];
  clock.advanceBy(1); // 'x' takes the only slot
  for (const [request, priority] of queued) answers.push(batcher.process(request, priority === undefined ? undefined : { priority }));
  for (let i = 0; i < 10; i++) {
    release.shift()?.();
    await turn();
    clock.advanceBy(1);
  }
  await expect(Promise.all(answers)).resolves.toEqual(['x', ...queued.map(([request]) => request)].map((r) => r.toUpperCase()));
  return sent;
}

describe('the priority a request waits with', () => {
  // Kills pipelineConfig.ts:349 `envelope.priority !== undefined` made false (ConditionalExpression): a call's
  // own priority was ignored (every request 0), so requests went in arrival order.
  it("is the call's own: a later request of a higher priority goes first", async () => {
    expect(await order({}, [['a', 1], ['b', 5]])).toEqual([['x'], ['b'], ['a']]);
  });

  // Kills pipelineConfig.ts:351 `this.priorityFn === undefined` made false (ConditionalExpression): without a
  // priority function a request without a priority of its own waits with 0; the mutant called the missing function.
  it('is 0 without a priority function: requests without one are answered, in arrival order', async () => {
    expect(await order({}, [['a'], ['b']])).toEqual([['x'], ['a'], ['b']]);
  });
});
