/**
 * The embedder's calls (src/dedup/embedAhead.ts) on promises the stop-19 mutation run found unguarded (issue 17,
 * H-MUT6): two batches formed at the same moment share the call in flight (its bound ends no later than theirs),
 * and an embedder that empties the array it is given changes nothing (it is handed a copy).
 */
import { of, Subject, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats, dedupBy, type DedupedBatch, type Embedder } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { axis, POOL, runFor, slowAxis } from './support.js';

describe('a call in flight', () => {
  it.each([Infinity, 50])('is shared by a batch formed at the same moment (embedTimeoutMs %s)', async (embedTimeoutMs) => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 10);
    const out: DedupedBatch<string>[] = [];
    const source = new Subject<string[]>();
    const run = new Subscription();
    run.add(
      source
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed, embedTimeoutMs, mergeGuard: false, scheduler: clock.scheduler }))
        .subscribe((b) => out.push(b)),
    );
    source.next(['alpha question', 'bravo question']);
    source.next(['bravo question', 'alpha question', 'charlie question']);
    await runFor(clock, 20);
    expect(calls).toEqual([['alpha question', 'bravo question'], ['charlie question']]);
    expect(out.map((b) => b.unique)).toEqual([
      ['alpha question', 'bravo question'],
      ['bravo question', 'alpha question', 'charlie question'],
    ]);
    run.unsubscribe();
  });
});

describe('an embedder that empties the array it is given', () => {
  it('still has its vectors used: near-duplicates merge, no fallback', () => {
    const stats = createBatchStats();
    const embed: Embedder = (texts) => {
      const vectors = texts.map(() => axis(POOL[0]!));
      texts.length = 0;
      return vectors;
    };
    let batch: DedupedBatch<string> | undefined;
    of(['alpha question', 'alpha question?', 'alpha question!'])
      .pipe(dedupBy({ dedupStrategy: 'embedding', embed, mergeGuard: false, stats }))
      .subscribe((b) => (batch = b));
    expect(batch!.unique).toEqual(['alpha question']);
    expect(batch!.leaderOf).toEqual([0, 0, 0]);
    expect(stats.snapshot().embedFallbacks).toBe(0);
  });
});

/** Near-duplicates under vectors that merge everything: unique ['alpha question'] when the vectors are used. */
const TEXTS = ['alpha question', 'alpha question?'];
const merging = (texts: string[]) => texts.map(() => axis(POOL[0]!));

function dedupOnce(embed: Embedder, embedTimeoutMs = Infinity) {
  const clock = virtualClock();
  const stats = createBatchStats({ scheduler: clock.scheduler });
  const out: DedupedBatch<string>[] = [];
  const run = of(TEXTS)
    .pipe(dedupBy({ dedupStrategy: 'embedding', embed, embedTimeoutMs, mergeGuard: false, stats, scheduler: clock.scheduler }))
    .subscribe((b) => out.push(b));
  return { clock, stats, out, run };
}

describe('an embedder answering a thenable of its own', () => {
  it('whose then throws: the batch falls back at once, without waiting for a bound', async () => {
    const { stats, out, run } = dedupOnce(() => ({ then: () => { throw new Error('then broke'); } }) as never);
    await Promise.resolve();
    expect(out.map((b) => b.unique)).toEqual([TEXTS]);
    expect(stats.snapshot().embedFallbacks).toBe(1);
    run.unsubscribe();
  });

  it('whose then answers at once and throws after: the answer decides, the vectors are used', async () => {
    const { stats, out, run } = dedupOnce(
      (texts) =>
        ({
          then: (onFulfilled: (v: unknown) => void) => {
            onFulfilled(merging(texts));
            throw new Error('then broke after answering');
          },
        }) as never,
    );
    await Promise.resolve();
    expect(out.map((b) => b.unique)).toEqual([['alpha question']]);
    expect(stats.snapshot().embedFallbacks).toBe(0);
    run.unsubscribe();
  });

  it('that rejects after its bound ended: the late rejection reaches nothing and throws nothing', async () => {
    let reject: ((error: unknown) => void) | undefined;
    let resolveLate: ((value: unknown) => void) | undefined;
    const { clock, stats, out, run } = dedupOnce(
      () =>
        ({
          then: (onFulfilled: (v: unknown) => void, onRejected: (e: unknown) => void) => {
            resolveLate = onFulfilled;
            reject = onRejected;
          },
        }) as never,
      10,
    );
    clock.advanceBy(10);
    await Promise.resolve();
    expect(out.map((b) => b.unique)).toEqual([TEXTS]);
    expect(() => reject!(new Error('late'))).not.toThrow();
    expect(() => resolveLate!(merging(TEXTS))).not.toThrow();
    expect(stats.snapshot().embedFallbacks).toBe(1);
    run.unsubscribe();
  });
});

describe('a call made ahead that failed', () => {
  it('counts its texts as misses, not as cache hits, in the batch that falls back for it', async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<string, string>({
      execute: (qs) => qs.map((q) => q.toUpperCase()),
      dedupStrategy: 'embedding',
      embed: () => Promise.reject(new Error('embedder down')),
      embedAhead: true,
      mergeGuard: false,
      windowMs: 5,
      scheduler: clock.scheduler,
      stats,
    });
    const answers = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 20);
    await expect(answers).resolves.toEqual(['ALPHA QUESTION', 'BRAVO QUESTION']);
    expect(stats.snapshot()).toMatchObject({ embedFallbacks: 1, embedCacheHits: 0, embedCacheMisses: 2 });
  });
});

describe('embed-ahead and a text function that throws for a request', () => {
  it('sends no text for that request to the embedder (only strings), and rejects it naming text', async () => {
    const clock = virtualClock();
    const seen: unknown[] = [];
    const embed: Embedder = (texts) => {
      seen.push(...texts);
      return texts.map(() => axis(POOL[0]!));
    };
    const batcher = createBatcher<string, string>({
      execute: (qs) => qs.map((q) => q.toUpperCase()),
      dedupStrategy: 'embedding',
      embed,
      embedAhead: true,
      mergeGuard: false,
      text: (q) => {
        if (q.startsWith('bad')) throw new Error('no text');
        return q;
      },
      windowMs: 5,
      scheduler: clock.scheduler,
    });
    const answers = Promise.allSettled(['bad one', 'alpha question', 'bad two', 'alpha question?'].map((q) => batcher.process(q)));
    await runFor(clock, 20);
    const settled = await answers;
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(seen.every((t) => typeof t === 'string')).toBe(true);
    expect(seen).toEqual(['alpha question', 'alpha question?']);
  });
});

describe('a batch waiting for two calls (one joined in flight, one of its own)', () => {
  it('waits for both, and falls back for neither', async () => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 10);
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const out: DedupedBatch<string>[] = [];
    const source = new Subject<string[]>();
    const run = new Subscription();
    run.add(
      source
        .pipe(dedupBy({ dedupStrategy: 'embedding', embed, mergeGuard: false, stats, scheduler: clock.scheduler }))
        .subscribe((b) => out.push(b)),
    );
    source.next(['alpha question', 'bravo question']);
    await runFor(clock, 3);
    source.next(['alpha question', 'charlie question']);
    await runFor(clock, 9); // the first call answers at 10, the second (charlie) at 13
    expect(out).toHaveLength(1);
    await runFor(clock, 10);
    expect(out).toHaveLength(2);
    expect(calls).toEqual([['alpha question', 'bravo question'], ['charlie question']]);
    expect(stats.snapshot().embedFallbacks).toBe(0);
    run.unsubscribe();
  });
});
