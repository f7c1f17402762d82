/**
 * The source ends from inside `key(request)` while a batch executes and the queue is empty: the request whose key
 * is being read, and any pushed from inside that call, are queued after the collector has already reported itself
 * drained. The engine must still answer them before it ends (reliability 6: the end is forwarded after the last
 * result). Found by test/attack-engine.properties at 1,639 runs (seed 1455683712); before the fix `batchDedup`
 * of the main entry completed with one request never answered.
 */
import { Subject, timer, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, type BatchResult } from '../src/index.js';
import { batchDedup as liteBatchDedup, engine } from '../src/lite/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';

type Req = { id: number; key: string };

const liteOnEngine = ((options: object) => liteBatchDedup({ ...(options as { execute: () => [] }), engine: engine() })) as typeof batchDedup;
const ENTRIES = [
  ['main', batchDedup],
  ['lite, lean core', liteBatchDedup as typeof batchDedup],
  ['lite with engine()', liteOnEngine],
] as const;

/**
 * r0 executes for 2 ms (the only slot busy); r1 arrives, and from inside `key(r1)` the caller sends `nested` more
 * requests, the last of which completes the source from inside its own `key` call (with `nested` 0, r1's does).
 */
function run(operator: typeof batchDedup, nested: number) {
  const clock = virtualClock();
  const tracked = trackTimers(clock.scheduler);
  const source = new Subject<Req>();
  const sent: Req[] = [];
  const results: BatchResult<Req, string>[] = [];
  let ended = false;
  let resultsAtEnd = -1;
  let next = 0;
  const send = (key: string) => {
    const req = { id: next++, key };
    sent.push(req);
    source.next(req);
  };
  const hooks = new Map<number, () => void>();
  for (let i = 0; i < nested; i++) hooks.set(1 + i, () => send(`nested-${i}`));
  hooks.set(1 + nested, () => source.complete());
  source
    .pipe(
      operator<Req, string>({
        scheduler: tracked.scheduler,
        windowMs: 2 ** 31,
        maxSize: 1,
        concurrency: 1,
        dedupInFlight: false,
        key: (r) => {
          hooks.get(r.id)?.();
          hooks.delete(r.id);
          return r.key;
        },
        execute: (items) => (items[0]!.id === 0 ? timer(2, clock.scheduler).pipe(map(() => items.map((r) => `=${r.id}`))) : items.map((r) => `=${r.id}`)),
      }),
    )
    .subscribe({
      next: (r) => results.push(r),
      complete: () => {
        ended = true;
        resultsAtEnd = results.length;
      },
    });
  send('a');
  send('b');
  clock.runAll();
  return { sent, results, ended, resultsAtEnd, timersLeft: tracked.pending() };
}

describe.each(ENTRIES)('batchDedup (%s): the source ends from inside key() while a batch executes', (_, operator) => {
  it.each([0, 1, 2])('answers every request before it completes (%i requests sent from inside key)', (nested) => {
    const { sent, results, ended, resultsAtEnd, timersLeft } = run(operator, nested);
    expect(ended).toBe(true);
    expect(resultsAtEnd).toBe(sent.length);
    expect(results.map((r) => r.status === 'fulfilled' && r.value).sort()).toEqual(sent.map((r) => `=${r.id}`).sort());
    expect(timersLeft).toBe(0);
  });
});
