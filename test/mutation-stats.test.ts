/**
 * The stats recorder (src/stats/batchStats.ts, through the exported `createBatchStats` and the recorder's methods
 * the pipelines call): what each counter and computed field of a snapshot says, found unguarded by mutation
 * testing (issue 17, docs/testing.md). A virtual clock stands in for time.
 */
import { describe, expect, it } from 'vitest';
import { BatchTimeoutError, createBatchStats } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import type { BatchStats } from '../src/index.js';

function batch(items: number, unique: number, failures = 0) {
  return {
    items: Array.from({ length: items }, (_, i) => i),
    unique: Array.from({ length: unique }, (_, i) => i),
    leaderOf: [],
    ...(failures > 0 ? { failures: new Map(Array.from({ length: failures }, (_, i) => [i, new Error('x')])) } : {}),
  } as never;
}

describe('costSavedUsd', () => {
  it('prices every request answered without its own execution: deduplicated, in-flight joins, cache and store hits and joins', () => {
    const stats = createBatchStats({ costPerRequestUsd: 0.5 });
    stats.recordDedup(batch(2, 1)); // 1 deduplicated
    for (let i = 0; i < 2; i++) stats.recordInFlightHit();
    for (let i = 0; i < 4; i++) stats.recordCacheHit();
    stats.recordCount('storeHits', 8);
    stats.recordCount('storeJoins', 16);
    stats.recordCount('storeFallbacks', 32); // executed here: saves nothing
    stats.recordCount('semanticCacheHits', 64); // already inside cacheHits: not counted twice
    expect(stats.snapshot().costSavedUsd).toBe((1 + 2 + 4 + 8 + 16) * 0.5);
  });

  it('is 0 with the default cost, however much was saved', () => {
    const stats = createBatchStats();
    stats.recordCacheHit();
    expect(stats.snapshot().costSavedUsd).toBe(0);
  });

  it('follows a cost changed on the recorder', () => {
    const stats = createBatchStats({ costPerRequestUsd: 1 });
    stats.recordCacheHit();
    stats.costPerRequestUsd = 3;
    expect(stats.snapshot().costSavedUsd).toBe(3);
  });
});

describe('the counters', () => {
  it('each count only what it names', () => {
    const stats = createBatchStats();
    stats.recordRequests(3);
    stats.recordBatch(5, 2);
    stats.recordEmbedFallback();
    stats.recordTextUnreadable(4);
    stats.recordExpired();
    stats.recordEmbedCache(6, 7);
    stats.recordCount('semanticCacheHits', 9);
    const s = stats.snapshot();
    expect([s.totalRequests, s.totalBatches, s.executedItems, s.embedFallbacks, s.textUnreadable, s.expired]).toEqual([
      3, 1, 2, 1, 4, 1,
    ]);
    expect([s.embedCacheHits, s.embedCacheMisses, s.semanticCacheHits, s.storeHits, s.cacheHits]).toEqual([6, 7, 9, 0, 0]);
  });

  it('add up over calls rather than keeping the latest', () => {
    const stats = createBatchStats();
    stats.recordRequests(2);
    stats.recordRequests(3);
    stats.recordBatch(4, 1);
    stats.recordBatch(6, 3);
    stats.recordTextUnreadable(1);
    stats.recordTextUnreadable(2);
    stats.recordEmbedCache(1, 2);
    stats.recordEmbedCache(3, 4);
    const s = stats.snapshot();
    expect([s.totalRequests, s.totalBatches, s.executedItems, s.avgBatchSize, s.textUnreadable]).toEqual([5, 2, 4, 5, 3]);
    expect([s.embedCacheHits, s.embedCacheMisses]).toEqual([4, 6]);
  });

  it('avgBatchSize and dedupRate are 0 before any batch, not NaN', () => {
    const s = createBatchStats().snapshot();
    expect([s.avgBatchSize, s.dedupRate, s.requestsPerSecond]).toEqual([0, 0, 0]);
  });

  it('dedupRate is the share of deduplicated requests among those keyed: items that could not be keyed count for neither side', () => {
    const stats = createBatchStats();
    stats.recordDedup(batch(10, 4, 2)); // 8 keyed, of which 4 unique: 4 deduplicated
    stats.recordDedup(batch(2, 2));
    const s = stats.snapshot();
    expect(s.deduplicated).toBe(4);
    expect(s.dedupRate).toBe(4 / 10);
  });
});

