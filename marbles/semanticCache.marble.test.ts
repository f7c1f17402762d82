/**
 * The semantic result cache (`resultCache: { semantic: true }`, issue 13 part 1) on virtual time: a batch leader
 * whose text is near a cached fulfilled result's (same scope, same other fields, similarity >= dedupThreshold,
 * merge guard allowing) is answered from it before execution, with `batchId` 0. The cache's rules are the exact
 * cache's: an entry is served while `0 <= now - storedAt < ttlMs` on the clock the pipeline reads (an entry from
 * the future is dropped), `maxEntries` bounds exact and semantic together (least recently used out first),
 * errors are never stored, and a `configure()` of what decides equality starts it anew.
 */
import { map, timer, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, createBatchStats, type BatchDedupOptions, type BatchStats, type Embedder } from '../src/index.js';
import { simulatedBackend, type TestScheduler } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

interface Ask {
  readonly query: string;
  readonly tenant?: string;
}

/**
 * Vectors chosen by hand: `x~` is at cosine 0.99 of `x` (near), `x~~` at 0.90 (far at the threshold of 0.95),
 * `a^` at 0.98 of a and 0.96 of a~ (0.95 of a~~: `a~` at 0.95 too), and the families a, b, c, d are orthogonal.
 */
const VECTORS: Record<string, number[]> = {
  a: [1, 0, 0, 0, 0],
  'a~': [0.99, 0.141067, 0, 0, 0],
  'a~~': [0.9, 0.43589, 0, 0, 0],
  'a^': [0.99, -0.141067, 0, 0, 0],
  b: [0, 0, 1, 0, 0],
  'b~': [0, 0, 0.99, 0.141067, 0],
  c: [0, 0, 0, 1, 0],
  'c~': [0, 0.141067, 0, 0.99, 0],
  d: [0, 0, 0, 0, 1],
  'd~': [0, 0, 0.141067, 0, 0.99],
};
const embed: Embedder = (texts) => texts.map((text) => VECTORS[text]!);

/** The clock of `inner`, stepped by `offset` from frame `at` on. */
function steppedClock(inner: TestScheduler, at: number, offset: number): SchedulerLike {
  return { now: () => inner.now() + (inner.now() >= at ? offset : 0), schedule: inner.schedule.bind(inner) };
}

type Seen = [frame: number, query: string, batchId: number, answer: string];

interface Run {
  readonly seen: Seen[];
  readonly stats: BatchStats;
  /** The queries of every backend item executed, in order. */
  readonly executed: string[];
}

/**
 * Requests (`[frame, ask]`) through `batchDedup` ('hybrid', threshold 0.95, no guard, a result cache of 100 ms,
 * semantic), each batch executed in 5 frames; every execution answers a value of its own (`a#1`), and a failing
 * query (`fail`) answers an error.
 */
function run(
  arrivals: readonly (readonly [frame: number, ask: Ask | string])[],
  options: Partial<BatchDedupOptions<Ask, string>> = {},
  extra: { fail?: (query: string) => boolean; clock?: (inner: TestScheduler) => SchedulerLike } = {},
): Run {
  const scheduler = testScheduler();
  const seen: Seen[] = [];
  const executed: string[] = [];
  const stats = createBatchStats({ scheduler });
  scheduler.run(({ cold }) => {
    const clock = extra.clock ? extra.clock(scheduler) : scheduler;
    const backend = simulatedBackend<Ask, string>({
      scheduler,
      durationMs: () => 5,
      compute: (ask) => `${ask.query}#${executed.push(ask.query)}`,
      failWith: (items) => (items.some((ask) => extra.fail?.(ask.query)) ? new Error('backend down') : undefined),
    });
    const asks = arrivals.map(([, ask]) => (typeof ask === 'string' ? { query: ask } : ask));
    const last = Math.max(...arrivals.map(([frame]) => frame));
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    const timeline = Array.from({ length: last + 1 }, (_, frame) => {
      const i = arrivals.findIndex(([at]) => at === frame);
      return i < 0 ? '-' : letters[i]!;
    }).join('');
    const values = Object.fromEntries(asks.map((ask, i) => [letters[i]!, ask]));
    const operator = batchDedup<Ask, string>({
      execute: (items, context) => {
        if (items.some((ask) => extra.fail?.(ask.query))) executed.push(...items.map((ask) => ask.query));
        return backend.execute(items, context);
      },
      windowMs: 1,
      concurrency: 8,
      dedupStrategy: 'hybrid',
      dedupThreshold: 0.95,
      mergeGuard: false,
      embed,
      scope: (ask) => ask.tenant,
      resultCache: { ttlMs: 100, semantic: true },
      stats,
      ...options,
      scheduler: clock,
    });
    cold(`${timeline}|`, values)
      .pipe(
        operator,
        map((result): Seen => {
          const answer = result.status === 'fulfilled' ? (result.value as string) : `error: ${(result.error as Error).message}`;
          return [scheduler.now(), result.request.query, result.batchId, answer];
        }),
      )
      .subscribe((entry) => seen.push(entry));
  });
  return { seen, stats: stats.snapshot(), executed };
}

