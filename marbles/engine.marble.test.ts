/**
 * The engine's admission of a request (src/internal/engine.ts), where mutation testing found promises no test
 * guarded (docs/testing.md): a request whose signal is already aborted is refused with the signal's reason
 * before anything could answer it (the result cache, an equal request in flight), and only a request whose
 * deadline passed counts as expired.
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/operators/batchDedup.js';
import { createBatchStats } from '../src/stats/batchStats.js';
import { simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

interface Ask {
  id: string;
  aborted: boolean;
}

const reason = new Error('the caller gave up');
const asks = { a: { id: 'a', aborted: false }, b: { id: 'a', aborted: true } } satisfies Record<string, Ask>;
/** A result as `id:value` or `id!reason`. */
const shown = map((r: { request: Ask; status: string; value?: unknown; error?: unknown }) =>
  r.status === 'fulfilled' ? `${r.request.id}:${String(r.value)}` : `${r.request.id}!${(r.error as Error).message}`,
);

describe('a request whose signal is already aborted', () => {
  it('is refused with the reason, not answered from the result cache', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 2, compute: (r: Ask) => `value of ${r.id}` });
      const source = cold('a-------b|', asks);
      const expected = '   ---x----y|';
      const piped = source.pipe(
        batchDedup<Ask, string>({
          execute: backend.execute,
          windowMs: 1,
          key: (r) => r.id,
          signal: (r) => (r.aborted ? AbortSignal.abort(reason) : undefined),
          resultCache: { ttlMs: 100 },
        }),
        shown,
      );
      expectObservable(piped).toBe(expected, { x: 'a:value of a', y: 'a!the caller gave up' });
    });
  });

  it('is refused with the reason, not joined to an equal request in flight', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (r: Ask) => `value of ${r.id}` });
      const source = cold('a--b----|', asks);
      const expected = '   ---y--x-|';
      const piped = source.pipe(
        batchDedup<Ask, string>({
          execute: backend.execute,
          windowMs: 1,
          key: (r) => r.id,
          signal: (r) => (r.aborted ? AbortSignal.abort(reason) : undefined),
        }),
        shown,
      );
      expectObservable(piped).toBe(expected, { x: 'a:value of a', y: 'a!the caller gave up' });
    });
  });
});

describe('expired counts deadlines only', () => {
  it('a request refused because the queue is full is not counted as expired', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    scheduler.run(({ cold, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (r: string) => r.toUpperCase() });
      const source = cold('ab-----|');
      const expected = '   -y------(x|)';
      const piped = source.pipe(
        batchDedup<string, string>({ execute: backend.execute, windowMs: 3, maxQueueSize: 1, stats }),
        map((r) => (r.status === 'fulfilled' ? `${r.request}:${r.value}` : `${r.request}!${(r.error as Error).name}`)),
      );
      expectObservable(piped).toBe(expected, { x: 'a:A', y: 'b!QueueFullError' });
    });
    expect(stats.snapshot()).toMatchObject({ expired: 0, errors: 1 });
  });

  it('a request whose signal aborts while it waits is not counted as expired', () => {
    const scheduler = testScheduler();
    const stats = createBatchStats({ scheduler });
    const controller = new AbortController();
    scheduler.run(({ cold, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (r: string) => r.toUpperCase() });
      const source = cold('a----|');
      const expected = '   -y---|';
      scheduler.schedule(() => controller.abort(reason), 1);
      const piped = source.pipe(
        batchDedup<string, string>({ execute: backend.execute, windowMs: 3, signal: () => controller.signal, stats }),
        map((r) => (r.status === 'fulfilled' ? `${r.request}:${r.value}` : `${r.request}!${(r.error as Error).message}`)),
      );
      expectObservable(piped).toBe(expected, { y: 'a!the caller gave up' });
    });
    expect(stats.snapshot()).toMatchObject({ expired: 0, errors: 1 });
  });
});
