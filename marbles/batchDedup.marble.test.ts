import { filter, map, merge } from 'rxjs';
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

  it('gives the requests a full buffer left behind when a slot freed a window of their own, from that moment', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      // a runs 5-8. b opens a window at 6 (to close at 11); c and d fill the buffer at 7 while the slot is busy.
      // The slot frees at 8: [b, c] go, and d, left behind, starts a new window 8 + 5 = 13 instead of leaving
      // with b's at 11.
      const backend = simulatedBackend({ scheduler, durationMs: () => 3, compute: upper });
      const source = hot(' a-----b(cd)---------|');
      const expected = '  --------a--(bc)-d---|';
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 5, maxSize: 2, concurrency: 1 }), map(outcome));
      expectObservable(piped).toBe(expected, {
        a: { request: 'a', value: 'A' },
        b: { request: 'b', value: 'B' },
        c: { request: 'c', value: 'C' },
        d: { request: 'd', value: 'D' },
      });
      scheduler.schedule(() => {
        expect(backend.calls.map((c) => [c.at, c.items])).toEqual([
          [5, ['a']],
          [8, ['b', 'c']],
          [13, ['d']],
        ]);
      }, 20);
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

  it('counts as cost saved every request answered without an item of its own: in its batch, in flight or cached', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: upper });
      // a, a: one item (one in-batch duplicate); a at frame 7 joins the execution in flight; a at 20 is cached.
      const source = hot(' aa-----a------------a--|');
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 5, stats, costPerRequestUsd: 0.01, resultCache: { ttlMs: 100 } }),
        map((r) => r.request),
      );
      expectObservable(piped).toBe('----------(aaa)-----a--|');
    });
    const s = stats.snapshot();
    expect(s).toMatchObject({ totalRequests: 4, executedItems: 1, deduplicated: 1, inFlightHits: 1, cacheHits: 1 });
    expect(s.costSavedUsd).toBeCloseTo(0.03);
  });
});

