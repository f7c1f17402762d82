/**
 * H-ATK1: batchDedup's source ended or left from inside a user function the engine calls while it takes a request
 * in. Found by test/attack-engine.properties.test.ts; each case failed before its fix:
 *
 * - `signal(request)` completing the source: the envelope was made in a `map` before the engine, so the engine
 *   completed the output first and the request, sent before the completion, was never answered;
 * - unsubscribing from inside `key(request)` (or `priority(request)` with dedup off) left that request's
 *   `requestTimeoutMs` timer behind, set after the engine had stopped.
 */
import { Subject, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, type BatchResult, type BatchDedupOptions } from '../src/index.js';
import { batchDedup as liteBatchDedup } from '../src/lite/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { engine, priorities } from '../src/lite/index.js';

const up = (items: string[]) => items.map((q) => q.toUpperCase());

describe.each([
  ['main', batchDedup],
  ['lite', liteBatchDedup],
  // /lite on the engine (the lean core is its default; the priority hook brings the engine with priorities()).
  ['lite with engine()', ((options: object) => liteBatchDedup({ ...(options as { execute: () => [] }), engine: engine() })) as typeof liteBatchDedup],
] as const)('batchDedup (%s)', (_, operator) => {
  it('answers a request whose signal(request) completes the source before it completes the output', () => {
    const clock = virtualClock();
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    let resultsAtCompletion = -1;
    source
      .pipe(
        (operator as typeof batchDedup)<string, string>({
          scheduler: clock.scheduler,
          windowMs: 5,
          execute: up,
          signal: (request) => {
            if (request === 'last') source.complete();
            return undefined;
          },
        }),
      )
      .subscribe({ next: (r) => results.push(r), complete: () => (resultsAtCompletion = results.length) });
    source.next('first');
    source.next('last');
    clock.runAll();
    expect(results.map((r) => [r.request, r.value])).toEqual([
      ['first', 'FIRST'],
      ['last', 'LAST'],
    ]);
    expect(resultsAtCompletion).toBe(2);
  });

  it.each<[string, (leave: () => void) => Partial<BatchDedupOptions<string, string>>]>([
    ['key(request)', (leave) => ({ key: (r) => (leave(), r) })],
    ['priority(request), dedup off', (leave) => ({ enableDedup: false, priorities: priorities(), priority: () => (leave(), 0) })],
  ])('leaves no timer when unsubscribed from inside %s', (_name, hooked) => {
    const clock = virtualClock();
    const tracked = trackTimers(clock.scheduler);
    const source = new Subject<string>();
    let subscription: Subscription | undefined;
    const results: BatchResult<string, string>[] = [];
    subscription = source
      .pipe(
        (operator as typeof batchDedup)<string, string>({
          scheduler: tracked.scheduler,
          windowMs: 5,
          requestTimeoutMs: 50,
          execute: up,
          ...hooked(() => subscription?.unsubscribe()),
        }),
      )
      .subscribe((r) => results.push(r));
    source.next('a');
    expect(subscription.closed).toBe(true);
    expect(tracked.pending()).toBe(0);
    clock.runAll();
    expect(results).toEqual([]);
  });
});
