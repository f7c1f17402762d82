/**
 * The engine's batch-time dedup after `configure()` (src/internal/engine.ts, `dedup`), where mutation testing
 * looked for promises no test guarded (docs/testing.md). Under exact dedup a batch of requests that did not join
 * one another at arrival is distinct and is not keyed again; but requests queued under other settings (dedup off,
 * another key) may be equal under the new ones, and must still be merged: the backend sees each distinct request
 * once, and every caller gets the answer of its own request.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

interface Q {
  readonly id: number;
  readonly v: string;
}

function echo(options: { enableDedup?: boolean; key?: (q: Q) => string } = {}) {
  const clock = virtualClock();
  const calls: string[][] = [];
  const batcher = createBatcher<Q, string>({
    scheduler: clock.scheduler,
    windowMs: 10,
    ...options,
    execute: (items) => {
      calls.push(items.map((q) => `${q.id}${q.v}`));
      return items.map((q) => `for ${q.v}`);
    },
  });
  return { clock, calls, batcher };
}

describe('configure() while requests wait: the batch is deduplicated under the new settings', () => {
  it('enableDedup turned on: equal requests queued while it was off go to the backend once', async () => {
    const { clock, calls, batcher } = echo({ enableDedup: false });
    const answers = [batcher.process({ id: 1, v: 'x' }), batcher.process({ id: 1, v: 'x' })];
    batcher.configure({ enableDedup: true });
    expect(await settleAll(clock, Promise.all(answers))).toEqual({ status: 'fulfilled', value: ['for x', 'for x'] });
    expect(calls).toEqual([['1x']]);
  });

  it('a new key: requests queued alone under the old key and equal under the new one go to the backend once', async () => {
    const { clock, calls, batcher } = echo({ key: (q) => String(q.id) });
    const answers = [batcher.process({ id: 1, v: 'x' }), batcher.process({ id: 2, v: 'x' })];
    batcher.configure({ key: (q) => q.v });
    expect(await settleAll(clock, Promise.all(answers))).toEqual({ status: 'fulfilled', value: ['for x', 'for x'] });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(1);
  });

  // Requests that others joined under the old key keep their own execution when the new key merges them into
  // another: what joined them was equal to them under the old key only, and may equal nothing else (found by
  // test/trust-keys.properties.test.ts; see test/configure-followers.test.ts). One item more, in this rare case.
  it('a new key: requests that others joined under the old key run for those, once each, even when equal under the new key', async () => {
    const { clock, calls, batcher } = echo({ key: (q) => String(q.id) });
    const answers = [
      batcher.process({ id: 1, v: 'x' }),
      batcher.process({ id: 1, v: 'x' }),
      batcher.process({ id: 2, v: 'x' }),
      batcher.process({ id: 2, v: 'x' }),
    ];
    batcher.configure({ key: (q) => q.v });
    expect(await settleAll(clock, Promise.all(answers))).toEqual({ status: 'fulfilled', value: ['for x', 'for x', 'for x', 'for x'] });
    expect(calls).toEqual([['1x', '2x']]);
  });
});