describe('batchDedup scheduling', () => {
  type P = { id: string; p: number };
  const idOf = (r: P) => r.id;

  it('forms the batch for a freed slot from the most urgent waiting requests, FIFO within a priority', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: idOf });
      const a = { id: 'a', p: 0 };
      const b = { id: 'b', p: 1 };
      const c = { id: 'c', p: 5 };
      const d = { id: 'd', p: 5 };
      const e = { id: 'e', p: 1 };
      const source = hot(' a-bcde-----------------------------|', { a, b, c, d, e });
      const expected = '  -----------a---------(cd)------(be)|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, maxSize: 2, concurrency: 1, enablePriorities: true, priority: (r: P) => r.p }),
        map((r) => r.request.id),
      );
      expectObservable(piped).toBe(expected, { a: 'a', b: 'b', c: 'c', d: 'd', e: 'e' });
      scheduler.schedule(() => {
        expect(backend.calls.map((call) => [call.at, call.items.map(idOf)])).toEqual([
          [1, ['a']],
          [11, ['c', 'd']],
          [21, ['b', 'e']],
        ]);
      }, 35);
    });
  });

  it('ages a waiting request so a stream of higher priorities cannot starve it (served at a computed frame)', () => {
    const scheduler = testScheduler();
    // One slot, one request per batch, 4 ms per call. A high-priority request (p = 5) arrives every frame;
    // a low one (p = 0) arrives at frame 1. Aging adds 1 per ms of waiting (priorityAgingPerSecond: 1000), so the
    // low request outranks every high one that arrived after frame 1 + 5 / 1 = 6 (a tie at 6 goes to the earlier).
    const D = 4;
    const P_HIGH = 5;
    const AGING_PER_MS = 1;
    const LOW_AT = 1;
    const highsAhead = Math.floor(P_HIGH / AGING_PER_MS); // h1..h5; h0 was sent at frame 0
    const lowSentAt = (1 + highsAhead) * D;
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => D, compute: idOf });
      const highs = hot('h'.repeat(40), { h: { id: 'high', p: P_HIGH } });
      const low = hot(`${'-'.repeat(LOW_AT)}l`, { l: { id: 'low', p: 0 } });
      const piped = merge(highs, low).pipe(
        batchDedup({
          // The highs are equal requests: without dedup each is an item of its own, one per frame.
          enableDedup: false,
          execute: backend.execute,
          windowMs: 0,
          maxSize: 1,
          concurrency: 1,
          enablePriorities: true,
          priority: (r: P) => r.p,
          priorityAgingPerSecond: AGING_PER_MS * 1000,
        }),
        filter((r) => r.request.id === 'low'),
        map((r) => r.request.id),
      );
      expectObservable(piped, `^ ${lowSentAt + D + 1}ms !`).toBe(`${lowSentAt + D}ms l`, { l: 'low' });
    });
  });

  it('ages waiting requests by 1 priority per second by default', () => {
    const scheduler = testScheduler();
    // One slot, one request per batch, 1200 ms per call, so everything after h0 waits for the slot to free at 1200.
    // low (p = 0) arrives at 1. At the default rate a request of priority 1 must arrive more than 1000 ms after it
    // to rank below it: early (p = 1, 900 ms later) still goes first, late (p = 1, 1100 ms later) goes after.
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 1200, compute: idOf });
      const source = hot('  hl 899ms e 199ms L|', {
        h: { id: 'h0', p: 1 },
        l: { id: 'low', p: 0 },
        e: { id: 'early', p: 1 },
        L: { id: 'late', p: 1 },
      });
      const expected = '    1200ms h 1199ms e 1199ms l 1199ms (L|)';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 0, maxSize: 1, concurrency: 1, enablePriorities: true, priority: (r: P) => r.p }),
        map((r) => r.request.id),
      );
      expectObservable(piped).toBe(expected, { h: 'h0', e: 'early', l: 'low', L: 'late' });
      scheduler.schedule(() => {
        expect(backend.calls.map((call) => [call.at, call.items.map(idOf)])).toEqual([
          [0, ['h0']],
          [1200, ['early']],
          [2400, ['low']],
          [3600, ['late']],
        ]);
      }, 4800);
    });
  });

  it('without aging, the low-priority request waits behind every high one', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 4, compute: idOf });
      const source = hot('ab-cde|', {
        a: { id: 'h0', p: 5 },
        b: { id: 'low', p: 0 },
        c: { id: 'h1', p: 5 },
        d: { id: 'h2', p: 5 },
        e: { id: 'h3', p: 5 },
      });
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 0, maxSize: 1, concurrency: 1, enablePriorities: true, priority: (r: P) => r.p, priorityAgingPerSecond: 0 }),
        map((r) => r.request.id),
      );
      expectObservable(piped).toBe('----a---c---d---e---(l|)', { a: 'h0', c: 'h1', d: 'h2', e: 'h3', l: 'low' });
    });
  });

  it('withdraws a waiting request whose signal aborts, answering it with the reason at that frame', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: idOf });
      const controller = new AbortController();
      const reason = new Error('caller gone');
      const source = hot(' a-b--------------|', { a: { id: 'a', p: 0 }, b: { id: 'b', p: 0 } });
      const expected = '  -----b-----a-----|';
      scheduler.schedule(() => controller.abort(reason), 5);
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          windowMs: 1,
          concurrency: 1,
          signal: (r: P) => (r.id === 'b' ? controller.signal : undefined),
        }),
        map(outcome),
        map((o) => ({ id: o.request.id, value: o.value, error: o.error })),
      );
      expectObservable(piped).toBe(expected, { a: { id: 'a', value: 'a' }, b: { id: 'b', error: 'Error' } });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items.map(idOf))).toEqual([['a']]), 16);
    });
  });

  it('does not send an item whose every requester aborted while waiting', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: idOf });
      const controller = new AbortController();
      const source = hot(' a-xx-y-----------------------|', { a: { id: 'a', p: 0 }, x: { id: 'x', p: 0 }, y: { id: 'y', p: 0 } });
      scheduler.schedule(() => controller.abort(), 6);
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, concurrency: 1, signal: (r: P) => (r.id === 'x' ? controller.signal : undefined) }),
        map((r) => `${r.request.id}:${r.status}`),
      );
      expectObservable(piped).toBe('------(xx)-a---------y-------|', { x: 'x:rejected', a: 'a:fulfilled', y: 'y:fulfilled' });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items.map(idOf))).toEqual([['a'], ['y']]), 29);
    });
  });
});