describe('the semantic result cache', () => {
  it('answers a near text from the cached result, with batchId 0, before executing anything', () => {
    // a runs 1-6 and is stored at 6; a~ (cosine 0.99) arrives at 10, its batch forms at 11 and finds a's entry.
    const { seen, stats, executed } = run([
      [0, 'a'],
      [10, 'a~'],
    ]);
    expect(seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [11, 'a~', 0, 'a#1'],
    ]);
    expect(executed).toEqual(['a']);
    expect([stats.cacheHits, stats.semanticCacheHits]).toEqual([1, 1]);
  });

  it('executes a text below the threshold, and counts no hit', () => {
    const { seen, stats } = run([
      [0, 'a'],
      [10, 'a~~'],
    ]);
    expect(seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [16, 'a~~', 2, 'a~~#2'],
    ]);
    expect([stats.cacheHits, stats.semanticCacheHits]).toEqual([0, 0]);
  });

  it('leaves the exact cache first: an equal request is answered at arrival and counted as an exact hit', () => {
    const { seen, stats } = run([
      [0, 'a'],
      [10, 'a'],
    ]);
    expect(seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [10, 'a', 0, 'a#1'],
    ]);
    expect([stats.cacheHits, stats.semanticCacheHits]).toEqual([1, 0]);
  });

  it('answers the requests merged into a hit leader in its batch from the same entry, when each is near it', () => {
    // windowMs 3: a runs 3-8. a~ and a^ (cosine 0.96 to each other, 0.99 and 0.98 to a) form one batch.
    const { seen, executed, stats } = run(
      [
        [0, 'a'],
        [20, 'a~'],
        [21, 'a^'],
      ],
      { windowMs: 3 },
    );
    expect(seen).toEqual([
      [8, 'a', 1, 'a#1'],
      [22, 'a~', 0, 'a#1'],
      [22, 'a^', 0, 'a#1'],
    ]);
    expect(executed).toEqual(['a']);
    expect([stats.cacheHits, stats.semanticCacheHits]).toEqual([2, 2]);
  });

  it('executes a leader whose merged request is not near the entry: no request is answered past the threshold', () => {
    // a~~ merges into a~ in the batch (cosine 0.95) but is at 0.90 of a: a~ is not answered from a's entry.
    const { seen, executed, stats } = run(
      [
        [0, 'a'],
        [20, 'a~'],
        [21, 'a~~'],
      ],
      { windowMs: 3 },
    );
    expect(seen).toEqual([
      [8, 'a', 1, 'a#1'],
      [27, 'a~', 2, 'a~#2'],
      [27, 'a~~', 2, 'a~#2'],
    ]);
    expect(executed).toEqual(['a', 'a~']);
    expect(stats.semanticCacheHits).toBe(0);
  });

  it('executes the rest of a batch whose other leader was a hit', () => {
    const { seen, executed } = run(
      [
        [0, 'a'],
        [20, 'a~'],
        [21, 'b'],
      ],
      { windowMs: 3 },
    );
    expect(seen).toEqual([
      [8, 'a', 1, 'a#1'],
      [22, 'a~', 0, 'a#1'],
      [27, 'b', 2, 'b#2'],
    ]);
    expect(executed).toEqual(['a', 'b']);
  });

  it('serves an entry at ttlMs - 1 and not at ttlMs', () => {
    // Stored at 6 with ttlMs 20: the batch of a~ that forms at 25 (age 19) hits; the one at 26 (age 20) runs.
    expect(run([[0, 'a'], [24, 'a~']], { resultCache: { ttlMs: 20, semantic: true } }).seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [25, 'a~', 0, 'a#1'],
    ]);
    expect(run([[0, 'a'], [25, 'a~']], { resultCache: { ttlMs: 20, semantic: true } }).seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [31, 'a~', 2, 'a~#2'],
    ]);
  });

  it('drops an entry from the "future" when the clock steps back, and never serves it', () => {
    // a is stored at 6; at frame 8 the clock steps back a minute: at 11 a's entry reads as stored in the future.
    const { seen, stats } = run(
      [
        [0, 'a'],
        [10, 'a~'],
        [20, 'a~'],
      ],
      {},
      { clock: (inner) => steppedClock(inner, 8, -60_000) },
    );
    // a~ at 10 runs (batch 2) and is stored on the new clock; a~ at 20 is then an exact hit on that entry.
    expect(seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [16, 'a~', 2, 'a~#2'],
      [20, 'a~', 0, 'a~#2'],
    ]);
    expect(stats.semanticCacheHits).toBe(0);
  });

  it('never stores an error: a near text after a failure is executed', () => {
    const { seen, stats } = run(
      [
        [0, 'a'],
        [10, 'a~'],
      ],
      {},
      { fail: (query) => query === 'a' },
    );
    expect(seen).toEqual([
      [6, 'a', 1, 'error: backend down'],
      [16, 'a~', 2, 'a~#2'],
    ]);
    expect(stats.cacheHits).toBe(0);
  });

  it('evicts the least recently used entry past maxEntries, exact and semantic alike', () => {
    // maxEntries 2: a, b, c stored at 6, 16, 26; a (least recently used) is out, so a~ at 30 runs; c~ hits.
    const { seen } = run(
      [
        [0, 'a'],
        [10, 'b'],
        [20, 'c'],
        [30, 'a~'],
        [40, 'c~'],
      ],
      { resultCache: { ttlMs: 1000, maxEntries: 2, semantic: true } },
    );
    expect(seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [16, 'b', 2, 'b#2'],
      [26, 'c', 3, 'c#3'],
      [36, 'a~', 4, 'a~#4'],
      [41, 'c~', 0, 'c#3'],
    ]);
  });

  it('counts a semantic hit as a use: the entry it served stays, the older one leaves', () => {
    // a, b stored; a~ hits a at 21 (a is now the most recent); c stored at 36 evicts b, not a: a~ hits again.
    const { seen } = run(
      [
        [0, 'a'],
        [10, 'b'],
        [20, 'a~'],
        [30, 'c'],
        [40, 'a~'],
        [50, 'b~'],
      ],
      { resultCache: { ttlMs: 1000, maxEntries: 2, semantic: true } },
    );
    expect(seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [16, 'b', 2, 'b#2'],
      [21, 'a~', 0, 'a#1'],
      [36, 'c', 3, 'c#3'],
      [41, 'a~', 0, 'a#1'],
      [56, 'b~', 4, 'b~#4'],
    ]);
  });

  it('never answers across scopes', () => {
    const { seen } = run([
      [0, { query: 'a', tenant: 'x' }],
      [10, { query: 'a~', tenant: 'y' }],
      [20, { query: 'a~', tenant: 'x' }],
    ]);
    expect(seen).toEqual([
      [6, 'a', 1, 'a#1'],
      [16, 'a~', 2, 'a~#2'],
      [21, 'a~', 0, 'a#1'],
    ]);
  });
});

