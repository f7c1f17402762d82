/**
 * The collector re-reads its settings when `configure()` changes them (src/internal/collector.ts, `refresh`), found
 * unguarded by mutation testing (issue 17, docs/testing.md): requests already waiting are batched under the new
 * settings at once, not when a timer armed under the old ones fires.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

function setup() {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: (q: string) => q.toUpperCase() });
  const batcher = createBatcher<string, string>({ execute: backend.execute, windowMs: 100, maxSize: 10, scheduler: clock.scheduler });
  return { clock, backend, batcher };
}

describe('configure() while requests wait for their window', () => {
  it('a maxSize lowered to what waits sends a full batch at once', async () => {
    const { backend, batcher } = setup();
    for (const q of ['a', 'b', 'c']) void batcher.process(q);
    await turn();
    expect(backend.calls).toHaveLength(0);
    batcher.configure({ maxSize: 2 });
    expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[0, ['a', 'b']]]);
  });

  it('a maxWaitMs shortened below the time already waited sends the batch at once', async () => {
    const { clock, backend, batcher } = setup();
    batcher.configure({ minSize: 3, maxWaitMs: 1000 });
    void batcher.process('a');
    await turn();
    clock.advanceBy(150); // the window has closed; minSize holds it open
    expect(backend.calls).toHaveLength(0);
    batcher.configure({ maxWaitMs: 120 });
    expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[150, ['a']]]);
  });
});
