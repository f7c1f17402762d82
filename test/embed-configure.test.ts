/**
 * Similarity dedup across a live `configure()`: the embedder's work (the embedding cache, the vectors embedded
 * ahead for queued requests, the calls in flight) is kept while the embedder stays the same, since a text's vector
 * does not depend on the threshold, the strategy, the window or the guard; a new `embed` (or cache size) starts
 * afresh, and the old stage then lets go of the queued requests and sends none of their texts to the old embedder.
 */
import { Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats, type Embedder } from '../src/index.js';
import { Embeddings } from '../src/dedup/embedAhead.js';
import { EmbeddingCache } from '../src/dedup/embeddingCache.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';
import { axis, runFor, slowAxis } from './support.js';

const upperAll = (qs: string[]) => qs.map((q) => q.toUpperCase());



function batcherWith(clock: VirtualClock, embed: Embedder, embedAhead = true) {
  const stats = createBatchStats({ scheduler: clock.scheduler });
  const batcher = createBatcher<string, string>({
    execute: upperAll,
    dedupStrategy: 'embedding',
    embed,
    embedAhead,
    mergeGuard: false,
    windowMs: 5,
    scheduler: clock.scheduler,
    stats,
  });
  return { batcher, stats };
}

describe('configure() keeps what the same embedder computed', () => {
  it('a text embedded before configure({ dedupThreshold }) is served from the cache after it: no second call', async () => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 2);
    const { batcher, stats } = batcherWith(clock, embed);
    const first = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 20);
    batcher.configure({ dedupThreshold: 0.95, windowMs: 3, dedupStrategy: 'hybrid' });
    const second = batcher.processAll(['bravo question', 'alpha question']);
    await runFor(clock, 20);
    await expect(Promise.all([first, second])).resolves.toEqual([upperAll(['alpha question', 'bravo question']), upperAll(['bravo question', 'alpha question'])]);
    expect(calls).toEqual([['alpha question', 'bravo question']]);
    expect(stats.snapshot()).toMatchObject({ embedCacheMisses: 2, embedCacheHits: 2 });
  });

  it('requests queued and embedded ahead before the change are deduplicated with those vectors: no second call', async () => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 2);
    const { batcher } = batcherWith(clock, embed);
    const answers = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 1); // their tick's call is out, answered at 2
    batcher.configure({ dedupThreshold: 0.9 });
    await runFor(clock, 20);
    await expect(answers).resolves.toEqual(upperAll(['alpha question', 'bravo question']));
    expect(calls).toEqual([['alpha question', 'bravo question']]);
  });

  it('a call in flight at the change is waited for by the batch, not made again', async () => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 30);
    const { batcher } = batcherWith(clock, embed);
    const answers = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 1);
    batcher.configure({ embedTimeoutMs: 10_000, dedupThreshold: 0.9 }); // a longer bound than the default 5000
    await runFor(clock, 60);
    await expect(answers).resolves.toEqual(upperAll(['alpha question', 'bravo question']));
    expect(calls).toEqual([['alpha question', 'bravo question']]);
  });

  it('a batch formed after embedTimeoutMs was shortened does not wait on a call bounded by the longer one', async () => {
    const clock = virtualClock();
    const calls: { texts: string[]; at: number }[] = [];
    const hung: Embedder = (texts) => {
      calls.push({ texts: [...texts], at: clock.scheduler.now() });
      return new Promise(() => {});
    };
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const fallbacksAt: number[] = [];
    const batcher = createBatcher<string, string>({
      execute: upperAll,
      dedupStrategy: 'embedding',
      embed: hung,
      embedAhead: true,
      embedTimeoutMs: 50,
      windowMs: 5,
      scheduler: clock.scheduler,
      stats,
    });
    const answers = batcher.processAll(['alpha question', 'bravo question']); // embedded ahead at 0, bound 50
    await runFor(clock, 1);
    batcher.configure({ embedTimeoutMs: 10 });
    let fallbacks = 0;
    for (let t = 1; t < 60; t++) {
      await runFor(clock, 1);
      const now = stats.snapshot().embedFallbacks;
      if (now > fallbacks) fallbacksAt.push(clock.scheduler.now());
      fallbacks = now;
    }
    await expect(answers).resolves.toEqual(upperAll(['alpha question', 'bravo question']));
    // Its own call at 5, when the batch formed, bounded by 10: exact dedup at 15, not at the old call's 50.
    expect(calls.map((c) => c.at)).toEqual([0, 5]);
    expect(fallbacksAt).toEqual([15]);
  });
});