describe('results', () => {
  it('a failed result counts as a timeout when its error is a BatchTimeoutError, as an error otherwise', () => {
    const stats = createBatchStats();
    stats.recordResult(1, new BatchTimeoutError('late', 5), true);
    stats.recordResult(1, new Error('down'), true);
    stats.recordResult(1, new Error('down'), true);
    const s = stats.snapshot();
    expect([s.completed, s.timeouts, s.errors]).toEqual([3, 1, 2]);
  });

  it('a fulfilled result counts as neither, whatever error value it carries', () => {
    const stats = createBatchStats();
    stats.recordResult(1, new BatchTimeoutError('late', 5), false);
    stats.recordResult(1);
    const s = stats.snapshot();
    expect([s.completed, s.timeouts, s.errors]).toEqual([2, 0, 0]);
  });

  it('latencies are kept per priority, keyed by the priority as a string, and only for results with one', () => {
    const stats = createBatchStats();
    stats.recordResult(10, undefined, false, 2);
    stats.recordResult(30, undefined, false, 2);
    stats.recordResult(7, undefined, false, 0);
    stats.recordResult(1000);
    const s = stats.snapshot();
    expect(s.latencyByPriority).toEqual({
      '2': { p50: 10, p95: 30, p99: 30 },
      '0': { p50: 7, p95: 7, p99: 7 },
    });
  });

  it('at most 32 priorities are tracked: a 33rd is left out, an earlier one keeps collecting', () => {
    const stats = createBatchStats();
    for (let p = 0; p < 33; p++) stats.recordResult(p, undefined, false, p);
    stats.recordResult(500, undefined, false, 31);
    const s = stats.snapshot();
    expect(Object.keys(s.latencyByPriority)).toHaveLength(32);
    expect(s.latencyByPriority['32']).toBeUndefined();
    expect(s.latencyByPriority['31']).toEqual({ p50: 31, p95: 500, p99: 500 });
  });
});

describe('requestsPerSecond', () => {
  it('is results per second from the first request to the latest stamped result', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    clock.advanceBy(1000); // before the first request: not counted
    stats.recordRequests(4);
    clock.advanceBy(500);
    for (let i = 0; i < 4; i++) stats.recordResult(1);
    stats.changed();
    clock.advanceBy(5000); // nothing since: the span stays 500 ms
    expect(stats.snapshot().requestsPerSecond).toBe(8);
  });

  it('sums the spans of successive stamps', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    stats.recordRequests(2);
    clock.advanceBy(100);
    stats.recordResult(1);
    stats.changed();
    clock.advanceBy(100);
    stats.recordResult(1);
    stats.changed(250); // the caller's reading of the clock is used
    expect(stats.snapshot().requestsPerSecond).toBe(2000 / 250);
  });

  it('counts a span of at least 1 ms once results were stamped in the tick of the first request', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    clock.advanceBy(10);
    stats.recordRequests(1);
    stats.recordResult(1);
    stats.changed();
    expect(stats.snapshot().requestsPerSecond).toBe(1000);
  });

  it('is 0 for results with no request recorded (a fanOut fed directly): no span to divide by', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    clock.advanceBy(10);
    stats.recordResult(1);
    stats.changed();
    clock.advanceBy(10);
    expect(stats.snapshot().requestsPerSecond).toBe(0);
  });

  it('starts again after reset(): the span counts from the next request', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    stats.recordRequests(1);
    clock.advanceBy(100);
    stats.recordResult(1);
    stats.changed();
    stats.reset();
    clock.advanceBy(1000);
    stats.recordRequests(1);
    clock.advanceBy(250);
    stats.recordResult(1);
    stats.changed();
    expect(stats.snapshot().requestsPerSecond).toBe(4);
  });

  it('after reset(), a result of a request accepted before it gives no rate until a request comes after it', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    stats.recordRequests(1);
    clock.advanceBy(100);
    stats.recordResult(1);
    stats.changed();
    stats.recordRequests(1); // still executing at the reset
    stats.reset();
    clock.advanceBy(100);
    stats.recordResult(1);
    stats.changed();
    expect(stats.snapshot().requestsPerSecond).toBe(0);
  });

  it('a snapshot stamps results that were not stamped yet', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    stats.recordRequests(1);
    clock.advanceBy(200);
    stats.recordResult(1);
    expect(stats.snapshot().requestsPerSecond).toBe(5);
  });
});

