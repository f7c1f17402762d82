/**
 * Mutants of the execute-and-answer stage (src/internal/executor.ts, issue 17) that the stop-16 run never reached,
 * killed through the public operators. Each `it` names the mutant it kills (file:line as of dff90e1, mutator).
 */
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, dedupBy, fanOut, type BatchResult } from '../src/index.js';
import { createTestScheduler } from '../src/testing/index.js';

describe('fanOut given a batch in which every key threw (nothing to execute)', () => {
  // Kills executor.ts:156 pump()'s `if (run.executedItems > 0) config.stats?.recordBatch(...)` made true
  // (ConditionalExpression) and `> 0` made `>= 0` (EqualityOperator): a batch that sent nothing to the backend
  // was counted as a batch, with its requests as batched (docs/stats.md: totalBatches counts calls of execute).
  it('rejects every request with its key error and counts no batch', () => {
    const scheduler = createTestScheduler();
    const stats = createBatchStats({ scheduler });
    const keyError = new Error('no key');
    const results: BatchResult<string, string>[] = [];
    let calls = 0;
    scheduler.run(() => {
      of(['a', 'b'])
        .pipe(
          dedupBy<string>({
            key: () => {
              throw keyError;
            },
          }),
          fanOut<string, string>({
            execute: (items) => {
              calls++;
              return items.map((s) => s.toUpperCase());
            },
            stats,
            scheduler,
          }),
        )
        .subscribe((r) => results.push(r));
    });
    expect(results.map((r) => [r.request, r.status])).toEqual([
      ['a', 'rejected'],
      ['b', 'rejected'],
    ]);
    expect(calls).toBe(0);
    expect(stats.snapshot().totalBatches).toBe(0);
  });
});
