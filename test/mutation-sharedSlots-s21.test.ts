/**
 * A follower's own watch (its deadline timer and its signal's abort listener, set while it waits in the queue
 * behind an equal request) stops when it is sent with its leader: nothing is left behind once every call has
 * settled. Stop 20's Stryker run on src/internal/sharedSlots.ts left `unwatch`'s body emptied alive (issue 17):
 * no test looked at what a sent follower leaves behind.
 */
import { describe, expect, it } from 'vitest';
import { Subject } from 'rxjs';
import { batchDedup, createBatcher } from '../src/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';

/** An abort signal that counts the 'abort' listeners attached to it and not yet removed. */
function countedSignal(): { signal: AbortSignal; listeners: () => number } {
  const signal = new AbortController().signal;
  const live = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: AddEventListenerOptions | boolean) => {
    if (type === 'abort') live.add(listener);
    add(type, listener, options);
  }) as typeof signal.addEventListener;
  signal.removeEventListener = ((type: string, listener: EventListenerOrEventListenerObject, options?: EventListenerOptions | boolean) => {
    if (type === 'abort') live.delete(listener);
    remove(type, listener, options);
  }) as typeof signal.removeEventListener;
  return { signal, listeners: () => live.size };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

interface Ask {
  readonly q: string;
  readonly signal?: AbortSignal;
}

describe('a follower sent with its leader', () => {
  it('leaves no abort listener on its signal (batchDedup\'s `signal` option) once answered', () => {
    const clock = virtualClock();
    const requests = new Subject<Ask>();
    const answers: string[] = [];
    const subscription = requests
      .pipe(
        batchDedup<Ask, string>({
          scheduler: clock.scheduler,
          windowMs: 5,
          key: (ask) => ask.q,
          signal: (ask) => ask.signal,
          execute: (asks) => asks.map((ask) => ask.q.toUpperCase()),
        }),
      )
      .subscribe((result) => answers.push(`${result.request.q}=${String(result.value)}`));
    const follower = countedSignal();
    requests.next({ q: 'a' });
    requests.next({ q: 'a', signal: follower.signal });
    clock.advanceBy(1);
    expect(follower.listeners()).toBe(1); // watched while it waits behind its leader
    clock.advanceBy(5);
    expect(answers).toEqual(['a=A', 'a=A']);
    expect(follower.listeners()).toBe(0);
    subscription.unsubscribe();
  });

  it('leaves no deadline timer (`requestTimeoutMs`) behind once answered', async () => {
    const clock = virtualClock();
    const timers = trackTimers(clock.scheduler);
    const batcher = createBatcher<string, string>({
      scheduler: timers.scheduler,
      windowMs: 5,
      requestTimeoutMs: 1_000,
      execute: (items) => items.map((item) => item.toUpperCase()),
    });
    const answers = [batcher.process('a'), batcher.process('a')];
    clock.advanceBy(6);
    await flush();
    expect(await Promise.all(answers)).toEqual(['A', 'A']);
    // The follower's deadline (at 1,000 ms) no longer runs: it was answered at 5 ms.
    expect(timers.pending()).toBe(0);
    await batcher.close();
  });
});
