import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { outcome, simulatedBackend, trackTimers } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

const upper = (s: string) => s.toUpperCase();

describe('batchDedup', () => {
  it('collects a window, executes the unique requests once, and answers every request', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: upper });
      const source = hot(' a--b--a-----------------|');
      const subs = '      ^-----------------------!';
      const expected = '  ---------------(xyz)----|';
      expectObservable(source.pipe(batchDedup({ execute: backend.execute, windowMs: 10 }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'a', value: 'A' },
        z: { request: 'b', value: 'B' },
      });
      expectSubscriptions(source.subscriptions).toBe(subs);
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[10, ['a', 'b']]]), 20);
    });
  });

  it('reports latency from arrival and marks shared results as deduplicated', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: upper });
      const source = hot(' a--a-----------------|');
      const expected = '  ---------------(xy)--|';
      expectObservable(source.pipe(batchDedup({ execute: backend.execute, windowMs: 10 }))).toBe(expected, {
        x: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: false, latencyMs: 15 },
        y: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: true, latencyMs: 12 },
      });
    });
  });

  it('keeps collecting while every slot is busy and sends what waited as one batch when a slot frees', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 20, compute: upper });
      const source = hot(' a----b-c-d-------------------------------------|');
      const expected = '  ----------------------a-------------------(bcd)|';
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 2, concurrency: 1 }), map(outcome));
      expectObservable(piped).toBe(expected, {
        a: { request: 'a', value: 'A' },
        b: { request: 'b', value: 'B' },
        c: { request: 'c', value: 'C' },
        d: { request: 'd', value: 'D' },
      });
      scheduler.schedule(() => {
        expect(backend.calls.map((c) => [c.at, c.items])).toEqual([
          [2, ['a']],
          [22, ['b', 'c', 'd']],
        ]);
      }, 45);
    });
  });

  it('takes at most maxSize waiting requests when a slot frees, oldest first without priorities', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot(' a-bcd-------------------------------|');
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 1, maxSize: 2, concurrency: 1 }));
      expectObservable(piped.pipe(map((r) => r.batchId))).toBe('-----------1---------(22)------3----|', {
        1: 1,
        2: 2,
        3: 3,
      });
      scheduler.schedule(() => {
        expect(backend.calls.map((c) => [c.at, c.items])).toEqual([
          [1, ['a']],
          [11, ['b', 'c']],
          [21, ['d']],
        ]);
      }, 35);
    });
  });

  it('refuses a request with QueueFullError at once when maxQueueSize requests are waiting', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot(' a-bcd--------------------|');
      const expected = '  ----d------a---------(bc)|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, concurrency: 1, maxQueueSize: 2 }),
        map(outcome),
      );
      expectObservable(piped).toBe(expected, {
        a: { request: 'a', value: 'A' },
        b: { request: 'b', value: 'B' },
        c: { request: 'c', value: 'C' },
        d: { request: 'd', error: 'QueueFullError' },
      });
    });
  });

  it('rejects a request whose requestTimeoutMs passes while it waits, on its own frame', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 20, compute: upper });
      const source = hot(' a-b-----------------------------|');
      const expected = '  ---------b-----------a----------|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, concurrency: 1, requestTimeoutMs: 7 }),
        map(outcome),
      );
      expectObservable(piped).toBe(expected, {
        a: { request: 'a', value: 'A' },
        b: { request: 'b', error: 'BatchTimeoutError' },
      });
    });
  });

  it('never lets requests of different scopes share a result', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      type Q = { q: string; user: string };
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: (r: Q) => `${r.user}:${r.q}` });
      const a1 = { q: 'balance', user: 'ann' };
      const b1 = { q: 'balance', user: 'bob' };
      const a2 = { q: 'balance', user: 'ann' };
      const source = hot(' (xyz)-----|', { x: a1, y: b1, z: a2 });
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 2, key: (r: Q) => r.q, scope: (r: Q) => r.user }),
        map(outcome),
      );
      expectObservable(piped).toBe('---(acb)--|', {
        a: { request: a1, value: 'ann:balance' },
        c: { request: a2, value: 'ann:balance' },
        b: { request: b1, value: 'bob:balance' },
      });
    });
  });

  it('answers every request of a failing batch with its error and goes on with the next', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({
        scheduler,
        durationMs: () => 2,
        compute: upper,
        failWith: (_, call) => (call === 0 ? new Error('overloaded') : undefined),
      });
      const source = hot(' ab----c------|');
      const expected = '  ----(xy)--z--|';
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 2 }), map(outcome));
      expectObservable(piped).toBe(expected, {
        x: { request: 'a', error: 'Error' },
        y: { request: 'b', error: 'Error' },
        z: { request: 'c', value: 'C' },
      });
    });
  });

  it('flushes on completion and completes after the last result', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 4, compute: upper });
      const source = hot(' a-b|');
      const expected = '  -------(xy|)';
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 50 }), map(outcome));
      expectObservable(piped).toBe(expected, { x: { request: 'a', value: 'A' }, y: { request: 'b', value: 'B' } });
    });
  });

  it('forwards a source error only after every received request has its result', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 4, compute: upper });
      const source = hot(' a-b#', undefined, new Error('source broke'));
      const expected = '  -------(xy#)';
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 50 }), map(outcome));
      expectObservable(piped).toBe(
        expected,
        { x: { request: 'a', value: 'A' }, y: { request: 'b', value: 'B' } },
        new Error('source broke'),
      );
    });
  });

  it('cancels every timer and aborts the execution in flight when unsubscribed', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    let backend!: ReturnType<typeof simulatedBackend<string, string>>;
    scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
      backend = simulatedBackend({ scheduler: tracked.scheduler, durationMs: () => 30, compute: upper });
      const source = hot(' a-----b------');
      const unsub = '     ^-----------!';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 3, scheduler: tracked.scheduler, requestTimeoutMs: 100 }),
      );
      expectObservable(piped, unsub).toBe('-------------');
      expectSubscriptions(source.subscriptions).toBe(unsub);
    });
    expect(backend.calls[0]!.context.signal.aborted).toBe(true);
    expect(tracked.pending()).toBe(0);
  });

  it('counts requests, batches, dedup and cost in its stats', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: upper });
      const source = hot(' aab-------------acc------------|');
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 5, stats, costPerRequestUsd: 0.01 }),
        map((r) => r.request),
      );
      expectObservable(piped).toBe('----------(aab)-----------(acc)|');
    });
    const s = stats.snapshot();
    expect(s).toMatchObject({
      totalRequests: 6,
      totalBatches: 2,
      avgBatchSize: 3,
      deduplicated: 2,
      executedItems: 4,
      completed: 6,
      errors: 0,
      timeouts: 0,
      queueDepth: 0,
      inFlight: 0,
    });
    expect(s.dedupRate).toBeCloseTo(2 / 6);
    expect(s.costSavedUsd).toBeCloseTo(0.02);
    expect(s.latencyMs).toEqual({ p50: 9, p95: 10, p99: 10 });
  });
});
