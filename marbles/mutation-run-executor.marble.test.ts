/**
 * The execute stage (src/internal/executor.ts) through `fanOut`, where a Stryker run on the file
 * (STRYKER_TESTS=run, docs/testing.md) found promises no test guarded. Each `it` names the mutants it kills.
 */
import { map, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import type { BatchResult, DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

const single = <T>(items: T[]): DedupedBatch<T> => ({ items, unique: items, leaderOf: items.map((_, i) => i) });

function scheduler() {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

describe('fanOut without enqueuedAt: latency counts from the batch\'s own arrival', () => {
  // executor's runConfig: the run configuration kept for every batch (`this.shared = config.enqueuedAt ? ... :
  // undefined` made the first branch always), or `receivedAt` made 0: a later batch's latency was counted from
  // the first batch's arrival, or from time 0.
  it('two batches, 20 ms apart, each answered 5 ms after it came: both 5 ms', () => {
    const ts = scheduler();
    ts.run(({ cold, expectObservable }) => {
      const batches = cold<DedupedBatch<string>>('a 19ms b', { a: single(['a']), b: single(['b']) });
      const execute = (items: string[]) => timer(5, ts).pipe(map(() => items.map((item) => item.toUpperCase())));
      const results = batches.pipe(fanOut<string, string>({ execute, scheduler: ts, concurrency: 2 }));
      expectObservable(results).toBe('5ms x 19ms y', {
        x: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: false, latencyMs: 5 },
        y: { request: 'b', status: 'fulfilled', value: 'B', batchId: 2, deduplicated: false, latencyMs: 5 },
      } satisfies Record<string, BatchResult<string, string>>);
    });
  });
});
