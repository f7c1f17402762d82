import { NEVER, Observable, timer, map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError } from '../src/errors.js';
import { fanOut } from '../src/operators/fanOut.js';
import { outcome, simulatedBackend, trackTimers } from '../src/testing/index.js';
import type { DedupedBatch, ExecuteContext, StreamedResult } from '../src/types.js';
import { testScheduler } from './helpers.js';

const batch = (items: string[], unique: string[], leaderOf: number[]): DedupedBatch<string> => ({ items, unique, leaderOf });
const upper = (s: string) => s.toUpperCase();

describe('fanOut', () => {
  it('answers every request, duplicates included, when the batch completes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 3, compute: upper });
      const source = hot(' -B-------|', { B: batch(['a', 'b', 'a'], ['a', 'b'], [0, 1, 0]) });
      const subs = '      ^--------!';
      const expected = '  ----(xyz)|';
      expectObservable(source.pipe(fanOut({ execute: backend.execute }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'a', value: 'A' },
        z: { request: 'b', value: 'B' },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([['a', 'b']]), 8);
    });
  });

  it('marks every request but the first of a group as deduplicated, and measures latency', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 2, compute: upper });
      const source = hot('-B-----|', { B: batch(['a', 'a'], ['a'], [0, 0]) });
      expectObservable(source.pipe(fanOut({ execute: backend.execute }))).toBe('---(xy)|', {
        x: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: false, latencyMs: 2 },
        y: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: true, latencyMs: 2 },
      });
    });
  });

  it('runs at most `concurrency` batches at once; the next starts when one settles', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 4, compute: upper });
      const source = hot(' -AB----------|', { A: batch(['a'], ['a'], [0]), B: batch(['b'], ['b'], [0]) });
      const expected = '  -----a---b---|';
      expectObservable(source.pipe(fanOut({ execute: backend.execute, concurrency: 1 }), map(outcome))).toBe(expected, {
        a: { request: 'a', value: 'A' },
        b: { request: 'b', value: 'B' },
      });
    });
  });

  it('rejects the unfinished requests of a batch with BatchTimeoutError at processingTimeoutMs', () => {
    const scheduler = testScheduler();
    const contexts: ExecuteContext[] = [];
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot(' -B----------|', { B: batch(['a', 'b'], ['a', 'b'], [0, 1]) });
      const expected = '  ------(xy)--|';
      const execute = (_: string[], context: ExecuteContext) => {
        contexts.push(context);
        return NEVER;
      };
      expectObservable(source.pipe(fanOut({ execute, processingTimeoutMs: 5 }), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'BatchTimeoutError' },
        y: { request: 'b', error: 'BatchTimeoutError' },
      });
    });
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[0]!.signal.reason).toBeInstanceOf(BatchTimeoutError);
  });

  it('rejects with a BatchTimeoutError whose message names the limit and whose timeoutMs is the limit', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -B-------|', { B: batch(['a'], ['a'], [0]) });
      const expected = '  ------x--|';
      const piped = source.pipe(
        fanOut({ execute: () => NEVER, processingTimeoutMs: 5 }),
        map(({ error }) => ({
          isTimeout: error instanceof BatchTimeoutError,
          message: (error as BatchTimeoutError).message,
          timeoutMs: (error as BatchTimeoutError).timeoutMs,
        })),
      );
      expectObservable(piped).toBe(expected, {
        x: { isTimeout: true, message: expect.stringContaining('5 ms (processingTimeoutMs)'), timeoutMs: 5 },
      });
    });
  });

  it('times a batch out after 30000 ms by default', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' B 30004ms |', { B: batch(['a'], ['a'], [0]) });
      const expected = '  30000ms x 4ms |';
      expectObservable(source.pipe(fanOut({ execute: () => NEVER }), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'BatchTimeoutError' },
      });
    });
  });

  it('gives a signal read only after the timeout already aborted, with the BatchTimeoutError', () => {
    const scheduler = testScheduler();
    const contexts: ExecuteContext[] = [];
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot(' -B-------|', { B: batch(['a'], ['a'], [0]) });
      const execute = (_: string[], context: ExecuteContext) => {
        contexts.push(context); // keeps the context, reads nothing yet
        return NEVER;
      };
      expectObservable(source.pipe(fanOut({ execute, processingTimeoutMs: 3 }), map(outcome))).toBe('----x----|', {
        x: { request: 'a', error: 'BatchTimeoutError' },
      });
    });
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(contexts[0]!.signal.reason).toBeInstanceOf(BatchTimeoutError);
  });

  it("retries each unfinished item alone after a timeout with onTimeout: 'individual'", () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // A batch of two never finishes; one item alone takes 2 frames.
      const backend = simulatedBackend({ scheduler, durationMs: (n) => (n > 1 ? 1000 : 2), compute: upper });
      const source = hot(' -B-----------|', { B: batch(['a', 'b'], ['a', 'b'], [0, 1]) });
      const expected = '  --------(xy)-|';
      expectObservable(
        source.pipe(fanOut({ execute: backend.execute, processingTimeoutMs: 5, onTimeout: 'individual' }), map(outcome)),
      ).toBe(expected, { x: { request: 'a', value: 'A' }, y: { request: 'b', value: 'B' } });
      scheduler.schedule(() => {
        expect(backend.calls.map((c) => [c.items, c.context.individual])).toEqual([
          [['a', 'b'], false],
          [['a'], true],
          [['b'], true],
        ]);
      }, 12);
    });
  });

  it('rejects an individual retry that also times out', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot(' -B------------|', { B: batch(['a'], ['a'], [0]) });
      const expected = '  -----------x--|';
      expectObservable(
        source.pipe(fanOut({ execute: () => NEVER, processingTimeoutMs: 5, onTimeout: 'individual' }), map(outcome)),
      ).toBe(expected, { x: { request: 'a', error: 'BatchTimeoutError' } });
    });
  });

  it('rejects every request of a batch whose result array has the wrong length', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -B----C--|', { B: batch(['a', 'b'], ['a', 'b'], [0, 1]), C: batch(['c'], ['c'], [0]) });
      const expected = '  -(xy)-z--|';
      const execute = (items: string[]) => (items.length === 2 ? ['only one'] : items.map(upper));
      expectObservable(source.pipe(fanOut({ execute }), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'BatchResultMismatchError' },
        y: { request: 'b', error: 'BatchResultMismatchError' },
        z: { request: 'c', value: 'C' },
      });
    });
  });

  it('rejects only the failing batch when execute throws, and goes on', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -B-C--|', { B: batch(['a'], ['a'], [0]), C: batch(['c'], ['c'], [0]) });
      const expected = '  -x-z--|';
      const boom = new Error('backend down');
      const execute = (items: string[]) => {
        if (items[0] === 'a') throw boom;
        return items.map(upper);
      };
      expectObservable(source.pipe(fanOut({ execute }))).toBe(expected, {
        x: { request: 'a', status: 'rejected', error: boom, batchId: 1, deduplicated: false, latencyMs: 0 },
        z: { request: 'c', status: 'fulfilled', value: 'C', batchId: 2, deduplicated: false, latencyMs: 0 },
      });
    });
  });

  it('rejects a batch whose observable errors, at the frame it errors', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = hot(' -B-----|', { B: batch(['a'], ['a'], [0]) });
      const expected = '  ----x--|';
      expectObservable(source.pipe(fanOut({ execute: () => cold<string[]>('---#', undefined, new Error('down')) }), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'Error' },
      });
    });
  });

  it('fans out streamed per-item results as they arrive', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = hot(' -B--------|', { B: batch(['a', 'b', 'a'], ['a', 'b'], [0, 1, 0]) });
      const expected = '  ---y--(xz)|';
      const execute = () => cold<StreamedResult<string>>('--j--i|', { i: { index: 0, value: 'A' }, j: { index: 1, value: 'B' } });
      expectObservable(source.pipe(fanOut({ execute }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'b', value: 'B' },
        z: { request: 'a', value: 'A' },
      });
    });
  });

  it('rejects a streamed item with its own error and the others keep their values', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = hot(' -B-----|', { B: batch(['a', 'b'], ['a', 'b'], [0, 1]) });
      const expected = '  --x-y--|';
      const execute = () =>
        cold<StreamedResult<string>>('-i-j|', { i: { index: 1, error: new RangeError('bad') }, j: { index: 0, value: 'A' } });
      expectObservable(source.pipe(fanOut({ execute }), map(outcome))).toBe(expected, {
        x: { request: 'b', error: 'RangeError' },
        y: { request: 'a', value: 'A' },
      });
    });
  });

  it('rejects with BatchResultMismatchError the items a completed stream never answered', () => {
    testScheduler().run(({ hot, cold, expectObservable }) => {
      const source = hot(' -B-------|', { B: batch(['a', 'b'], ['a', 'b'], [0, 1]) });
      const expected = '  --x--y---|';
      const execute = () => cold<StreamedResult<string>>('-i--|', { i: { index: 0, value: 'A' } });
      expectObservable(source.pipe(fanOut({ execute }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'b', error: 'BatchResultMismatchError' },
      });
    });
  });

  it('takes a promise of results', async () => {
    const results: unknown[] = [];
    await new Promise<void>((done) => {
      new Observable<DedupedBatch<string>>((s) => {
        s.next(batch(['a', 'b'], ['a', 'b'], [0, 1]));
        s.complete();
      })
        .pipe(fanOut({ execute: async (items) => items.map(upper) }), map(outcome))
        .subscribe({ next: (r) => results.push(r), complete: done });
    });
    expect(results).toEqual([
      { request: 'a', value: 'A' },
      { request: 'b', value: 'B' },
    ]);
  });

  it('waits for batches in flight before forwarding completion', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: upper });
      const source = hot(' -B|', { B: batch(['a'], ['a'], [0]) });
      const expected = '  ------(x|)';
      expectObservable(source.pipe(fanOut({ execute: backend.execute }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
      });
    });
  });

  it('waits for batches in flight before forwarding a source error', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: upper });
      const source = hot(' -B#', { B: batch(['a'], ['a'], [0]) }, new Error('source failed'));
      const expected = '  ------(x#)';
      expectObservable(source.pipe(fanOut({ execute: backend.execute }), map(outcome))).toBe(
        expected,
        { x: { request: 'a', value: 'A' } },
        new Error('source failed'),
      );
    });
  });

  it('aborts executions in flight and cancels timers when unsubscribed', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const contexts: ExecuteContext[] = [];
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const source = hot(' -B-------', { B: batch(['a'], ['a'], [0]) });
      const unsub = '     ^---!';
      const execute = (items: string[], context: ExecuteContext) => {
        contexts.push(context);
        return timer(10, tracked.scheduler).pipe(map(() => items));
      };
      expectObservable(source.pipe(fanOut({ execute, scheduler: tracked.scheduler })), unsub).toBe('-----');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
    expect(contexts[0]!.signal.aborted).toBe(true);
    expect(tracked.pending()).toBe(0);
  });

  it('refuses a result that is not an array', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const source = hot(' -B--|', { B: batch(['a'], ['a'], [0]) });
      const execute = (() => 42) as unknown as () => string[];
      expectObservable(source.pipe(fanOut({ execute }), map(outcome))).toBe('-x--|', {
        x: { request: 'a', error: 'BatchResultMismatchError' },
      });
    });
  });

  it('answers items whose dedup key failed without executing them', () => {
    testScheduler().run(({ hot, expectObservable }) => {
      const keyError = new TypeError('dedupBy: key(request) threw: circular');
      const B: DedupedBatch<string> = { items: ['bad', 'b'], unique: ['b'], leaderOf: [-1, 0], failures: new Map([[0, keyError]]) };
      const source = hot(' -B---|', { B });
      expectObservable(source.pipe(fanOut({ execute: (items: string[]) => items.map(upper) }), map(outcome))).toBe('-(xy)|', {
        x: { request: 'bad', error: 'TypeError' },
        y: { request: 'b', value: 'B' },
      });
    });
  });
});
