/**
 * dedupBy at its edges, where mutation testing found behaviour no test guarded (docs/testing.md): a batch of no
 * requests is not a batch to deduplicate.
 */
import { of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, type DedupedBatch } from '../src/index.js';
import { dedupBy } from '../src/operators/index.js';

describe('dedupBy edges', () => {
  it('emits nothing for an empty batch, so no stage after it is asked to execute nothing', () => {
    const stats = createBatchStats();
    const out: DedupedBatch<string>[] = [];
    let completed = false;
    of([] as string[], ['a', 'a'], [] as string[]).pipe(dedupBy<string>({ stats })).subscribe({
      next: (batch) => out.push(batch),
      complete: () => (completed = true),
    });
    expect(out.map((batch) => batch.items)).toEqual([['a', 'a']]);
    expect(completed).toBe(true);
    expect(stats.snapshot()).toMatchObject({ deduplicated: 1, dedupRate: 0.5 });
  });
});
