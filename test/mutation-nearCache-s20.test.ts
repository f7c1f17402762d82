/**
 * The semantic result cache across a live `configure()` (src/internal/nearCache.ts, issue 17, stop 20, H-MUT10):
 * a leader whose slot was made under the settings before a `configure()` that changes what is shared is neither
 * looked up in the cache of the new settings nor stored there, even when its batch reaches the cache after
 * requests of the new settings filled it. On a virtual clock: the embedder answers on it, no real timer.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats, type Embedder } from '../src/index.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';
import { runFor } from './support.js';

/** `old~` is at cosine 0.99 of `new`: one batch would merge them. */
const VECTORS: Record<string, number[]> = { new: [1, 0, 0], 'old~': [0.99, 0.141067, 0], other: [0, 0, 1] };

/**
 * An embedder that answers `old~` 20 ms late (on the clock) and every other text at once: the batch of `old~`,
 * formed before the `configure()`, reaches the cache after the batch of `new`, formed after it, was stored.
 */
function lateFor(clock: VirtualClock, late: string): { embed: Embedder; calls: string[][] } {
  const calls: string[][] = [];
  const embed: Embedder = (texts) => {
    calls.push([...texts]);
    const vectors = texts.map((t) => VECTORS[t]!);
    if (!texts.includes(late)) return vectors;
    return new Promise((resolve) => clock.scheduler.schedule(() => resolve(vectors), 20));
  };
  return { embed, calls };
}

function setup() {
  const clock = virtualClock();
  const executed: string[][] = [];
  const stats = createBatchStats({ scheduler: clock.scheduler });
  const { embed } = lateFor(clock, 'old~');
  const batcher = createBatcher<string, string>({
    execute: (qs: string[]) => {
      executed.push([...qs]);
      return qs.map((q) => `${q}#${executed.length}`);
    },
    dedupStrategy: 'embedding',
    dedupThreshold: 0.95,
    mergeGuard: false,
    embed,
    embedAhead: false,
    windowMs: 5,
    resultCache: { ttlMs: 1_000, semantic: true },
    scheduler: clock.scheduler,
    stats,
  });
  return { clock, batcher, executed, stats };
}

describe('nearCache: a leader of the settings before a configure()', () => {
  it('is not answered from a result cached under the new settings, though near it: it is executed', async () => {
    const { clock, batcher, executed, stats } = setup();
    const old = batcher.process('old~'); // its batch forms at 5, its embedding answers at 25
    await runFor(clock, 6);
    batcher.configure({ dedupThreshold: 0.9 }); // a new table: what is equal may now differ
    const fresh = batcher.process('new'); // its batch forms at 11, embedded at once, executed and cached
    await runFor(clock, 10);
    await expect(fresh).resolves.toBe('new#1');
    await runFor(clock, 20);
    await expect(old).resolves.toBe('old~#2');
    expect(executed).toEqual([['new'], ['old~']]);
    expect(stats.snapshot().semanticCacheHits).toBe(0);
  });

  it('the same requests without the configure(): old~ is answered from the near result of new', async () => {
    const { clock, batcher, executed, stats } = setup();
    const old = batcher.process('old~');
    await runFor(clock, 6);
    const fresh = batcher.process('new');
    await runFor(clock, 30);
    await expect(Promise.all([old, fresh])).resolves.toEqual(['new#1', 'new#1']);
    expect(executed).toEqual([['new']]);
    expect(stats.snapshot().semanticCacheHits).toBe(1);
  });
});

describe('nearCache: a near hit whose caller left while its batch was being embedded', () => {
  it('is not counted as a cache hit, and its caller keeps the error it got', async () => {
    const { clock, batcher, executed, stats } = setup();
    await expect(Promise.all([batcher.process('new'), runFor(clock, 6)])).resolves.toEqual(['new#1', undefined]);
    // old~ and other form one batch at 11, embedded at 31; old~'s deadline passes at 16, other still waits.
    const old = batcher.process('old~', { timeoutMs: 10 }).catch((error: unknown) => (error as Error).name);
    const other = batcher.process('other');
    await runFor(clock, 40);
    await expect(Promise.all([old, other])).resolves.toEqual(['BatchTimeoutError', 'other#2']);
    expect(executed).toEqual([['new'], ['other']]);
    expect(stats.snapshot()).toMatchObject({ cacheHits: 0, semanticCacheHits: 0 });
  });
});
