import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/batcher/withSimilarity.js';
import type { Embedder } from '../src/dedup/options.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';


interface Ask {
  query: string;
  tenant: string;
}

function setup(embed: Embedder, dedupStrategy: 'embedding' | 'hybrid' = 'hybrid') {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: (r: Ask) => `${r.tenant}:${r.query}` });
  const batcher = createBatcher<Ask, string>({
    execute: backend.execute,
    windowMs: 10,
    dedupStrategy,
    embed,
    scope: (r) => r.tenant,
    scheduler: clock.scheduler,
  });
  return { clock, backend, batcher };
}

/** An async embedder of two directions: texts about passwords and everything else. */
const topicEmbedder: Embedder = async (texts) => texts.map((t) => (/password/i.test(t) ? [1, 0] : [0, 1]));

describe('createBatcher with an async embedder', () => {
  it('waits for the embedder, executes near-duplicates once, and answers every caller', async () => {
    const { clock, backend, batcher } = setup(topicEmbedder);
    const results = Promise.all([
      batcher.process({ query: 'reset password', tenant: 'a' }),
      batcher.process({ query: 'Reset my password', tenant: 'a' }),
      batcher.process({ query: 'Reset my password', tenant: 'b' }),
      batcher.process({ query: 'weather', tenant: 'a' }),
    ]);
    clock.advanceBy(10);
    await turn();
    clock.advanceBy(10);
    await expect(results).resolves.toEqual(['a:reset password', 'a:reset password', 'b:Reset my password', 'a:weather']);
    expect(backend.calls.map((c) => c.items.map((r) => r.query))).toEqual([['reset password', 'Reset my password', 'weather']]);
    const stats = batcher.getStats();
    // Tenant a's three texts were embedded; tenant b's lone request had nobody to be compared with.
    expect(stats.embedCacheMisses).toBe(3);
    expect(stats.embedFallbacks).toBe(0);
  });

  it('falls back to exact dedup when the embedder returns NaN vectors: all served, counted', async () => {
    const nan: Embedder = async (texts) => texts.map(() => [NaN, NaN]);
    const { clock, backend, batcher } = setup(nan, 'embedding');
    const results = Promise.all([
      batcher.process({ query: 'reset password', tenant: 'a' }),
      batcher.process({ query: 'Reset my password', tenant: 'a' }),
      batcher.process({ query: 'reset password', tenant: 'a' }),
    ]);
    clock.advanceBy(10);
    await turn();
    clock.advanceBy(10);
    await expect(results).resolves.toEqual(['a:reset password', 'a:Reset my password', 'a:reset password']);
    expect(backend.calls.map((c) => c.items.length)).toEqual([2]);
    expect(batcher.getStats().embedFallbacks).toBe(1);
  });

  it('takes a new threshold from configure()', async () => {
    const slightlyApart: Embedder = (texts) => texts.map((t) => (t === 'a' ? [1, 0] : [0.96, 0.28]));
    const { clock, backend, batcher } = setup(slightlyApart, 'embedding');
    const first = Promise.all([batcher.process({ query: 'a', tenant: 't' }), batcher.process({ query: 'b', tenant: 't' })]);
    clock.advanceBy(20);
    await first;
    batcher.configure({ dedupThreshold: 0.9 });
    const second = Promise.all([batcher.process({ query: 'a', tenant: 't' }), batcher.process({ query: 'b', tenant: 't' })]);
    clock.advanceBy(20);
    await expect(second).resolves.toEqual(['t:a', 't:a']);
    expect(backend.calls.map((c) => c.items.length)).toEqual([2, 1]);
  });
});
