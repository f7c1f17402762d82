/**
 * `dedupBy` given arrays it cannot take as they are. A sparse array (`['a', , 'a']`, as `new Array(n)` filled in
 * part gives): `enableDedup: false` left a hole in `leaderOf` for the hole, so
 * `fanOut` then rejected that request blaming `batch.leaderOf[1] is undefined`, a fault of dedupBy's own making.
 * A hole is now the request `undefined`, with its own leader, on every strategy. An array whose entry is a getter
 * that throws (or a proxy whose reads throw): dedupBy threw out of its `next` as an uncaught exception and dropped
 * the batch without a word (its doc promises one output per non-empty batch). It is now not a batch: the output
 * errors with a TypeError naming dedupBy and what was thrown, once the batches before it are out, as for input
 * that is not an array.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { dedupBy, fanOut, type BatchResult, type DedupedBatch, type DedupByOptions } from '../src/index.js';

const STRATEGIES: readonly (readonly [string, DedupByOptions<unknown>])[] = [
  ['exact', {}],
  ['embedding', { dedupStrategy: 'embedding' }],
  ['hybrid', { dedupStrategy: 'hybrid' }],
  ['a dedupFunction', { dedupFunction: (a, b) => (a === b ? 1 : 0) }],
  ['enableDedup: false', { enableDedup: false }],
];

function through(options: DedupByOptions<unknown>, batches: readonly unknown[]) {
  const source = new Subject<unknown[]>();
  const out: DedupedBatch<unknown>[] = [];
  let error: unknown;
  let completed = false;
  source.pipe(dedupBy(options)).subscribe({ next: (b) => out.push(b), error: (e: unknown) => (error = e), complete: () => (completed = true) });
  for (const batch of batches) source.next(batch as unknown[]);
  source.complete();
  return { out, error, completed };
}

describe('dedupBy given a sparse array', () => {
  it.each(STRATEGIES)('%s: every item, the hole included, has a leader whose unique item equals it', async (_, options) => {
    // eslint-disable-next-line no-sparse-arrays
    const { out } = through(options, [['a', , 'a', 'b'], ['a', , 'a']]);
    await Promise.resolve();
    expect(out).toHaveLength(2);
    for (const batch of out) {
      expect(batch.leaderOf).toHaveLength(batch.items.length);
      for (let i = 0; i < batch.items.length; i++) {
        expect(Object.hasOwn(batch.leaderOf, i), `leaderOf[${i}] present`).toBe(true);
        expect(batch.unique[batch.leaderOf[i]!]).toBe(batch.items[i]);
      }
    }
  });

  it('composed with fanOut: the hole is answered as the request undefined, not rejected for a missing leaderOf entry', async () => {
    const source = new Subject<unknown[]>();
    const results: BatchResult<unknown, string>[] = [];
    source
      .pipe(dedupBy({ enableDedup: false }), fanOut({ execute: (xs: unknown[]) => xs.map((x) => `answer to ${String(x)}`) }))
      .subscribe((r) => results.push(r));
    // eslint-disable-next-line no-sparse-arrays
    source.next(['a', , 'b']);
    await Promise.resolve();
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : `rejected: ${(r.error as Error).message}`))).toEqual([
      'answer to a',
      'answer to undefined',
      'answer to b',
    ]);
  });
});

describe('dedupBy given an array whose entries cannot be read', () => {
  const unreadable = () => Object.defineProperty(['a', 'b'], 1, { get: () => { throw new Error('entry 1 is broken'); } });

  it.each(STRATEGIES)('%s: nothing is thrown out; the output errors with a TypeError naming dedupBy after the batch before it', async (_, options) => {
    const { out, error, completed } = through(options, [['x'], unreadable(), ['y']]);
    await Promise.resolve();
    expect(out.map((b) => b.items)).toEqual([['x']]);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('dedupBy: a batch could not be read (entry 1 is broken)');
    expect(((error as Error).cause as Error).message).toBe('entry 1 is broken');
    expect(completed).toBe(false);
  });
});
