import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/batcher/withSimilarity.js';
import { batchDedup } from '../src/operators/withSimilarity.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { outcome, simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

/**
 * The forming batch: a request whose exact key and scope equal those of a request already waiting in the queue
 * joins it (a follower) instead of taking a place of its own, so `maxSize` bounds the backend items of a batch,
 * and a duplicate neither counts toward `maxSize` or `minSize` nor opens a window. `dedupInFlight` (on by
 * default) lets a duplicate of a request already executing join that execution.
 */

const upper = (s: string) => s.toUpperCase();
type P = { id: string; p: number };
const idOf = (r: P) => r.id;

describe('batchDedup: duplicates join the forming batch', () => {
  it("sends ['a','a','a','a','b'] with maxSize 2 as one batch [a, b]: duplicates take no place in it", () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: upper });
      const source = hot(' (aaaab)------|');
      const expected = '  -----(vwxyz)-|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 10, maxSize: 2, stats }),
        map((r) => ({ ...outcome(r), batchId: r.batchId, deduplicated: r.deduplicated })),
      );
      const a = (deduplicated: boolean) => ({ request: 'a', value: 'A', batchId: 1, deduplicated });
      expectObservable(piped).toBe(expected, {
        v: a(false),
        w: a(true),
        x: a(true),
        y: a(true),
        z: { request: 'b', value: 'B', batchId: 1, deduplicated: false },
      });
      // Full at frame 0 (two distinct items), not at the window's end.
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[0, ['a', 'b']]]), 12);
    });
    // Counted as before, when the duplicates shared the batch: requests per batch before dedup, and saved items.
    expect(stats.snapshot()).toMatchObject({ totalRequests: 5, totalBatches: 1, avgBatchSize: 5, deduplicated: 3, executedItems: 2, dedupRate: 3 / 5 });
  });

  it('does not fill a batch with duplicates: maxSize 2 and [a, a] wait for the window', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: upper });
      const source = hot(' aa--------|');
      const expected = '  ------(ab)|';
      const piped = source.pipe(batchDedup({ execute: backend.execute, windowMs: 5, maxSize: 2 }), map(outcome));
      expectObservable(piped).toBe(expected, { a: { request: 'a', value: 'A' }, b: { request: 'a', value: 'A' } });
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[5, ['a']]]), 9);
    });
  });

  it('does not count duplicates toward minSize: the window closes, and the batch waits for a second distinct request', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: upper });
      // minSize 2: [a, a] is one distinct item, so at the window's end (5) the batch keeps waiting; b at 8 completes it.
      const source = hot(' aa------b-------------------|');
      source.pipe(batchDedup({ execute: backend.execute, windowMs: 5, minSize: 2, maxWaitMs: 20 })).subscribe();
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[8, ['a', 'b']]]), 25);
    });
  });

  it('joins only an equal request of the same scope: [a@ann, a@bob, a@ann] with maxSize 2 is one batch of two items', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot }) => {
      type Q = { q: string; user: string };
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: (r: Q) => `${r.user}:${r.q}` });
      const source = hot(' (xyz)----|', { x: { q: 'a', user: 'ann' }, y: { q: 'a', user: 'bob' }, z: { q: 'a', user: 'ann' } });
      const results: string[] = [];
      source
        .pipe(batchDedup({ execute: backend.execute, windowMs: 5, maxSize: 2, key: (r: Q) => r.q, scope: (r: Q) => r.user }))
        .subscribe((r) => results.push(`${r.request.user}:${String(r.value)}`));
      scheduler.schedule(() => {
        expect(backend.calls.map((c) => [c.at, c.items.map((q) => q.user)])).toEqual([[0, ['ann', 'bob']]]);
        expect(results).toEqual(['ann:ann:a', 'ann:ann:a', 'bob:bob:a']);
      }, 8);
    });
  });

  it("lets a follower whose signal aborts leave alone, at that frame; its leader still runs", () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: idOf });
      const controller = new AbortController();
      scheduler.schedule(() => controller.abort(new Error('follower gone')), 4);
      const source = hot(' a-f-------------|', { a: { id: 'a', p: 0 }, f: { id: 'a', p: 1 } });
      const expected = '  ----f----------a|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 10, key: idOf, stats, signal: (r: P) => (r.p === 1 ? controller.signal : undefined) }),
        map((r) => `${r.request.p}:${r.status}`),
      );
      expectObservable(piped).toBe(expected, { f: '1:rejected', a: '0:fulfilled' });
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items.map((r) => r.p)])).toEqual([[10, [0]]]), 15);
    });
    // The follower never reached a batch: nothing was deduplicated.
    expect(stats.snapshot()).toMatchObject({ totalRequests: 2, deduplicated: 0, executedItems: 1, errors: 1 });
  });

  it("promotes a follower into the queue when its leader aborts: it counts from its own arrival for maxWaitMs", () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 2, compute: idOf });
      const controller = new AbortController();
      scheduler.schedule(() => controller.abort(new Error('leader gone')), 6);
      // minSize 2 keeps a lone request waiting until maxWaitMs. The leader (0) aborts at 6; the follower (4) takes
      // its place and leaves at 4 + 20 = 24: not at 20 (the leader's clock) nor at 26 (the promotion's).
      const source = hot(' a---f---------------------------|', { a: { id: 'a', p: 0 }, f: { id: 'a', p: 1 } });
      const expected = '  ------a-------------------f-----|';
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          windowMs: 5,
          minSize: 2,
          maxWaitMs: 20,
          key: idOf,
          signal: (r: P) => (r.p === 0 ? controller.signal : undefined),
        }),
        map((r) => `${r.request.p}:${r.status}:${r.deduplicated}`),
      );
      expectObservable(piped).toBe(expected, { a: '0:rejected:false', f: '1:fulfilled:false' });
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items.map((r) => r.p)])).toEqual([[24, [1]]]), 30);
    });
  });

  it('gives a promoted follower the place in the queue its own arrival gives it, ahead of later requests', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: idOf });
      const controller = new AbortController();
      scheduler.schedule(() => controller.abort(), 6);
      // One slot, one item per batch; x runs 0-10. a (1) leads f (3); b (2) and c (5) wait. a aborts at 6: f waits
      // where its own arrival puts it, between b and c.
      const source = hot(' xabf-c------------------------------------|', {
        x: { id: 'x', p: 0 },
        a: { id: 'a', p: 0 },
        b: { id: 'b', p: 0 },
        f: { id: 'a', p: 1 },
        c: { id: 'c', p: 0 },
      });
      source
        .pipe(
          batchDedup({
            execute: backend.execute,
            windowMs: 0,
            maxSize: 1,
            concurrency: 1,
            key: idOf,
            signal: (r: P) => (r.id === 'a' && r.p === 0 ? controller.signal : undefined),
          }),
        )
        .subscribe();
      scheduler.schedule(() => {
        expect(backend.calls.map((c) => [c.at, c.items.map((r) => `${r.id}${r.p}`)])).toEqual([
          [0, ['x0']],
          [10, ['b0']],
          [20, ['a1']],
          [30, ['c0']],
        ]);
      }, 40);
    });
  });

  it('times out a leader and then its promoted follower, each at its own requestTimeoutMs, never sending either', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 20, compute: idOf });
      // x holds the only slot 1-21. a (2) expires at 9; its follower f (5) takes its place and expires at 12.
      const source = hot(' x-a--f--------------------------|', { x: { id: 'x', p: 0 }, a: { id: 'a', p: 0 }, f: { id: 'a', p: 1 } });
      const expected = '  ---------a--f--------x----------|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 1, concurrency: 1, key: idOf, requestTimeoutMs: 7 }),
        map((r) => `${r.request.id}${r.request.p}:${r.status}`),
      );
      expectObservable(piped).toBe(expected, { x: 'x0:fulfilled', a: 'a0:rejected', f: 'a1:rejected' });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items.map(idOf))).toEqual([['x']]), 30);
    });
  });

  it('moves a leader up to the priority of a more urgent follower (as if the follower had queued itself)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: idOf });
      // x holds the only slot 0-10. a (priority 0) leads f (priority 5); b has priority 1. Without the raise, b would
      // go before a.
      const source = hot(' xabf-------------------------------|', {
        x: { id: 'x', p: 0 },
        a: { id: 'a', p: 0 },
        b: { id: 'b', p: 1 },
        f: { id: 'a', p: 5 },
      });
      source
        .pipe(
          batchDedup({
            execute: backend.execute,
            windowMs: 0,
            maxSize: 1,
            concurrency: 1,
            key: idOf,
            enablePriorities: true,
            priority: (r: P) => r.p,
            priorityAgingPerSecond: 0,
          }),
        )
        .subscribe();
      scheduler.schedule(() => {
        expect(backend.calls.map((c) => [c.at, c.items.map((r) => `${r.id}${r.p}`)])).toEqual([
          [0, ['x0']],
          [10, ['a0']],
          [20, ['b1']],
        ]);
      }, 30);
    });
  });

  it('rejects a follower whose priority(request) throws at its arrival, alone', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: idOf });
      const source = hot(' af-------|', { a: { id: 'a', p: 0 }, f: { id: 'a', p: -1 } });
      const piped = source.pipe(
        batchDedup({
          execute: backend.execute,
          windowMs: 5,
          key: idOf,
          enablePriorities: true,
          priority: (r: P) => {
            if (r.p < 0) throw new Error('no priority');
            return r.p;
          },
        }),
        map((r) => `${r.request.p}:${r.status}`),
      );
      expectObservable(piped).toBe('-f----a--|', { f: '-1:rejected', a: '0:fulfilled' });
    });
  });
});

