/**
 * A malformed `DedupedBatch` given to `fanOut` (src/internal/checkBatch.ts): the error says which values would
 * have been right, a `failures` Map keyed by anything but an item index is refused, and a batch refused as a
 * whole sends nothing to the backend. Found unguarded by mutation testing (docs/testing.md).
 */
import { from, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BatchResult, DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

/** Runs `fanOut` over `batches` on virtual time; returns its results and every list of items `execute` got. */
function runFanOut(batches: readonly unknown[]): { results: BatchResult<string, string>[]; executed: string[][] } {
  const scheduler = new VirtualTimeScheduler();
  const results: BatchResult<string, string>[] = [];
  const executed: string[][] = [];
  const execute = (items: string[]) => {
    executed.push([...items]);
    return items.map((s) => s.toUpperCase());
  };
  from(batches as DedupedBatch<string>[])
    .pipe(fanOut({ execute, scheduler }))
    .subscribe((r) => results.push(r));
  scheduler.flush();
  return { results, executed };
}

const messageOf = (result: BatchResult<string, string> | undefined) => (result?.status === 'rejected' ? (result.error as Error).message : undefined);

describe('a leaderOf entry that is not an index into unique', () => {
  it('is named with the range of valid indices, and how to mark a failed item', () => {
    const { results } = runFanOut([{ items: ['r0', 'r1'], unique: ['a', 'b', 'c'], leaderOf: [0, 3] }]);
    expect(messageOf(results.find((r) => r.request === 'r1'))).toBe(
      'fanOut: batch.leaderOf[1] is 3; each entry must be the index of the item\'s leader in batch.unique (0 to 2), ' +
        'or -1 with the item\'s error in batch.failures',
    );
    expect(results.find((r) => r.request === 'r0')).toMatchObject({ status: 'fulfilled', value: 'A' });
  });

  it('says that no index is valid when unique is empty', () => {
    const { results, executed } = runFanOut([{ items: ['r0'], unique: [], leaderOf: [0] }]);
    expect(messageOf(results[0])).toBe(
      'fanOut: batch.leaderOf[0] is 0; each entry must be the index of the item\'s leader in batch.unique ' +
        '(none: batch.unique is empty), or -1 with the item\'s error in batch.failures',
    );
    expect(executed).toEqual([]);
  });
});

describe('a failures Map keyed by anything but an item index', () => {
  it.each([
    ['a fraction', 0.5, '0.5'],
    ['a numeric string', '0', '"0" (a string)'],
    ['a negative index', -1, '-1'],
  ])('keyed by %s: every request of the batch is rejected, naming the key', (_, key, shown) => {
    const failure = new Error('key threw');
    const batch = { items: ['r0', 'r1'], unique: ['a'], leaderOf: [0, -1], failures: new Map<unknown, unknown>([[key, failure]]) };
    const { results, executed } = runFanOut([batch]);
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result.error).toBeInstanceOf(TypeError);
      expect(messageOf(result)).toBe(
        `fanOut: batch.failures has an error for item ${shown}, but the batch has 2 items; a DedupedBatch is { items, unique, leaderOf, failures? }`,
      );
    }
    expect(executed).toEqual([]);
  });
});

describe('a batch refused as a whole', () => {
  it('sends nothing to the backend and rejects each request once; the next batch is served', () => {
    const { results, executed } = runFanOut([
      { items: ['r0', 'r1'], unique: ['a'], leaderOf: [0] },
      { items: ['next'], unique: ['next'], leaderOf: [0] },
    ]);
    expect(executed).toEqual([['next']]);
    expect(results.map((r) => [r.request, r.status])).toEqual([
      ['r0', 'rejected'],
      ['r1', 'rejected'],
      ['next', 'fulfilled'],
    ]);
  });
});