describe('batchDedup in-flight dedup and result cache', () => {
  type Q = { q: string; user?: string };
  const textOf = (r: Q) => r.q.toUpperCase();

  it('lets a request equal to one executing join that execution and get its value (dedupInFlight)', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: textOf });
      const source = hot(' a---b-----------|', { a: { q: 'x' }, b: { q: 'x' } });
      const expected = '  -----------(ab)-|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, dedupInFlight: true, stats }),
        map((r) => ({ value: r.value, batchId: r.batchId, deduplicated: r.deduplicated, latencyMs: r.latencyMs })),
      );
      expectObservable(piped).toBe(expected, {
        a: { value: 'X', batchId: 1, deduplicated: false, latencyMs: 11 },
        b: { value: 'X', batchId: 1, deduplicated: true, latencyMs: 7 },
      });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([[{ q: 'x' }]]), 15);
    });
    expect(stats.snapshot()).toMatchObject({ totalRequests: 2, inFlightHits: 1, completed: 2, executedItems: 1 });
  });

  it('sends an equal request again when in-flight dedup is off (dedupInFlight: false; on by default)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: textOf });
      const source = hot(' a---b-----------------|', { a: { q: 'x' }, b: { q: 'x' } });
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, concurrency: 2, dedupInFlight: false }),
        map((r) => r.batchId),
      );
      expectObservable(piped).toBe('-----------a---b------|', { a: 1, b: 2 });
    });
  });

  it('never joins an execution of another scope', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: (r: Q) => `${r.user}:${r.q}` });
      const source = hot(' a---b-----------------|', { a: { q: 'x', user: 'ann' }, b: { q: 'x', user: 'bob' } });
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, dedupInFlight: true, key: (r: Q) => r.q, scope: (r: Q) => r.user }),
        map((r) => r.value),
      );
      expectObservable(piped).toBe('-----------a---b------|', { a: 'ann:x', b: 'bob:x' });
    });
  });

  it('gives joined requests the error of a failed execution', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: textOf, failWith: () => new RangeError('down') });
      const source = hot(' a---b-----------|', { a: { q: 'x' }, b: { q: 'x' } });
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 1, dedupInFlight: true }), map(outcome));
      expectObservable(piped).toBe('-----------(ab)-|', { a: { request: { q: 'x' }, error: 'RangeError' }, b: { request: { q: 'x' }, error: 'RangeError' } });
    });
  });

  it('answers from the result cache within ttlMs, at arrival, and executes again after it expires', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: textOf });
      const source = hot(' a--------------b---------------c-----------------|', { a: { q: 'x' }, b: { q: 'x' }, c: { q: 'x' } });
      const expected = '  -----------a---b--------------------------c------|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, resultCache: { ttlMs: 20 }, stats }),
        map((r) => r.batchId),
      );
      // a is cached at 11 until 31; b at 15 is a hit; c at 31 finds it expired and runs as batch 2.
      expectObservable(piped).toBe(expected, { a: 1, b: 0, c: 2 });
    });
    expect(stats.snapshot()).toMatchObject({ cacheHits: 1, executedItems: 2, completed: 3 });
  });

  it('counts expired requests and latency per priority', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: (r: { p: number }) => r.p });
      const source = hot(' ab-c-------------------------|', { a: { p: 1 }, b: { p: 2 }, c: { p: 1 } });
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          windowMs: 0,
          concurrency: 1,
          // c equals a: it must wait in the queue (and expire) rather than join a's execution.
          dedupInFlight: false,
          enablePriorities: true,
          priority: (r: { p: number }) => r.p,
          requestTimeoutMs: 5,
          stats,
        }),
        map((r) => r.status),
      );
      // a runs 0-10; b (priority 2) waits and expires at 6; c (priority 1) expires at 8.
      expectObservable(piped).toBe('------b-c-a------------------|', { a: 'fulfilled', b: 'rejected', c: 'rejected' });
    });
    const s = stats.snapshot();
    expect(s).toMatchObject({ expired: 2, timeouts: 2, completed: 3 });
    expect(s.latencyByPriority).toEqual({ '1': { p50: 5, p95: 10, p99: 10 }, '2': { p50: 5, p95: 5, p99: 5 } });
  });
});