/**
 * `createBatcher` (which has `configure()`) with the options of `run`: `a` at frame 0, `change` at frame 8 (after
 * a's result is stored at 6), `a~` at frame 10. Returns what was executed and a~'s answer.
 */
async function configuredBetween(change: Partial<BatchDedupOptions<string, string>>): Promise<{ executed: string[]; answer: string }> {
  const scheduler = testScheduler();
  const executed: string[] = [];
  let answer: Promise<string> | undefined;
  scheduler.run(() => {
    const batcher = createBatcher<string, string>({
      execute: (qs) => timer(5, scheduler).pipe(map(() => qs.map((q) => `${q}#${executed.push(q)}`))),
      windowMs: 1,
      dedupStrategy: 'hybrid',
      dedupThreshold: 0.95,
      mergeGuard: false,
      embed,
      resultCache: { ttlMs: 100, semantic: true },
      scheduler,
    });
    scheduler.schedule(() => void batcher.process('a'), 0);
    scheduler.schedule(() => batcher.configure(change), 8);
    scheduler.schedule(() => (answer = batcher.process('a~')), 10);
  });
  return { executed, answer: await answer! };
}

describe('the semantic result cache and configure()', () => {
  it('forgets every entry when configure() changes the threshold', async () => {
    await expect(configuredBetween({ dedupThreshold: 0.96 })).resolves.toEqual({ executed: ['a', 'a~'], answer: 'a~#2' });
  });

  it('forgets every entry when configure() changes the embedder', async () => {
    await expect(configuredBetween({ embed: (texts) => embed(texts) })).resolves.toEqual({ executed: ['a', 'a~'], answer: 'a~#2' });
  });

  it('forgets every entry when configure() changes the strategy', async () => {
    await expect(configuredBetween({ dedupStrategy: 'embedding' })).resolves.toEqual({ executed: ['a', 'a~'], answer: 'a~#2' });
  });

  it('keeps its entries when configure() changes only the window', async () => {
    await expect(configuredBetween({ windowMs: 2 })).resolves.toEqual({ executed: ['a'], answer: 'a#1' });
  });
});
