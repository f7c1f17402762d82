import { afterEach, describe, expect, it } from 'vitest';
import { createBatcher } from '../src/batcher/withSimilarity.js';
import { PipelineConfig } from '../src/internal/pipelineConfig.js';
import type { DedupedBatch } from '../src/types.js';

/**
 * A defect inside the pipeline (here: a dedup stage that rejects, which the real ones never do) must still answer
 * every caller. The engine holds every unanswered request, wherever it is: waiting in the queue, in the batch being
 * deduplicated, in a batch executing, or joined to an equal request in flight.
 */
describe('createBatcher after a defect in the pipeline', () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it.each(['rejects', 'throws'] as const)('when a dedup stage %s: rejects every request the pipeline held, with the defect, and refuses new ones', async (how) => {
    const defect = new Error(`dedup stage ${how}`);
    type Deduper = (items: never[]) => DedupedBatch<never> | Promise<DedupedBatch<never>>;
    const realDeduper = Object.getOwnPropertyDescriptor(PipelineConfig.prototype, 'deduper')!;
    restore = () => Object.defineProperty(PipelineConfig.prototype, 'deduper', realDeduper);
    let dedups = 0;
    Object.defineProperty(PipelineConfig.prototype, 'deduper', {
      configurable: true,
      get(this: unknown) {
        const deduper = realDeduper.get!.call(this) as Deduper;
        return (items: never[]) => {
          if (++dedups !== 2) return deduper(items);
          if (how === 'throws') throw defect;
          return Promise.reject(defect);
        };
      },
    });
    let executing: { signal: AbortSignal } | undefined;
    const batcher = createBatcher<string, string>({
      // Never answers: the first batch stays in flight until the defect stops it.
      execute: (_items, context) => {
        executing = { signal: context.signal };
        return new Promise<string[]>(() => undefined);
      },
      maxSize: 2,
      windowMs: 1000,
      concurrency: 2,
      dedupInFlight: true,
      // A stage that runs at batch time: with exact dedup alone, a batch of requests that did not join one another
      // at arrival is not deduplicated again.
      dedupStrategy: 'hybrid',
    });
    const outcome = (p: Promise<string>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));

    const executingBatch = [outcome(batcher.process('a')), outcome(batcher.process('b'))];
    const joined = outcome(batcher.process('a'));
    const dedupedBatch = [outcome(batcher.process('c')), outcome(batcher.process('d'))];
    const queued = outcome(batcher.process('e'));

    const all = await Promise.all([...executingBatch, joined, ...dedupedBatch, queued]);
    expect(all).toEqual(Array.from({ length: 6 }, () => ({ error: defect })));
    expect(executing?.signal.aborted).toBe(true);
    expect(batcher.closed).toBe(true);
    await expect(batcher.close()).resolves.toBeUndefined();
    const late = batcher.process('f'); // rejects rather than throws
    await expect(late).rejects.toBe(defect);
  });
});
