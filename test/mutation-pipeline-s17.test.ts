/**
 * Survivors of the stop-16 and stop-17 Stryker runs in the pipeline's configuration
 * (src/internal/pipelineConfig.ts, issue 17), killed through the public batchDedup. Each `it` names the mutant it
 * kills (file:line as of dff90e1, mutator).
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, createBatchStats, type BatchResult } from '../src/index.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';
import { drain } from './support.js';

const upper = (s: string) => s.toUpperCase();

/** Runs `requests` through batchDedup with `signal: () => returned`; returns each result's status and error. */
function withSignalReturning(returned: unknown): { status: string; error: unknown; value: unknown }[] {
  const scheduler = createTestScheduler();
  const results: BatchResult<string, string>[] = [];
  scheduler.run(() => {
    from(['a'])
      .pipe(batchDedup<string, string>({ execute: (items) => items.map(upper), signal: () => returned as AbortSignal, windowMs: 1 }))
      .subscribe((r) => results.push(r));
  });
  return results.map(({ status, error, value }) => ({ status, error, value }));
}

describe("batchDedup's signal(request) returning a function shaped like a signal", () => {
  // Kills pipelineConfig.ts:616 (isAbortSignal) `typeof value !== 'object' || value === null` made false
  // (ConditionalExpression) and `||` made `&&` (LogicalOperator): a function carrying addEventListener,
  // removeEventListener and a boolean `aborted` was taken for an AbortSignal, which is always an object in any
  // realm; bad input must be refused with an error that names it.
  it('refuses the request with a TypeError naming signal, and never executes it', () => {
    const callable = Object.assign(() => undefined, { aborted: false, addEventListener() {}, removeEventListener() {} });
    const [result, ...rest] = withSignalReturning(callable);
    expect(rest).toEqual([]);
    expect(result!.status).toBe('rejected');
    expect(result!.error).toBeInstanceOf(TypeError);
    expect(String((result!.error as Error).message)).toMatch(/signal.*must return an AbortSignal/);
  });
});

describe("batchDedup's signal(request) returning an object without addEventListener", () => {
  // Kills pipelineConfig.ts:619 (isAbortSignal) `typeof s.addEventListener === 'function'` made true
  // (ConditionalExpression): an object with removeEventListener and `aborted` alone passed for a signal.
  it('refuses the request with a TypeError naming signal', () => {
    const [result, ...rest] = withSignalReturning({ aborted: false, removeEventListener() {} });
    expect(rest).toEqual([]);
    expect(result!.status).toBe('rejected');
    expect(result!.error).toBeInstanceOf(TypeError);
    expect(String((result!.error as Error).message)).toMatch(/signal.*must return an AbortSignal/);
  });
});

describe('a batcher without costPerRequestUsd, given a stats recorder that has one', () => {
  // Kills pipelineConfig.ts:300 apply()'s `if (resolved.costPerRequestUsd !== undefined)` made true
  // (ConditionalExpression) and `!==` made `===` (EqualityOperator): the batcher overwrote the recorder's own
  // price with undefined, so costSavedUsd became NaN (docs/stats.md:
  // createBatchStats({ costPerRequestUsd }) prices costSavedUsd).
  it("keeps the recorder's price: costSavedUsd counts the deduplicated request at it", async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler, costPerRequestUsd: 0.5 });
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: (items) => items.map((s) => s.toUpperCase()), stats });
    const answers = Promise.all([batcher.process('a'), batcher.process('a')]);
    expect(await drain(clock, batcher.close())).toBe(true);
    expect(await answers).toEqual(['A', 'A']);
    expect(stats.snapshot().costSavedUsd).toBe(0.5);
  });
});
