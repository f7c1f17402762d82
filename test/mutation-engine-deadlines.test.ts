/**
 * Which deadline a waiting request keeps (src/internal/engine.ts), where mutation testing looked for promises no
 * test guarded (docs/testing.md): a `process(request, { timeoutMs })` deadline replaces `requestTimeoutMs` for that
 * call, whether the request leads its slot or follows an equal request waiting in the queue.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

const upper = (s: string) => s.toUpperCase();

function setup() {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 1, compute: upper });
  // requestTimeoutMs (5) would expire every request before its window (20) closes.
  const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 20, requestTimeoutMs: 5, execute: backend.execute });
  return { clock, backend, batcher };
}

describe('a call with its own timeoutMs is not held to requestTimeoutMs', () => {
  it('alone in the queue: answered by the batch after requestTimeoutMs has passed', async () => {
    const { clock, backend, batcher } = setup();
    const answer = batcher.process('a', { timeoutMs: 100 });
    expect(await settleAll(clock, answer)).toEqual({ status: 'fulfilled', value: 'A' });
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('following an equal request that waits: both answered by the batch', async () => {
    const { clock, backend, batcher } = setup();
    const answers = Promise.all([batcher.process('a', { timeoutMs: 100 }), batcher.process('a', { timeoutMs: 100 })]);
    expect(await settleAll(clock, answers)).toEqual({ status: 'fulfilled', value: ['A', 'A'] });
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });

  it('following an equal request without one: the follower stays when the leader expires, and is sent', async () => {
    const { clock, backend, batcher } = setup();
    const leader = batcher.process('a');
    const follower = batcher.process('a', { timeoutMs: 100 });
    expect(await settleAll(clock, leader)).toMatchObject({ status: 'rejected', reason: { name: 'BatchTimeoutError' } });
    expect(await settleAll(clock, follower)).toEqual({ status: 'fulfilled', value: 'A' });
    expect(backend.calls.map((c) => c.items)).toEqual([['a']]);
  });
});
