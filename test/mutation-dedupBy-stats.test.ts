/**
 * dedupBy's stats hooks (src/operators/dedupBy.ts), found unguarded by mutation testing (docs/testing.md): a
 * fallback or an unreadable text without `stats` does not throw, and with `stats` unreadable texts are counted.
 */
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, type DedupedBatch } from '../src/index.js';
import { dedupBy } from '../src/operators/index.js';

function dedupOnce<T>(operator: ReturnType<typeof dedupBy<T>>, items: T[]): DedupedBatch<T> | undefined {
  let out: DedupedBatch<T> | undefined;
  of(items).pipe(operator).subscribe((batch) => (out = batch));
  return out;
}

describe('dedupBy without stats', () => {
  it('an embedder that throws falls back to exact dedup, with nothing to count it in', () => {
    const batch = dedupOnce(
      dedupBy<{ query: string }>({
        dedupStrategy: 'embedding',
        embed: () => {
          throw new Error('down');
        },
      }),
      [{ query: 'a' }, { query: 'a' }, { query: 'b' }],
    );
    expect(batch?.leaderOf).toEqual([0, 0, 1]);
  });

  it('requests whose text cannot be read are deduplicated exactly, with nothing to count them in', () => {
    const batch = dedupOnce(dedupBy<{ id: number }>({ dedupStrategy: 'embedding' }), [{ id: 1 }, { id: 1 }, { id: 2 }]);
    expect(batch?.leaderOf).toEqual([0, 0, 1]);
  });
});

describe('dedupBy with stats', () => {
  it('counts the requests whose text cannot be read', () => {
    const stats = createBatchStats();
    dedupOnce(dedupBy<{ id: number }>({ dedupStrategy: 'embedding', stats }), [{ id: 1 }, { id: 1 }, { id: 2 }]);
    expect(stats.snapshot().textUnreadable).toBe(3);
  });
});
