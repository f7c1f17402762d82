/**
 * The semantic result cache's answers (src/internal/nearCache.ts), on virtual time. Found unguarded by Stryker
 * (issue 17, stop 18): a request answered from a near entry reported as not deduplicated, and such an answer
 * stored again under the request's own key (which renewed another request's result past its `ttlMs` and turned
 * the next equal request into an exact hit).
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatchStats, type BatchStats, type Embedder } from '../src/index.js';
import { simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

/** `a~` is at cosine 0.99 of `a`; `b` is orthogonal to both. */
const VECTORS: Record<string, number[]> = { a: [1, 0, 0], 'a~': [0.99, 0.141067, 0], b: [0, 0, 1] };
const embed: Embedder = (texts) => texts.map((text) => VECTORS[text]!);

type Seen = [frame: number, query: string, batchId: number, deduplicated: boolean, answer: string];

/** Strings through batchDedup ('embedding', threshold 0.95, a semantic result cache of `ttlMs`), 5 frames a batch. */
function run(arrivals: string, values: Record<string, string>, ttlMs = 100, windowMs = 1): { seen: Seen[]; stats: BatchStats; executed: string[] } {
  const scheduler = testScheduler();
  const seen: Seen[] = [];
  const executed: string[] = [];
  const stats = createBatchStats({ scheduler });
  scheduler.run(({ cold }) => {
    const backend = simulatedBackend<string, string>({ scheduler, durationMs: () => 5, compute: (q) => `${q}#${executed.push(q)}` });
    cold(arrivals, values)
      .pipe(
        batchDedup<string, string>({
          execute: backend.execute,
          windowMs,
          text: (q) => {
            if (q === 'bad') throw new Error('no text for bad');
            return q;
          },
          dedupStrategy: 'embedding',
          dedupThreshold: 0.95,
          mergeGuard: false,
          embed,
          resultCache: { ttlMs, semantic: true },
          stats,
          scheduler,
        }),
        map((r): Seen => [scheduler.now(), r.request, r.batchId, r.deduplicated, r.status === 'fulfilled' ? r.value : `error: ${(r.error as Error).message}`]),
      )
      .subscribe((entry) => seen.push(entry));
  });
  return { seen, stats: stats.snapshot(), executed };
}

describe('a request answered from a near cached result', () => {
  it('is reported as deduplicated: it shared an earlier execution', () => {
    // a runs 1-6 and is stored at 6; a~ arrives at 10, its batch forms at 11 and finds a's entry.
    const { seen } = run('a---------b|', { a: 'a', b: 'a~' });
    expect(seen).toEqual([
      [6, 'a', 1, false, 'a#1'],
      [11, 'a~', 0, true, 'a#1'],
    ]);
  });

  it("is not stored under its own key: the next equal request is a near hit again, not an exact one", () => {
    const { seen, stats } = run('a---------b---------b|', { a: 'a', b: 'a~' });
    expect(seen).toEqual([
      [6, 'a', 1, false, 'a#1'],
      [11, 'a~', 0, true, 'a#1'],
      [21, 'a~', 0, true, 'a#1'],
    ]);
    expect([stats.cacheHits, stats.semanticCacheHits]).toEqual([2, 2]);
  });

  it("does not outlive the entry it came from: after a's ttl, a~ is executed", () => {
    // a stored at 6 with ttlMs 20: served while now - 6 < 20. a~ found it at 11; at 31 it is gone.
    const { seen, executed } = run('a---------b-------------------b|', { a: 'a', b: 'a~' }, 20);
    expect(seen).toEqual([
      [6, 'a', 1, false, 'a#1'],
      [11, 'a~', 0, true, 'a#1'],
      [36, 'a~', 2, false, 'a~#2'],
    ]);
    expect(executed).toEqual(['a', 'a~']);
  });
});
