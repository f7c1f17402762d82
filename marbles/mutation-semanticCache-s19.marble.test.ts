/**
 * The semantic result cache's lookup (src/dedup/semanticCache.ts), on virtual time: the promises of its scoring
 * that the stop-18 mutation run found unguarded (issue 17, stop 19, H-MUT6). A cached result is found for a
 * request exactly when the two requests would have merged in one batch: at a score of at least the threshold
 * (equal included), clamped to [0, 1] so that a tie goes to the oldest entry, never on a score that is no number,
 * and the cosine's pruning bound never refuses a pair above the threshold. And a batch holding a near hit and a
 * request whose text threw answers the one from the cache and rejects the other with its own error.
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatchStats, type Embedder } from '../src/index.js';
import { simulatedBackend } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

type Seen = [frame: number, query: string, deduplicated: boolean, answer: string];

interface Setup {
  readonly vectors: Record<string, number[]>;
  readonly metric?: (a: ArrayLike<number>, b: ArrayLike<number>) => number;
  readonly windowMs?: number;
  readonly embedCacheSize?: number;
}

/** Strings through batchDedup ('embedding', threshold 0.95, no guard, a semantic result cache), 5 frames an execution. */
function run(arrivals: string, values: Record<string, string>, { vectors, metric, windowMs = 1, embedCacheSize }: Setup): { seen: Seen[]; executed: string[] } {
  const scheduler = testScheduler();
  const seen: Seen[] = [];
  const executed: string[] = [];
  const embed: Embedder = (texts) => texts.map((text) => vectors[text]!);
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
          ...(metric === undefined ? {} : { metric }),
          ...(embedCacheSize === undefined ? {} : { embedCacheSize }),
          resultCache: { ttlMs: 1_000, semantic: true },
          stats: createBatchStats({ scheduler }),
          scheduler,
        }),
        map((r): Seen => [scheduler.now(), r.request, r.deduplicated, r.status === 'fulfilled' ? r.value : `error: ${(r.error as Error).message}`]),
      )
      .subscribe((entry) => seen.push(entry));
  });
  return { seen, executed };
}

describe("the semantic cache's score", () => {
  it('a score equal to the threshold finds the cached result', () => {
    const { seen, executed } = run('a---------b|', { a: 'a', b: 'b' }, { vectors: { a: [1, 0], b: [0, 1] }, metric: () => 0.95 });
    expect(seen).toEqual([
      [6, 'a', false, 'a#1'],
      [11, 'b', true, 'a#1'],
    ]);
    expect(executed).toEqual(['a']);
  });

  it('a score that is no number finds nothing (and throws nothing)', () => {
    const { seen, executed } = run('a---------b|', { a: 'a', b: 'b' }, { vectors: { a: [1, 0], b: [0, 1] }, metric: () => '0.99' as unknown as number });
    expect(seen).toEqual([
      [6, 'a', false, 'a#1'],
      [16, 'b', false, 'b#2'],
    ]);
    expect(executed).toEqual(['a', 'b']);
  });

  it('scores above 1 count as 1: of two entries above the threshold, the oldest answers', () => {
    // a (1-6) and b (4-9) execute apart, both cached; c at 20 scores 1.25 against a and 1.5 against b.
    const { seen } = run('a--b----------------c|', { a: 'a', b: 'b', c: 'c' }, { vectors: { a: [1.25, 0], b: [1.5, 0], c: [0, 1] }, metric: (cached) => cached[0]! });
    expect(seen).toEqual([
      [6, 'a', false, 'a#1'],
      [9, 'b', false, 'b#2'],
      [21, 'c', true, 'a#1'],
    ]);
  });

  it("the cosine's bound does not refuse a pair above the threshold whose small coordinates differ in sign", () => {
    // cos(a, b) = 0.9998: b is answered from a's result.
    const { seen, executed } = run('a---------b|', { a: 'a', b: 'b' }, { vectors: { a: [0.99995, 0.01], b: [0.99995, -0.01] } });
    expect(seen).toEqual([
      [6, 'a', false, 'a#1'],
      [11, 'b', true, 'a#1'],
    ]);
    expect(executed).toEqual(['a']);
  });
});

describe('a batch that holds a near hit and a request whose text threw', () => {
  it('the hit is answered from the cache, the other request is rejected with its own error, nothing is executed', () => {
    // a runs 1-6 and is stored at 6; a~ and bad arrive at 10 and 11 and form one batch when the source ends at 12.
    const { seen, executed } = run('a---------bc|', { a: 'a', b: 'a~', c: 'bad' }, { vectors: { a: [1, 0, 0], 'a~': [0.99, 0.141067, 0] }, windowMs: 3 });
    expect(seen[0]).toEqual([3 + 5, 'a', false, 'a#1']);
    expect(seen.slice(1).sort()).toEqual(
      [
        [12, 'a~', true, 'a#1'],
        [12, 'bad', false, expect.stringMatching(/^error: .*no text for bad/) as string],
      ].sort(),
    );
    expect(executed).toEqual(['a']);
  });

  it('a request of that batch that is neither is executed and answered with its own result', () => {
    // x (first, unique item 0), a~ (a near hit) and bad arrive at 10-12 and form one batch when the source ends at 13.
    const { seen, executed } = run('a---------xbc|', { a: 'a', x: 'x', b: 'a~', c: 'bad' }, { vectors: { a: [1, 0, 0], 'a~': [0.99, 0.141067, 0], x: [0, 0, 1] }, windowMs: 4 });
    expect(seen.slice(1).sort()).toEqual(
      [
        [13, 'a~', true, 'a#1'],
        [13, 'bad', false, expect.stringMatching(/^error: .*no text for bad/) as string],
        [18, 'x', false, 'x#2'],
      ].sort(),
    );
    expect(executed).toEqual(['a', 'x']);
  });
});

describe('the vectors the semantic cache keeps, without an embedding cache', () => {
  it("are not overwritten by a later batch's answer: a request below the threshold is executed, not answered from the first", () => {
    // Nine dimensions, so the pruning bound (eight coordinates) lets the pair through to its score: cos(a, b) = 0.87.
    const a = new Array<number>(9).fill(1 / 3);
    const d = Math.sqrt(1 - 8 * 0.235 ** 2);
    const b = [...new Array<number>(8).fill(0.235), d];
    const { seen, executed } = run('a---------b|', { a: 'a', b: 'b' }, { vectors: { a, b }, embedCacheSize: 0 });
    expect(seen).toEqual([
      [6, 'a', false, 'a#1'],
      [16, 'b', false, 'b#2'],
    ]);
    expect(executed).toEqual(['a', 'b']);
  });
});
