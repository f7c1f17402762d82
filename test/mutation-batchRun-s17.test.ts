/**
 * Survivors of the stop-16 Stryker run in the batch run (src/internal/batchRun.ts, issue 17), killed through the
 * public batchDedup. Each `it` names the mutant it kills (file:line as of dff90e1, mutator).
 */
import { from, take } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatchStats, type BatchStats } from '../src/index.js';
import { createTestScheduler } from '../src/testing/index.js';

describe('a subscriber that unsubscribes inside the first result of a batch', () => {
  // Kills batchRun.ts:540 finish()'s `if (this.finished) return` made false (ConditionalExpression): the run that
  // the unsubscription cancelled inside answerAll() was then reported as settled anyway (onSettled: a stats
  // notification and a freed feedback slot for a batch nobody owns any more), after the subscriber had left
  // (docs/reliability.md: nothing runs after unsubscription). Also fails against engine.ts:313 dispose()'s
  // `if (stopped.length > 0)` made false (ConditionalExpression): the teardown's own snapshot then never comes.
  it('gets one stats snapshot after it left, from the teardown, and none for the batch it cancelled', () => {
    const scheduler = createTestScheduler();
    const stats = createBatchStats({ scheduler });
    let left = false;
    const afterLeaving: BatchStats[] = [];
    stats.stats$.subscribe((snapshot) => {
      if (left) afterLeaving.push(snapshot);
    });
    const values: string[] = [];
    scheduler.run(() => {
      from(['a', 'b'])
        .pipe(batchDedup<string, string>({ execute: (items) => items.map((s) => s.toUpperCase()), windowMs: 1, stats, scheduler }), take(1))
        .subscribe({ next: (result) => values.push(result.value!), complete: () => (left = true) });
    });
    expect(values).toEqual(['A']);
    expect(afterLeaving).toHaveLength(1);
  });
});