describe('configure() with a new embedder starts afresh', () => {
  it('the old embedder is not called for the requests queued at the change; the new one embeds them', async () => {
    const clock = virtualClock();
    const old = slowAxis(clock, 2);
    const next = slowAxis(clock, 2);
    const { batcher } = batcherWith(clock, old.embed);
    const answers = batcher.processAll(['alpha question', 'bravo question']); // their tick's call not made yet
    batcher.configure({ embed: next.embed });
    await runFor(clock, 20);
    await expect(answers).resolves.toEqual(upperAll(['alpha question', 'bravo question']));
    expect(old.calls).toEqual([]);
    expect(next.calls).toEqual([['alpha question', 'bravo question']]);
  });

  it('configure({ dedupStrategy: "exact" }) retires the embedder too: the queued requests\' texts are not sent', async () => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 2);
    const { batcher } = batcherWith(clock, embed);
    const answers = batcher.processAll(['alpha question', 'bravo question']);
    batcher.configure({ dedupStrategy: 'exact' });
    await runFor(clock, 20);
    await expect(answers).resolves.toEqual(upperAll(['alpha question', 'bravo question']));
    expect(calls).toEqual([]);
  });

  it('a configure() refused for another option changes nothing of the embedder: its queued texts are still sent', async () => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 2);
    const next = slowAxis(clock, 2);
    const { batcher } = batcherWith(clock, embed);
    const answers = batcher.processAll(['alpha question', 'bravo question']);
    expect(() => batcher.configure({ embed: next.embed, maxQueueSize: -1 })).toThrow(/maxQueueSize/);
    await runFor(clock, 20);
    await expect(answers).resolves.toEqual(upperAll(['alpha question', 'bravo question']));
    expect(calls).toEqual([['alpha question', 'bravo question']]);
    expect(next.calls).toEqual([]);
  });

  it('a text embedded by the old embedder is embedded again by the new one (no vector of another model is reused)', async () => {
    const clock = virtualClock();
    const old = slowAxis(clock, 2);
    const next = slowAxis(clock, 2);
    const { batcher } = batcherWith(clock, old.embed);
    const first = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 20);
    batcher.configure({ embed: next.embed });
    const second = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 20);
    await expect(Promise.all([first, second])).resolves.toEqual([upperAll(['alpha question', 'bravo question']), upperAll(['alpha question', 'bravo question'])]);
    expect(next.calls).toEqual([['alpha question', 'bravo question']]);
  });

  it('configure({ embedCacheSize }) starts an empty cache of the new size', async () => {
    const clock = virtualClock();
    const { embed, calls } = slowAxis(clock, 2);
    const { batcher } = batcherWith(clock, embed);
    const first = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 20);
    batcher.configure({ embedCacheSize: 10 });
    const second = batcher.processAll(['alpha question', 'bravo question']);
    await runFor(clock, 20);
    await Promise.all([first, second]);
    expect(calls).toEqual([['alpha question', 'bravo question'], ['alpha question', 'bravo question']]);
  });
});

describe('a retired embedder lets go', () => {
  it('of every queued request and unsent text, and cancels its next call; calls in flight still settle for their batches', () => {
    const clock = virtualClock();
    const calls: string[][] = [];
    let answer: ((v: number[][]) => void) | undefined;
    const embed: Embedder = (texts) => {
      calls.push([...texts]);
      return new Promise((resolve) => (answer = resolve));
    };
    const embeddings = new Embeddings(embed, new EmbeddingCache(100), clock.scheduler, 10);
    const lifetime = new Subscription();
    const session = embeddings.sessionOf<number>(lifetime)!;
    session.arrived(1, 'alpha question', 'g');
    session.arrived(2, 'bravo question', 'g');
    clock.advanceBy(1); // the tick's call is out
    const inFlight = session.inFlight.get('alpha question')!;
    const told: boolean[] = [];
    inFlight.waiters!.push((call) => told.push(call.outcome!.ok));
    session.arrived(3, 'charlie question', 'g'); // the next tick's call is scheduled
    embeddings.retire();
    clock.advanceBy(5);
    expect(calls).toEqual([['alpha question', 'bravo question']]);
    expect(session.held).toBe(2); // the two texts of the call in flight, and nothing else
    answer!([axis('alpha question'), axis('bravo question')]);
    return Promise.resolve().then(() => {
      expect(told).toEqual([true]);
      expect(session.held).toBe(0);
      lifetime.unsubscribe();
    });
  });

  it('after its lifetime ends it keeps no session', () => {
    const clock = virtualClock();
    const embeddings = new Embeddings(() => [], new EmbeddingCache(10), clock.scheduler, 10);
    const lifetime = new Subscription();
    embeddings.sessionOf<number>(lifetime)!.arrived(1, 'alpha question', 'g');
    expect(embeddings.live.size).toBe(1);
    lifetime.unsubscribe();
    expect(embeddings.live.size).toBe(0);
  });
});
