/**
 * A subscriber that leaves while a synchronous source is still sending (`take(1)` downstream of a batch executed
 * synchronously) must stop the pipeline there: RxJS runs an operator's teardown only once its subscribe function
 * returns, so until then each operator has to check its subscriber itself. Before the fix every batch after the
 * first still reached the backend (and the embedder), and a source's `complete` sent what waited for a window.
 */
import { mergeMap, of, take, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, bufferWindow, dedupBy, fanOut, type DedupedBatch } from '../src/index.js';
import { createTestScheduler } from '../src/testing/index.js';

function recordingExecute() {
  const calls: number[][] = [];
  return { calls, execute: (items: readonly number[]) => (calls.push([...items]), items.map((x) => x * 10)) };
}

function batchOf(items: number[], batchId: number): DedupedBatch<number> {
  return { batchId, items, unique: items, leaderOf: items.map((_, i) => i) } as unknown as DedupedBatch<number>;
}

describe('a subscriber that leaves inside a result', () => {
  it('batchDedup sends no later request to the backend', () => {
    const { calls, execute } = recordingExecute();
    const results: number[] = [];
    of(1, 2, 3)
      .pipe(batchDedup<number, number>({ maxSize: 1, execute }), take(1))
      .subscribe((r) => results.push(r.status === 'fulfilled' ? r.value : -1));
    expect(results).toEqual([10]);
    expect(calls).toEqual([[1]]);
  });

  it("batchDedup does not send, on the source's complete, what waited for a window", () => {
    const { calls, execute } = recordingExecute();
    of(1, 2, 3)
      .pipe(batchDedup<number, number>({ maxSize: 2, windowMs: 100, execute }), take(1))
      .subscribe();
    expect(calls).toEqual([[1, 2]]);
  });

  it('fanOut executes no later batch', () => {
    const { calls, execute } = recordingExecute();
    of(batchOf([1, 2], 1), batchOf([3, 4], 2))
      .pipe(fanOut<number, number>({ execute }), take(1))
      .subscribe();
    expect(calls).toEqual([[1, 2]]);
  });

  it('bufferWindow, dedupBy and fanOut composed execute no later batch', () => {
    const { calls, execute } = recordingExecute();
    of(1, 2, 3)
      .pipe(bufferWindow({ maxSize: 1 }), dedupBy<number>({}), fanOut<number, number>({ execute }), take(1))
      .subscribe();
    expect(calls).toEqual([[1]]);
  });

  it('dedupBy embeds no later batch', () => {
    const embedded: string[][] = [];
    const embed = (texts: readonly string[]) => (embedded.push([...texts]), texts.map((t) => [t.length, 1]));
    of(['a', 'b'], ['cc', 'dd'])
      .pipe(dedupBy<string>({ dedupStrategy: 'embedding', embed }), take(1))
      .subscribe();
    expect(embedded).toEqual([['a', 'b']]);
  });

  it('batchDedup sends nothing of a batch whose refused request the subscriber left in, also after a delay', () => {
    // The batch's refusals are answered before it is sent; leaving inside one cancels the batch, which must then
    // not be sent (before the fix, the rest of the batch reached the backend after the unsubscription).
    const calls: number[][] = [];
    const results: string[] = [];
    createTestScheduler().run(() => {
      timer(1)
        .pipe(
          mergeMap(() => of(0, 1)),
          batchDedup<number, number>({
            maxSize: 2,
            dedupStrategy: 'embedding',
            text: (id) => {
              if (id === 0) throw new Error('no text');
              return 'some text';
            },
            embed: (texts) => texts.map(() => [1, 0]),
            execute: (ids) => (calls.push([...ids]), ids),
          }),
          take(1),
        )
        .subscribe((r) => results.push(`${r.request} ${r.status}`));
    });
    expect(results).toEqual(['0 rejected']);
    expect(calls).toEqual([]);
  });
});

