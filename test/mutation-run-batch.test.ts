/**
 * One batch's run (src/internal/batchRun.ts) on the real clock's scheduler (asyncScheduler, under vitest's fake
 * timers), where a Stryker run on the file (STRYKER_TESTS=run, docs/testing.md) found promises no test guarded.
 * On that scheduler a call's processing timer is armed a microtask after the call, for a call still running then.
 * Each `it` names the mutants it kills.
 */
import { from } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBatchStats, type BatchResult, type DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('a timed-out batch retried item by item, one retry answering at once', () => {
  // batchRun's armTimer: `if (execution.done || this.finished) return` with `||` made `&&`: the retry that had
  // answered (done, while the other retry still ran) got a processing timer anyway, which fired later and
  // aborted the signal of a call that had given its result.
  it('leaves the answered retry\'s signal unaborted; the other retry is aborted at its own time limit', async () => {
    vi.useFakeTimers();
    const calls: { items: string[]; signal: AbortSignal }[] = [];
    const execute = (items: string[], context: { signal: AbortSignal }) => {
      calls.push({ items: [...items], signal: context.signal });
      // The whole batch and b's retry never answer; a's retry answers with a promise resolved already.
      if (calls.length > 1 && items[0] === 'a') return Promise.resolve(['A']);
      return new Promise<string[]>(() => undefined);
    };
    const batch: DedupedBatch<string> = { items: ['a', 'b'], unique: ['a', 'b'], leaderOf: [0, 1] };
    const results: BatchResult<string, string>[] = [];
    from([batch])
      .pipe(fanOut<string, string>({ execute, processingTimeoutMs: 20, onTimeout: 'individual' }))
      .subscribe((result) => results.push(result));
    await vi.advanceTimersByTimeAsync(20);
    expect(calls.map((call) => call.items)).toEqual([['a', 'b'], ['a'], ['b']]);
    expect(results.map((r) => [r.request, r.status])).toEqual([['a', 'fulfilled']]);
    await vi.advanceTimersByTimeAsync(20);
    expect(results.map((r) => [r.request, r.status])).toEqual([
      ['a', 'fulfilled'],
      ['b', 'rejected'],
    ]);
    expect(calls.map((call) => call.signal.aborted)).toEqual([true, false, true]);
  });
});

describe('the stats of a batch whose every request failed before execution', () => {
  // executor's pump: `if (run.executedItems > 0)` before recordBatch made true: a batch that sent nothing to the
  // backend (every request carried in failures) was counted in totalBatches, and its size in the average.
  it('count no batch: totalBatches counts calls of the backend only', () => {
    const stats = createBatchStats();
    const failed: DedupedBatch<string> = {
      items: ['x', 'y'],
      unique: [],
      leaderOf: [-1, -1],
      failures: new Map<number, unknown>([
        [0, new TypeError('x')],
        [1, new TypeError('y')],
      ]),
    };
    const executed: string[][] = [];
    const results: BatchResult<string, string>[] = [];
    from([failed, { items: ['a'], unique: ['a'], leaderOf: [0] }])
      .pipe(fanOut<string, string>({ execute: (items) => (executed.push([...items]), items), stats }))
      .subscribe((result) => results.push(result));
    expect(executed).toEqual([['a']]);
    expect(results.map((r) => [r.request, r.status])).toEqual([
      ['x', 'rejected'],
      ['y', 'rejected'],
      ['a', 'fulfilled'],
    ]);
    expect(stats.snapshot()).toMatchObject({ totalBatches: 1, executedItems: 1 });
  });
});
