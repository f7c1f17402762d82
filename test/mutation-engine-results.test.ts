/**
 * What the engine reports (src/internal/engine.ts), where mutation testing looked for promises no test guarded
 * (docs/testing.md): the result of a request its caller's own deadline took back, and the stats' window gauge
 * with an adaptive window.
 */
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError, createBatcher, type BatchResult } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { settleAll, turn } from './support.js';

const upper = (s: string) => s.toUpperCase();

describe('a request its own deadline takes back after it was sent', () => {
  it('processStreaming yields it rejected with BatchTimeoutError, not deduplicated', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 20, compute: upper });
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 1, execute: backend.execute });
    const seen: BatchResult<string, string>[] = [];
    const done = (async () => {
      for await (const result of batcher.processStreaming(['a'], { timeoutMs: 5 })) seen.push(result);
    })();
    await turn();
    clock.advanceBy(1); // sent
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
    clock.advanceBy(4); // its deadline
    await done;
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ request: 'a', status: 'rejected', deduplicated: false, latencyMs: 5 });
    expect(seen[0]!.error).toBeInstanceOf(BatchTimeoutError);
  });
});

describe('stats with an adaptive window', () => {
  it('currentWindowMs reports the window the controller holds, from the start', () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      adaptive: true,
      windowMs: 20,
      execute: (items) => items.map(upper),
    });
    expect(batcher.getStats().currentWindowMs).toBe(20);
  });
});

describe('priorities with enableDedup: false (nothing shared at arrival)', () => {
  it('process(request, { priority }) without enablePriorities is refused with a TypeError and never sent', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 1, compute: upper });
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, enableDedup: false, windowMs: 1, execute: backend.execute });
    const refused = await settleAll(clock, batcher.process('a', { priority: 1 }));
    expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect((refused as PromiseRejectedResult).reason.message).toMatch(/priority/);
    expect(backend.calls).toEqual([]);
  });

  it('a priority(request) that throws rejects that request with the error; the others are served', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 1, compute: upper });
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      enableDedup: false,
      enablePriorities: true,
      priority: (r) => {
        if (r === 'bad') throw new Error('no priority for bad');
        return 1;
      },
      windowMs: 1,
      execute: backend.execute,
    });
    const answers = Promise.allSettled([batcher.process('a'), batcher.process('bad')]);
    const [a, bad] = ((await settleAll(clock, answers)) as PromiseFulfilledResult<PromiseSettledResult<string>[]>).value;
    expect(a).toEqual({ status: 'fulfilled', value: 'A' });
    expect(String((bad as PromiseRejectedResult).reason)).toMatch(/no priority for bad/);
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('latencyByPriority counts each request under its priority(request)', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      enableDedup: false,
      enablePriorities: true,
      priority: (r) => (r === 'urgent' ? 5 : 1),
      windowMs: 1,
      execute: (items) => items.map(upper),
    });
    await settleAll(clock, Promise.all([batcher.process('urgent'), batcher.process('later')]));
    expect(Object.keys(batcher.getStats().latencyByPriority).sort()).toEqual(['1', '5']);
  });
});
