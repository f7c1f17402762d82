/**
 * The engine's admission of a request with priorities on (src/internal/engine.ts, `admit`), where mutation testing
 * looked for promises no test guarded (docs/testing.md, issue 17): batchDedup's `signal(request)` must take a
 * request out of the queue at the frame it aborts, whatever orders the queue.
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/index.js';
import { simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

interface P {
  readonly id: string;
  readonly p: number;
}
const idOf = (r: P) => r.id;

describe('batchDedup with enablePriorities: a request whose signal aborts while it waits', () => {
  // admit()'s `!signal` made `signal` on the prioritized path: a request with a signal (and no deadline) was queued
  // with its priority only, its signal watched by nothing, and it was sent and answered after it aborted.
  it('leaves the queue at that frame, rejected with the reason, and is never sent', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: idOf });
      const controller = new AbortController();
      scheduler.schedule(() => controller.abort(new Error('caller gone')), 4);
      const source = hot(' a-b-------------|', { a: { id: 'a', p: 0 }, b: { id: 'b', p: 1 } });
      const expected = '  ----b----------a|';
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          windowMs: 10,
          key: idOf,
          enablePriorities: true,
          priority: (r: P) => r.p,
          signal: (r: P) => (r.id === 'b' ? controller.signal : undefined),
        }),
        map((r) => `${r.request.id}:${r.status}`),
      );
      expectObservable(piped).toBe(expected, { b: 'b:rejected', a: 'a:fulfilled' });
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items.map(idOf)])).toEqual([[10, ['a']]]), 15);
    });
  });
});
