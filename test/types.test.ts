/**
 * Type tests: what the public API infers and what it refuses at compile time. `npm run check` type-checks this
 * file (tsconfig.tools.json); at run time the assertions are no-ops, the compile is the test.
 */
import { of, type Observable, type OperatorFunction } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import {
  batchDedup,
  BatchResultMismatchError,
  BatchTimeoutError,
  createBatcher,
  createBatchStats,
  QueueFullError,
  type BatchResult,
  type BatchStats,
  type DedupedBatch,
} from '../src/index.js';
import { adaptiveBuffer, bufferWindow, dedupBy, fanOut } from '../src/operators/index.js';

interface Question {
  readonly text: string;
  readonly tenant: string;
}

describe('public types', () => {
  it('batchDedup infers the request and result types from execute', () => {
    const op = batchDedup({ execute: async (qs: Question[]) => qs.map((q) => q.text.length), scope: (q) => q.tenant });
    expectTypeOf(op).toEqualTypeOf<OperatorFunction<Question, BatchResult<Question, number>>>();
    const results = of<Question>({ text: 'a', tenant: 't' }).pipe(op);
    expectTypeOf(results).toEqualTypeOf<Observable<BatchResult<Question, number>>>();
    expectTypeOf<BatchResult<Question, number>['value']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<BatchResult<Question, number>['status']>().toEqualTypeOf<'fulfilled' | 'rejected'>();
  });

  it('BatchResult narrows on status, like PromiseSettledResult', () => {
    const narrow = (r: BatchResult<Question, number>) => {
      if (r.status === 'fulfilled') {
        expectTypeOf(r.value).toEqualTypeOf<number>();
        expectTypeOf(r.error).toEqualTypeOf<undefined>();
      } else {
        expectTypeOf(r.error).toEqualTypeOf<unknown>();
        expectTypeOf(r.value).toEqualTypeOf<undefined>();
      }
      // Either side reads without narrowing, as the README's `value ?? error` does.
      expectTypeOf(r.value ?? r.error).toEqualTypeOf<unknown>();
    };
    expectTypeOf(narrow).toBeFunction();
  });

  it('the operators compose: collect, dedup, fan out', () => {
    const pipeline = (source: Observable<string>) =>
      source.pipe(bufferWindow({ windowMs: 5 }), dedupBy(), fanOut({ execute: (items: string[]) => items.map((s) => s.length) }));
    expectTypeOf(pipeline).returns.toEqualTypeOf<Observable<BatchResult<string, number>>>();
    expectTypeOf(adaptiveBuffer<string>()).toEqualTypeOf<OperatorFunction<string, string[]>>();
    expectTypeOf(dedupBy<string>()).toEqualTypeOf<OperatorFunction<readonly string[], DedupedBatch<string>>>();
  });

  it('createBatcher returns promises of the result type', () => {
    const batcher = createBatcher({ execute: async (qs: Question[]) => qs.map((q) => q.text) });
    expectTypeOf(batcher.process).parameter(0).toEqualTypeOf<Question>();
    expectTypeOf(batcher.process).returns.toEqualTypeOf<Promise<string>>();
    expectTypeOf(batcher.processAll).returns.toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(batcher.processStreaming).returns.toEqualTypeOf<AsyncIterable<BatchResult<Question, string>>>();
    expectTypeOf(batcher.getStats).returns.toEqualTypeOf<BatchStats>();
    void batcher.close();
  });

  it('stats and errors are typed', () => {
    expectTypeOf(createBatchStats().snapshot().latencyMs.p95).toEqualTypeOf<number>();
    expectTypeOf(new BatchTimeoutError('x', 1).timeoutMs).toEqualTypeOf<number>();
    expectTypeOf(new BatchResultMismatchError('x', 2, 1).received).toEqualTypeOf<number | undefined>();
    expectTypeOf(new QueueFullError(3)).toMatchTypeOf<Error>();
  });

  it('refuses mistyped options at compile time', () => {
    // @ts-expect-error windowMs is a number of milliseconds
    expectTypeOf(() => bufferWindow({ windowMs: '50' })).toBeFunction();
    // @ts-expect-error dedupStrategy has three values
    expectTypeOf(() => dedupBy({ dedupStrategy: 'fuzzy' })).toBeFunction();
    // @ts-expect-error execute is required
    expectTypeOf(() => batchDedup({ windowMs: 5 })).toBeFunction();
    // @ts-expect-error the key must be computed from the request type
    expectTypeOf(() => batchDedup({ execute: async (qs: Question[]) => qs, key: (q: number) => String(q) })).toBeFunction();
  });
});
