/**
 * The latency percentiles of the stats (src/stats/percentiles.ts, through createBatchStats): nearest rank over the
 * most recent `latencySamples`, found unguarded by mutation testing (docs/testing.md).
 */
import { describe, expect, it } from 'vitest';
import { createBatchStats } from '../src/index.js';

function statsWith(latencies: readonly number[], latencySamples?: number) {
  const stats = createBatchStats(latencySamples === undefined ? {} : { latencySamples });
  for (const latency of latencies) stats.recordResult(latency);
  return stats;
}

describe('latency percentiles', () => {
  it('are 0 before any result', () => {
    expect(createBatchStats().snapshot().latencyMs).toEqual({ p50: 0, p95: 0, p99: 0 });
  });

  it('are nearest-rank percentiles of the samples, sorted by value, whatever their arrival order', () => {
    // 20 samples 1..20 arriving shuffled: p50 is the 10th smallest, p95 the 19th, p99 the 20th.
    const values = [7, 20, 3, 15, 1, 12, 9, 18, 5, 11, 2, 19, 14, 6, 17, 10, 4, 16, 8, 13];
    expect(statsWith(values).snapshot().latencyMs).toEqual({ p50: 10, p95: 19, p99: 20 });
  });

  it('sort numbers as numbers, not as text', () => {
    expect(statsWith([100, 9, 10]).snapshot().latencyMs).toEqual({ p50: 10, p95: 100, p99: 100 });
  });

  it('of a single sample are that sample', () => {
    expect(statsWith([42]).snapshot().latencyMs).toEqual({ p50: 42, p95: 42, p99: 42 });
  });

  it('cover only the most recent latencySamples: older samples leave as new ones come, round and round', () => {
    // Capacity 3: 1000 and 900 are pushed out by later samples, twice around the window.
    expect(statsWith([1000, 900, 1, 2, 3, 4, 5], 3).snapshot().latencyMs).toEqual({ p50: 4, p95: 5, p99: 5 });
  });

  it('start again from nothing after reset(): no earlier sample shows', () => {
    const stats = statsWith([50, 60, 70, 80, 90]);
    stats.reset();
    expect(stats.snapshot().latencyMs).toEqual({ p50: 0, p95: 0, p99: 0 });
    stats.recordResult(5);
    expect(stats.snapshot().latencyMs).toEqual({ p50: 5, p95: 5, p99: 5 });
  });
});
