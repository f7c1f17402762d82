/**
 * createBatcher's execution slots (src/internal/executor.ts), where a Stryker run on the file
 * (STRYKER_TESTS=run, docs/testing.md) found a promise no test guarded. Each `it` names the mutants it kills.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

describe('a batch answered whole by the semantic result cache', () => {
  // executor's forgo() emptied: the slot the collector took for a batch that the cache answered whole was never
  // given back, and with concurrency 1 no later batch was ever sent.
  it('gives its slot back: with concurrency 1, the next question is still executed', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const batcher = createBatcher<string, string>({
      execute: (qs) => qs.map((q) => `answer to ${q} #${executed.push(q)}`),
      windowMs: 1,
      concurrency: 1,
      dedupStrategy: 'hybrid',
      dedupThreshold: 0.94,
      resultCache: { ttlMs: 60_000, semantic: true },
      scheduler: clock.scheduler,
    });
    const ask = (question: string) => settleAll(clock, batcher.process(question));
    await expect(ask('What is the capital of France?')).resolves.toEqual({ status: 'fulfilled', value: 'answer to What is the capital of France? #1' });
    await expect(ask('what is the capital of france')).resolves.toEqual({ status: 'fulfilled', value: 'answer to What is the capital of France? #1' });
    await expect(ask('refund order 1234')).resolves.toEqual({ status: 'fulfilled', value: 'answer to refund order 1234 #2' });
    expect(executed).toEqual(['What is the capital of France?', 'refund order 1234']);
    await batcher.close();
  });
});
