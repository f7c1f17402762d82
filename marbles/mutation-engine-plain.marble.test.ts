/**
 * The engine's arrivals when nothing is shared at arrival (src/internal/engine.ts, `push`): with `enableDedup: false`
 * (or `dedupStrategy: 'embedding'`, or a `dedupFunction`) no request joins another before batch time, and a request
 * with nothing to admit goes straight to the queue. Mutation testing (docs/testing.md) found that no test ran the
 * options that do need admitting on that path: a deadline, an abort signal, a queue bound, a priority. Each rule
 * below holds with dedup on (other tests); here it is pinned with dedup off, on virtual time.
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { outcome, simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

const upper = (s: string) => s.toUpperCase();

describe('with nothing shared at arrival (enableDedup: false)', () => {
  it('requestTimeoutMs: a request still queued at its deadline is answered with BatchTimeoutError and never sent', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      // 'a' takes the only slot at 1 until 11; 'b' waits, and its 5 ms pass at 7.
      const source = hot(' -ab---------------|');
      const expected = '  -------y---x------|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, enableDedup: false, windowMs: 0, concurrency: 1, requestTimeoutMs: 5 }),
        map(outcome),
      );
      expectObservable(piped).toBe(expected, { x: { request: 'a', value: 'A' }, y: { request: 'b', error: 'BatchTimeoutError' } });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([['a']]), 17);
    });
  });

  it('requestTimeoutMs: the expiry is counted in stats.expired', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot('-ab---------------|');
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, enableDedup: false, windowMs: 0, concurrency: 1, requestTimeoutMs: 5, stats }),
        map(() => stats.snapshot().expired),
      );
      expectObservable(piped).toBe('-------a---b------|', { a: 1, b: 1 });
    });
  });

  it('maxQueueSize: a request past the bound is refused at once with QueueFullError and never sent', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      // 'a' is sent at 1; 'b' waits (the queue holds 1); 'c' finds it full.
      const source = hot(' -abc------------------------|');
      const expected = '  ---z-------x---------y------|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, enableDedup: false, windowMs: 0, concurrency: 1, maxQueueSize: 1 }),
        map(outcome),
      );
      expectObservable(piped).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'b', value: 'B' },
        z: { request: 'c', error: 'QueueFullError' },
      });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([['a'], ['b']]), 27);
    });
  });

  it('signal(request): a request whose signal aborts while it is queued is answered with the reason and never sent', () => {
    const scheduler = testScheduler();
    const controller = new AbortController();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      scheduler.schedule(() => controller.abort('gave up'), 4);
      const source = hot(' -ab---------------|');
      const expected = '  ----y------x------|';
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          enableDedup: false,
          windowMs: 0,
          concurrency: 1,
          signal: (r: string) => (r === 'b' ? controller.signal : undefined),
        }),
        map(outcome),
      );
      expectObservable(piped).toBe(expected, { x: { request: 'a', value: 'A' }, y: { request: 'b', error: 'gave up' } });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([['a']]), 17);
    });
  });

  it('signal(request): a request whose signal aborted before it arrived is refused at once and never sent', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot(' -ab---------------|');
      const expected = '  --y--------x------|';
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          enableDedup: false,
          windowMs: 0,
          concurrency: 1,
          signal: (r: string) => (r === 'b' ? AbortSignal.abort('too late') : undefined),
        }),
        map(outcome),
      );
      expectObservable(piped).toBe(expected, { x: { request: 'a', value: 'A' }, y: { request: 'b', error: 'too late' } });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([['a']]), 17);
    });
  });

  it('every request is counted in stats.totalRequests', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: upper });
      const source = hot('-aa|');
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, enableDedup: false, windowMs: 1, stats }),
        map(() => stats.snapshot().totalRequests),
      );
      expectObservable(piped).toBe('---(ab|)', { a: 2, b: 2 });
    });
  });
});