describe('reset()', () => {
  it('zeroes every counter and latency, and tells stats$ subscribers', () => {
    const stats = createBatchStats();
    stats.recordRequests(2);
    stats.recordBatch(2, 1);
    stats.recordResult(40, new Error('x'), true, 1);
    const seen: BatchStats[] = [];
    const sub = stats.stats$.subscribe((s) => seen.push(s));
    stats.reset();
    sub.unsubscribe();
    expect(seen).toHaveLength(2);
    const after = seen[1]!;
    expect([after.totalRequests, after.totalBatches, after.errors, after.completed, after.avgBatchSize]).toEqual([0, 0, 0, 0, 0]);
    expect(after.latencyMs).toEqual({ p50: 0, p95: 0, p99: 0 });
    expect(after.latencyByPriority).toEqual({});
  });
});

describe('stats$', () => {
  it('sends a snapshot at subscription and one per change, and stops after unsubscription', () => {
    const stats = createBatchStats();
    const seen: number[] = [];
    const sub = stats.stats$.subscribe((s) => seen.push(s.totalRequests));
    stats.recordRequests(1);
    stats.changed();
    sub.unsubscribe();
    stats.recordRequests(1);
    stats.changed();
    expect(seen).toEqual([0, 1]);
  });
});

describe('live gauges', () => {
  it('queueDepth and inFlight add up over the attached probes; a probe may give only some of them', () => {
    const stats = createBatchStats();
    stats.attach({ queueDepth: () => 3, windowMs: () => 20 });
    stats.attach({ inFlight: () => 2 });
    stats.attach({ queueDepth: () => 4, inFlight: () => 1 });
    const s = stats.snapshot();
    expect([s.queueDepth, s.inFlight, s.currentWindowMs]).toEqual([7, 3, 20]);
  });

  it('a probe without a window keeps the window an earlier probe gave', () => {
    const stats = createBatchStats();
    stats.attach({ windowMs: () => 15 });
    stats.attach({ queueDepth: () => 1 });
    expect(stats.snapshot().currentWindowMs).toBe(15);
  });

  it('a detached probe no longer counts', () => {
    const stats = createBatchStats();
    const detach = stats.attach({ queueDepth: () => 5, inFlight: () => 5, windowMs: () => 5 });
    stats.attach({ queueDepth: () => 1 });
    detach();
    const s = stats.snapshot();
    expect([s.queueDepth, s.inFlight, s.currentWindowMs]).toEqual([1, 0, 0]);
  });

  it('survive reset(): they are live readings, not counters', () => {
    const stats = createBatchStats();
    stats.attach({ queueDepth: () => 2 });
    stats.reset();
    expect(stats.snapshot().queueDepth).toBe(2);
  });
});

describe('options', () => {
  it('a negative costPerRequestUsd is refused, naming the option and where', () => {
    expect(() => createBatchStats({ costPerRequestUsd: -1 })).toThrow(/createBatchStats.*costPerRequestUsd/);
  });

  it('latencySamples below 1 is refused, naming the option', () => {
    expect(() => createBatchStats({ latencySamples: 0 })).toThrow(/createBatchStats.*latencySamples/);
  });

  it('a scheduler without now() is refused', () => {
    expect(() => createBatchStats({ scheduler: {} as never })).toThrow(/createBatchStats/);
  });

  it('latencySamples bounds the samples the percentiles cover', () => {
    const stats = createBatchStats({ latencySamples: 2 });
    for (const latency of [900, 1, 2]) stats.recordResult(latency);
    expect(stats.snapshot().latencyMs.p99).toBe(2);
  });
});
