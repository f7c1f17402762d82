/**
 * The dedup step is bounded by `embedTimeoutMs`: an embedder that has not answered by then makes its batch fall
 * back to exact dedup, on the scheduler's clock. The deduper hands its batch on through a promise, which settles
 * after a `TestScheduler` flush; so these marbles pin down *when* each decision is taken (the fallback counter is
 * read at its frame by a recorder that stamps it) and check the batch that came out once the flush is done.
 */
import type { SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createLexicalEmbedder } from '../src/dedup/lexicalEmbedder.js';
import type { Embedder } from '../src/dedup/options.js';
import { createBatcher } from '../src/batcher/withSimilarity.js';
import { batchDedup } from '../src/operators/withSimilarity.js';
import { dedupBy } from '../src/operators/withSimilarity.js';
import { trackTimers } from '../src/testing/index.js';
import type { DedupedBatch } from '../src/types.js';
import { StampedStats, testScheduler } from './helpers.js';

const reset = 'How do I reset my password?';
const resetLower = 'how do i reset my password';
const items = [reset, resetLower];
/** What exact dedup makes of `items` (two different keys). */
const exact = { items, unique: items, leaderOf: [0, 1] };
/** What similarity makes of them (the lexical embedder rates them near-equal). */
const merged = { items, unique: [reset], leaderOf: [0, 0] };

const lexical = createLexicalEmbedder();

/**
 * A thenable settled by a virtual timer `delay` frames from now: its callbacks run in the frame it settles (a
 * native promise would run them after the whole flush), so the race with the timeout is decided in virtual time.
 */
function answerAfter(scheduler: SchedulerLike, delay: number, vectors: () => ArrayLike<number>[]): PromiseLike<ArrayLike<number>[]> {
  const waiting: ((value: ArrayLike<number>[]) => void)[] = [];
  let value: ArrayLike<number>[] | undefined;
  scheduler.schedule(() => {
    value = vectors();
    for (const resolve of waiting.splice(0)) resolve(value);
  }, delay);
  return {
    then(onFulfilled) {
      if (value) onFulfilled?.(value);
      else if (onFulfilled) waiting.push(onFulfilled as (v: ArrayLike<number>[]) => void);
      return undefined as never;
    },
  };
}

const never: Embedder = () => new Promise(() => {});

/** Lets the deduper's promise hand its batch on after a flush. */
const microtasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('embedTimeoutMs bounds the dedup step (dedupBy)', () => {
  it('an embed that never settles: the batch falls back to exact dedup exactly embedTimeoutMs after the call, not a frame before', async () => {
    const scheduler = testScheduler();
    const stats = new StampedStats(scheduler);
    const out: DedupedBatch<string>[] = [];
    const calledAt: number[] = [];
    const embed: Embedder = (texts) => {
      calledAt.push(scheduler.now());
      return never(texts);
    };
    scheduler.run(({ hot }) => {
      hot('-x', { x: items })
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed, embedTimeoutMs: 10, stats, scheduler }))
        .subscribe((batch) => out.push(batch));
    });
    expect(calledAt).toEqual([1]);
    expect(stats.fallbacksAt).toEqual([11]);
    await microtasks();
    expect(out).toEqual([exact]);
    expect(stats.snapshot().embedFallbacks).toBe(1);
  });

  it('defaults to 5,000 ms', async () => {
    const scheduler = testScheduler();
    const stats = new StampedStats(scheduler);
    const out: DedupedBatch<string>[] = [];
    scheduler.run(({ hot }) => {
      hot('-x', { x: items })
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed: never, stats, scheduler }))
        .subscribe((batch) => out.push(batch));
    });
    expect(stats.fallbacksAt).toEqual([5001]);
    await microtasks();
    expect(out).toEqual([exact]);
  });

  it('an embed that answers one frame before the bound is used, and its timer is cancelled', async () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const stats = new StampedStats(scheduler);
    const out: DedupedBatch<string>[] = [];
    const pendingAfter: number[] = [];
    const embed: Embedder = (texts) => answerAfter(scheduler, 9, () => lexical(texts) as ArrayLike<number>[]);
    scheduler.run(({ hot }) => {
      hot('-x', { x: items })
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed, embedTimeoutMs: 10, stats, scheduler: tracked.scheduler }))
        .subscribe((batch) => out.push(batch));
      // Frame 11 is the bound: this check, set up first, runs before a timer still armed for it would fire.
      scheduler.schedule(() => pendingAfter.push(tracked.pending()), 11);
    });
    expect(stats.fallbacksAt).toEqual([]);
    expect(pendingAfter).toEqual([0]);
    await microtasks();
    expect(out).toEqual([merged]);
  });

  it('an embed that answers one frame after the bound is ignored, and its vectors are not cached', async () => {
    const scheduler = testScheduler();
    const stats = new StampedStats(scheduler);
    const out: DedupedBatch<string>[] = [];
    const calls: [at: number, texts: string[]][] = [];
    const embed: Embedder = (texts) => {
      calls.push([scheduler.now(), [...texts]]);
      // The first call answers late, with vectors that would merge the texts (and have 2 dimensions); the second
      // answers at once with 3 dimensions, which a learned length of 2 would refuse as malformed.
      return calls.length === 1 ? answerAfter(scheduler, 11, () => texts.map(() => [1, 0])) : texts.map((_, i) => [i, 1 - i, 0]);
    };
    scheduler.run(({ hot }) => {
      hot('-x------------------y', { x: items, y: items })
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed, embedTimeoutMs: 10, stats, scheduler }))
        .subscribe((batch) => out.push(batch));
    });
    expect(stats.fallbacksAt).toEqual([11]);
    expect(calls).toEqual([
      [1, items],
      [20, items],
    ]);
    await microtasks();
    expect(out).toEqual([exact, exact]);
    expect(stats.snapshot()).toMatchObject({ embedFallbacks: 1, embedCacheHits: 0, embedCacheMisses: 4 });
  });

  it('Infinity waits as long as the embed takes, with no timer of its own', async () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const stats = new StampedStats(scheduler);
    const out: DedupedBatch<string>[] = [];
    const pendingAfterCall: number[] = [];
    const embed: Embedder = (texts) => answerAfter(scheduler, 1_000_000, () => lexical(texts) as ArrayLike<number>[]);
    scheduler.run(({ hot }) => {
      hot('-x', { x: items })
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed, embedTimeoutMs: Infinity, stats, scheduler: tracked.scheduler }))
        .subscribe((batch) => out.push(batch));
      scheduler.schedule(() => pendingAfterCall.push(tracked.pending()), 2);
    });
    expect(pendingAfterCall).toEqual([0]);
    expect(stats.fallbacksAt).toEqual([]);
    await microtasks();
    expect(out).toEqual([merged]);
  });
});

