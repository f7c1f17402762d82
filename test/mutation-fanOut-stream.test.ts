/**
 * `fanOut` as a stream stage (src/operators/fanOut.ts): it counts failures, not successes, in the stats it is
 * given; after a value that is not a batch it executes nothing more, ends with that error whatever the source
 * does next, and lets go of the source at once. Found unguarded by mutation testing (docs/testing.md).
 */
import { concat, finalize, from, map, NEVER, of, throwError, timer, VirtualTimeScheduler, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, type BatchResult, type DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

const batchOf = (...items: string[]): DedupedBatch<string> => ({ items, unique: items, leaderOf: items.map((_, i) => i) });
const NOT_A_BATCH = 'not a batch' as unknown as DedupedBatch<string>;

/** Runs `fanOut` over `source` on virtual time; what came out, how it ended, and what `execute` was given. */
function run(
  source: Observable<DedupedBatch<string>>,
  execute?: (items: string[], scheduler: VirtualTimeScheduler) => unknown,
  processingTimeoutMs = 30_000,
) {
  const scheduler = new VirtualTimeScheduler();
  const results: BatchResult<string, string>[] = [];
  const executed: string[][] = [];
  let ended: { error: unknown } | 'complete' | undefined;
  const stats = createBatchStats({ scheduler });
  const subscription = source
    .pipe(
      fanOut<string, string>({
        execute: (items) => {
          executed.push([...items]);
          return (execute?.(items, scheduler) ?? items.map((s) => s.toUpperCase())) as string[];
        },
        scheduler,
        stats,
        processingTimeoutMs,
      }),
    )
    .subscribe({ next: (r) => results.push(r), error: (error) => (ended = { error }), complete: () => (ended = 'complete') });
  scheduler.flush();
  return { results, executed, ended: () => ended, stats, subscription };
}

describe('fanOut with stats', () => {
  it('counts the requests of a failed batch as errors, and those of a fulfilled one not', () => {
    let call = 0;
    const { stats, results } = run(from([batchOf('a', 'b'), batchOf('c', 'd', 'e')]), () => {
      if (call++ === 0) throw new Error('backend down');
      return undefined;
    });
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(stats.snapshot()).toMatchObject({ errors: 2, timeouts: 0 });
  });
});

describe('fanOut after a value that is not a batch', () => {
  /** A backend that answers 5 ms later, so the stream's end waits for it. */
  const later = (items: string[], scheduler: VirtualTimeScheduler) => timer(5, scheduler).pipe(map(() => items.map((s) => s.toUpperCase())));

  it('executes none of the batches a synchronous source sends after it', () => {
    const { executed } = run(from([batchOf('a'), NOT_A_BATCH, batchOf('b')]));
    expect(executed).toEqual([['a']]);
  });

  it('ends with the TypeError even when the source completes right after, once the batch before it is answered', () => {
    const { ended, results } = run(from([batchOf('a'), NOT_A_BATCH]), later);
    expect(results.map((r) => r.request)).toEqual(['a']);
    const end = ended();
    expect(end).not.toBe('complete');
    expect((end as { error: unknown }).error).toBeInstanceOf(TypeError);
  });

  it('ends with the TypeError even when the source errors right after, once the batch before it is answered', () => {
    const { ended, results } = run(concat(of(batchOf('a'), NOT_A_BATCH), throwError(() => new Error('source failed later'))), later);
    expect(results.map((r) => r.request)).toEqual(['a']);
    expect((ended() as { error: unknown }).error).toBeInstanceOf(TypeError);
  });

  it('lets go of a source that stays open, while an earlier batch is still executing', () => {
    let released = false;
    const source = concat(from([batchOf('a'), NOT_A_BATCH]), NEVER).pipe(finalize(() => (released = true)));
    const { ended, subscription } = run(source, () => new Promise<never>(() => undefined), Infinity);
    // The answer to 'a' is still owed, so the stream has not ended; the source is let go of all the same.
    expect(ended()).toBeUndefined();
    expect(released).toBe(true);
    subscription.unsubscribe();
  });
});
