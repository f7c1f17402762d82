/**
 * H-ATK5, stop 19: `batchDedup` with a `signal` option: a request whose signal is already aborted when it arrives
 * is refused at once with the signal's reason, even when an equal request is executing (with `dedupInFlight`, on by
 * default), as main's pipeline refuses it at every stage and `createBatcher` refuses a call with an aborted
 * signal. Before the fix, `/lite`'s lean core looked for an executing equal request before reading the signal:
 * the aborted request joined that execution and was answered with its result (counted as deduplicated). A signal
 * aborted after the request joined an execution still leaves it there, on both paths (the request no longer waits
 * for a batch).
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup as liteBatchDedup } from '../src/lite/index.js';
import { batchDedup as mainBatchDedup } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Req {
  readonly id: string;
  readonly q: string;
  readonly signal?: AbortSignal;
}

describe.each([
  ['/lite lean core', liteBatchDedup],
  ['main', mainBatchDedup],
] as const)('%s batchDedup: a request aborted before it arrives, equal to one executing', (_name, batchDedup) => {
  function setup() {
    const clock = virtualClock();
    const source = new Subject<Req>();
    const calls: string[][] = [];
    const results: { id: string; at: number; outcome: string }[] = [];
    source
      .pipe(
        batchDedup<Req, string>({
          scheduler: clock.scheduler,
          windowMs: 1,
          key: (r) => r.q,
          signal: (r) => r.signal,
          execute: (items) => {
            calls.push(items.map((r) => r.id));
            return new Promise((resolve) => clock.scheduler.schedule(() => resolve(items.map((r) => r.q.toUpperCase())), 10));
          },
        }),
      )
      .subscribe((r) =>
        results.push({ id: r.request.id, at: clock.scheduler.now(), outcome: r.status === 'fulfilled' ? r.value : `!${(r.error as Error).message}` }),
      );
    return { clock, source, calls, results };
  }
  const flush = async (clock: ReturnType<typeof virtualClock>) => {
    for (let t = 0; t < 30; t++) {
      clock.advanceBy(1);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };

  it('is refused at its arrival with the reason, never answered with the execution it would have joined', async () => {
    const { clock, source, calls, results } = setup();
    source.next({ id: 'first', q: 'a' });
    clock.advanceBy(2); // 'first' executes from 1 to 11
    const controller = new AbortController();
    controller.abort(new Error('caller left'));
    source.next({ id: 'late', q: 'a', signal: controller.signal });
    expect(results).toEqual([{ id: 'late', at: 2, outcome: '!caller left' }]);
    await flush(clock);
    expect(results.map((r) => [r.id, r.outcome])).toEqual([
      ['late', '!caller left'],
      ['first', 'A'],
    ]);
    expect(calls).toEqual([['first']]);
  });

  it('aborted after it joined the execution, it is answered with that execution (it no longer waits for a batch)', async () => {
    const { clock, source, calls, results } = setup();
    source.next({ id: 'first', q: 'a' });
    clock.advanceBy(2);
    const controller = new AbortController();
    source.next({ id: 'joined', q: 'a', signal: controller.signal });
    controller.abort(new Error('caller left'));
    await flush(clock);
    expect(results.map((r) => [r.id, r.outcome])).toEqual([
      ['first', 'A'],
      ['joined', 'A'],
    ]);
    expect(calls).toEqual([['first']]);
  });
});