describe('embedTimeoutMs ends with the pipeline', () => {
  it('dedupBy: unsubscribing while an embed is pending cancels its bound at once; no fallback is counted later', async () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const stats = new StampedStats(scheduler);
    const out: DedupedBatch<string>[] = [];
    const pending: number[] = [];
    scheduler.run(({ hot, expectSubscriptions }) => {
      const source = hot('-x----', { x: items });
      const sub = '       ^--!  ';
      const subscription = source
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed: never, embedTimeoutMs: 10, stats, scheduler: tracked.scheduler }))
        .subscribe((batch) => out.push(batch));
      scheduler.schedule(() => pending.push(tracked.pending()), 2);
      scheduler.schedule(() => subscription.unsubscribe(), 3);
      scheduler.schedule(() => pending.push(tracked.pending()), 3);
      expectSubscriptions(source.subscriptions).toBe(sub);
    });
    // The bound was live while the embed was pending, and gone in the frame of the unsubscription.
    expect(pending).toEqual([1, 0]);
    expect(stats.fallbacksAt).toEqual([]);
    await microtasks();
    expect(out).toEqual([]);
  });

  it('batchDedup: unsubscribing while an embed is pending leaves no timer and counts no fallback', async () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const stats = new StampedStats(scheduler);
    const pending: number[] = [];
    let results = 0;
    scheduler.run(({ cold }) => {
      const subscription = cold('ab', { a: reset, b: resetLower })
        .pipe(
          batchDedup({
            execute: (texts: string[]) => texts,
            dedupStrategy: 'embedding',
            embed: never,
            embedTimeoutMs: 10,
            windowMs: 1,
            stats,
            scheduler: tracked.scheduler,
          }),
        )
        .subscribe(() => results++);
      scheduler.schedule(() => pending.push(tracked.pending()), 5);
      scheduler.schedule(() => subscription.unsubscribe(), 6);
      scheduler.schedule(() => pending.push(tracked.pending()), 6);
    });
    expect(pending[0]).toBeGreaterThan(0);
    expect(pending[1]).toBe(0);
    expect(stats.fallbacksAt).toEqual([]);
    await microtasks();
    expect(results).toBe(0);
  });
});

describe('embedTimeoutMs (createBatcher)', () => {
  it('is live: configure() sets the bound of the batches formed after it, and every request is served', async () => {
    const scheduler = testScheduler();
    const stats = new StampedStats(scheduler);
    const answers: Promise<string[]>[] = [];
    scheduler.run(() => {
      const batcher = createBatcher<string, string>({
        execute: (qs) => qs.map((q) => q.toUpperCase()),
        dedupStrategy: 'embedding',
        embed: never,
        embedTimeoutMs: 50,
        windowMs: 0,
        stats,
        scheduler,
      });
      // Two different texts per batch, so each batch has something to embed.
      scheduler.schedule(() => answers.push(batcher.processAll(items)), 1);
      scheduler.schedule(() => batcher.configure({ embedTimeoutMs: 20 }), 10);
      scheduler.schedule(() => answers.push(batcher.processAll(items)), 12);
      scheduler.schedule(() => batcher.configure({ embedTimeoutMs: Infinity }), 40);
      scheduler.schedule(() => batcher.configure({ embedTimeoutMs: 5 }), 41);
      scheduler.schedule(() => answers.push(batcher.processAll(items)), 100);
    });
    expect(stats.fallbacksAt).toEqual([32, 51, 105]);
    await microtasks();
    const upper = items.map((q) => q.toUpperCase());
    await expect(Promise.all(answers)).resolves.toEqual([upper, upper, upper]);
  });
});
