/**
 * Survivors of the stop-16 Stryker run in the engine (src/internal/engine.ts, issue 17): timing rules, on virtual time.
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import { simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

interface Req {
  readonly id: string;
  readonly key: string;
  readonly signal?: AbortSignal;
}

describe('a follower whose signal aborts while it waits', () => {
  // Kills engine.ts followerLeft() `if (!this.shared.leave(envelope) || envelope.answered === true) return` made
  // false (ConditionalExpression): the follower was answered with the abort reason but never left its leader,
  // so the leader's batch answered it a second time.
  it('is answered once, with the reason, and its leader once, by the batch', () => {
    const scheduler = testScheduler();
    const controller = new AbortController();
    const seen: string[] = [];
    scheduler.run(({ hot }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: (r: Req) => `value of ${r.key}` });
      scheduler.schedule(() => controller.abort('gave up'), 5);
      // x takes the only slot at 1 until 11; a waits, and a' (equal to a) joins it, then aborts at 5.
      const source = hot('-xab---------------|', {
        x: { id: 'x', key: 'x' },
        a: { id: 'a', key: 'a' },
        b: { id: "a'", key: 'a', signal: controller.signal },
      });
      source
        .pipe(
          batchDedup<Req, string>({
            execute: backend.execute,
            key: (r) => r.key,
            signal: (r) => r.signal,
            windowMs: 0,
            concurrency: 1,
          }),
          map((r) => `${scheduler.now()} ${r.request.id} ${r.status === 'fulfilled' ? String(r.value) : String(r.error)}`),
        )
        .subscribe((line) => seen.push(line));
    });
    expect(seen).toEqual(["5 a' gave up", '11 x value of x', '21 a value of a']);
  });
});
