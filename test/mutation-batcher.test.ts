/**
 * createBatcher's calls (src/batcher/createBatcher.ts), where mutation testing found promises no test guarded
 * (docs/testing.md): a call that settles leaves no timer and no listener behind, checked at the moment it
 * settles, not after a flush of every timer (which would have fired a leaked one by then).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

/** An AbortSignal that tells which abort listeners are still registered. */
function countedSignal() {
  const controller = new AbortController();
  const { signal } = controller;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListener, options?: AddEventListenerOptions) => {
    if (type === 'abort') live.add(listener);
    add(type, listener, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListener, options?: EventListenerOptions) => {
    if (type === 'abort') live.delete(listener);
    remove(type, listener, options);
  }) as typeof signal.removeEventListener;
  return { signal, live };
}

function setup() {
  const clock = virtualClock();
  const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 1, execute: (items) => items.map((item) => `value of ${item}`) });
  return { clock, batcher };
}

describe('a settled call leaves nothing behind', () => {
  it('process with timeoutMs: once answered, its deadline timer is gone', async () => {
    const { clock, batcher } = setup();
    const answer = batcher.process('a', { timeoutMs: 60_000 });
    await expect(settleAll(clock, answer)).resolves.toEqual({ status: 'fulfilled', value: 'value of a' });
    expect(clock.scheduler.actions).toHaveLength(0);
  });

  it('processAll with timeoutMs: once every request is answered, its one deadline timer is gone', async () => {
    const { clock, batcher } = setup();
    const answers = batcher.processAll(['a', 'b', 'a'], { timeoutMs: 60_000 });
    await expect(settleAll(clock, answers)).resolves.toEqual({ status: 'fulfilled', value: ['value of a', 'value of b', 'value of a'] });
    expect(clock.scheduler.actions).toHaveLength(0);
  });

  it('process with a signal: once answered, its abort listener is removed', async () => {
    const { clock, batcher } = setup();
    const { signal, live } = countedSignal();
    const answer = batcher.process('a', { signal });
    expect(live.size).toBe(1);
    await expect(settleAll(clock, answer)).resolves.toEqual({ status: 'fulfilled', value: 'value of a' });
    expect(live.size).toBe(0);
  });

  it('a call whose deadline passed while it waited: answered with BatchTimeoutError, and its listener removed', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 100, execute: (items) => items });
    const { signal, live } = countedSignal();
    const answer = batcher.process('a', { timeoutMs: 10, signal });
    const settled = await settleAll(clock, answer);
    expect(settled.status).toBe('rejected');
    expect((settled as PromiseRejectedResult).reason).toMatchObject({ name: 'BatchTimeoutError' });
    expect(live.size).toBe(0);
  });
});