describe('batchDedup: dedupInFlight is on by default', () => {
  it('lets a duplicate of an executing request join it, without opening a window of its own', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      // a is sent at 2 and runs until 12; its duplicate at 4 joins it. b at 6 opens its own window (6-8): had the
      // duplicate been queued, its window (4-6) would have taken b at 6.
      const source = hot(' a---a-b-------------|');
      const expected = '  ------------(ab)--c-|';
      const piped = source.pipe(
        batchDedup({ execute: backend.execute, windowMs: 2, stats }),
        map((r) => ({ request: r.request, batchId: r.batchId, deduplicated: r.deduplicated })),
      );
      expectObservable(piped).toBe(expected, {
        a: { request: 'a', batchId: 1, deduplicated: false },
        b: { request: 'a', batchId: 1, deduplicated: true },
        c: { request: 'b', batchId: 2, deduplicated: false },
      });
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[2, ['a']], [8, ['b']]]), 20);
    });
    expect(stats.snapshot()).toMatchObject({ totalRequests: 3, inFlightHits: 1, executedItems: 2 });
  });

  it('sends the duplicate again with dedupInFlight: false (the opt-out), still joining the forming batch', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot(' aa--a-------------------|');
      source.pipe(batchDedup({ execute: backend.execute, windowMs: 2, dedupInFlight: false })).subscribe();
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[2, ['a']], [6, ['a']]]), 20);
    });
  });

  it("does not join by key with the 'embedding' strategy alone in the forming batch: equality is known at batch time only", () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: upper });
      const source = hot(' aa-------|');
      source.pipe(batchDedup({ execute: backend.execute, windowMs: 5, maxSize: 2, dedupStrategy: 'embedding' })).subscribe();
      // Two places taken: the batch is full at 1, and dedup merges the two at batch time.
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[1, ['a']]]), 8);
    });
  });
});

describe('createBatcher: joins stay within one configure() generation', () => {
  it('never lets a request join a waiting one whose slot was computed under another key', async () => {
    const scheduler = testScheduler();
    type Q = { id: string; v: string };
    const calls: string[][] = [];
    const pending: Promise<string>[] = [];
    scheduler.run(() => {
      const batcher = createBatcher<Q, string>({
        execute: (items) => {
          calls.push(items.map((q) => q.id));
          return items.map((q) => q.id);
        },
        windowMs: 5,
        key: (q) => q.v,
        scheduler,
      });
      // p waits under key v = 'k'. After the change the key is the id: q's id is 'k', the slot p took, but under the
      // new key p and q differ, so q must not join p.
      scheduler.schedule(() => pending.push(batcher.process({ id: 'p', v: 'k' })), 0);
      scheduler.schedule(() => batcher.configure({ key: (q) => q.id }), 1);
      scheduler.schedule(() => pending.push(batcher.process({ id: 'k', v: 'z' })), 2);
    });
    await expect(Promise.all(pending)).resolves.toEqual(['p', 'k']);
    expect(calls).toEqual([['p', 'k']]);
  });
});
