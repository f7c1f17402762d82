/**
 * The stopping hook of a timed-out call (src/internal/batchRun.ts `stopping`, src/internal/sharedSlots.ts
 * `SharedSlots.stopping`, stop 19) against `onTimeout: 'individual'` (issue 17, stop 20, H-MUT8).
 *
 * A call stopped for good (its processing timeout with `onTimeout: 'reject'`, or an individual retry's own timeout)
 * gives up its slots before its signal aborts: an equal request sent from its abort listener is executed anew. A call
 * whose items are retried one by one keeps them: each retry leads its item's slot as the batch did, so an equal
 * request that arrives during the retry joins it (`dedupInFlight`) and gets the retry's answer, once, and the
 * backend sees the item once more (the retry), not twice.
 *
 * `execute` logs each call as `frame:items`; the calls named `hanging` (the first by default) never answer, the
 * others answer after 5 frames with the items upper-cased; those named `resending` send `a` from their abort listener. Answers are shown as `request=value` (a `+` when deduplicated) or `request!ErrorName`.
 */
import { map, merge, NEVER, Subject, tap, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import type { BatchResult } from '../src/types.js';
import { testScheduler } from './helpers.js';

const shown = map((r: BatchResult<string, string>) =>
  r.status === 'fulfilled'
    ? `${r.request}=${r.value}${r.deduplicated ? '+' : ''}`
    : `${r.request}!${(r.error as Error).name}`,
);

interface Plan {
  onTimeout: 'individual' | 'reject';
  /** The calls (1-based) that never answer; the others answer after 5 frames. Default the first. */
  hanging?: number[];
  /** The calls whose signal's abort listener sends an equal request, `a`, at once (a retry by the backend's caller). */
  resending?: number[];
}

function run(source: string, expected: string, values: Record<string, string>, plan: Plan) {
  const { onTimeout, hanging = [1], resending = [] } = plan;
  const scheduler = testScheduler();
  const calls: string[] = [];
  const resent = new Subject<string>();
  scheduler.run(({ cold, expectObservable }) => {
    const requests = merge(resent, cold(source).pipe(tap({ complete: () => resent.complete() })));
    const piped = requests.pipe(
      batchDedup<string, string>({
        execute: (items, context) => {
          calls.push(`${scheduler.now()}:${items.join(',')}`);
          const call = calls.length;
          if (resending.includes(call)) context.signal.addEventListener('abort', () => resent.next('a'));
          if (hanging.includes(call)) return NEVER;
          return timer(5).pipe(map(() => items.map((item) => item.toUpperCase())));
        },
        windowMs: 1,
        processingTimeoutMs: 10,
        onTimeout,
      }),
      shown,
    );
    expectObservable(piped).toBe(expected, values);
  });
  return calls;
}

describe("onTimeout: 'individual': the retried items keep their slots", () => {
  it('an equal request arriving during the retry joins it: the retry answers both, the backend sees the item once more', () => {
    // 'a' at 0, its batch at 1 times out at 11 and is retried alone (11, answers at 16); the second 'a' at 13 joins.
    const calls = run('a------------a--------|', '----------------(xy)--|', { x: 'a=A', y: 'a=A+' }, { onTimeout: 'individual' });
    expect(calls).toEqual(['1:a', '11:a']);
  });

  it('an equal request that joined the batch before its timeout gets the retry answer, not the timeout', () => {
    const calls = run('a----a-------|', '----------------(xy|)', { x: 'a=A', y: 'a=A+' }, { onTimeout: 'individual' });
    expect(calls).toEqual(['1:a', '11:a']);
  });

  it('a retry that times out in turn gives up its slot: a later equal request is executed anew', () => {
    // The batch (1) times out at 11, its retry (11) at 21; the second 'a' at 23 is a batch of its own at 24 (answers at 29).
    const calls = run('a----------------------a-----|', '---------------------x-------(y|)', { x: 'a!BatchTimeoutError', y: 'a=A' }, { onTimeout: 'individual', hanging: [1, 2] });
    expect(calls).toEqual(['1:a', '11:a', '24:a']);
  });

  it("an equal request sent from the timed-out batch's abort listener joins the retry: one answer each, the retry's", () => {
    // The batch (1) times out at 11: its signal aborts, the listener sends 'a' while the item is being retried.
    const calls = run('a-------------------|', '----------------(xy)|', { x: 'a=A', y: 'a=A+' }, { onTimeout: 'individual', resending: [1] });
    expect(calls).toEqual(['1:a', '11:a']);
  });

  it("an equal request sent from a timed-out retry's abort listener is executed anew, not failed with the retry", () => {
    // The retry (11) times out at 21 and aborts: the 'a' its listener sends is a batch of its own at 22 (answers at 27).
    const calls = run('a-----------------------------|', '---------------------x-----y--|', { x: 'a!BatchTimeoutError', y: 'a=A' }, { onTimeout: 'individual', hanging: [1, 2], resending: [2] });
    expect(calls).toEqual(['1:a', '11:a', '22:a']);
  });
});

describe("onTimeout: 'reject': the timed-out call gives up its slots", () => {
  it('an equal request arriving after the timeout is executed anew, not answered with the timeout', () => {
    const calls = run('a------------a-----|', '-----------x-------(y|)', { x: 'a!BatchTimeoutError', y: 'a=A' }, { onTimeout: 'reject' });
    expect(calls).toEqual(['1:a', '14:a']);
  });

  it("an equal request sent from the timed-out call's abort listener is executed anew, not failed with the timeout", () => {
    const calls = run('a-------------------|', '-----------x-----y--|', { x: 'a!BatchTimeoutError', y: 'a=A' }, { onTimeout: 'reject', resending: [1] });
    expect(calls).toEqual(['1:a', '12:a']);
  });

  it('the same when the timed-out call carried an equal request with its leader (the members of its item)', () => {
    const calls = run('(aa)----------------|', '-----------(xx)--y--|', { x: 'a!BatchTimeoutError', y: 'a=A' }, { onTimeout: 'reject', resending: [1] });
    expect(calls).toEqual(['1:a', '12:a']);
  });
});
