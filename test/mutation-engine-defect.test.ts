/**
 * After a defect (a dedup stage that rejects, which the real ones never do: see test/defect.test.ts), nothing of
 * the pipeline runs any more (src/internal/engine.ts), where mutation testing looked for promises no test guarded
 * (docs/testing.md): a batch whose dedup step answers after the defect is never sent to the backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { batchDedup, createBatcher } from '../src/index.js';
import { PipelineConfig } from '../src/internal/pipelineConfig.js';
import type { DedupedBatch } from '../src/types.js';
import { Subject } from 'rxjs';

type Deduper = (items: never[]) => DedupedBatch<never> | Promise<DedupedBatch<never>>;

describe('batchDedup after a defect in its dedup stage', () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it('a batch whose dedup answers after the defect is not executed', async () => {
    const defect = new Error('dedup stage rejects');
    const realDeduper = Object.getOwnPropertyDescriptor(PipelineConfig.prototype, 'deduper')!;
    restore = () => Object.defineProperty(PipelineConfig.prototype, 'deduper', realDeduper);
    let dedups = 0;
    let answerFirst: (() => void) | undefined;
    Object.defineProperty(PipelineConfig.prototype, 'deduper', {
      configurable: true,
      get(this: unknown) {
        const deduper = realDeduper.get!.call(this) as Deduper;
        return (items: never[]) => {
          // The first batch's dedup answers when the test says so; the second one's rejects.
          if (++dedups === 1) return new Promise<DedupedBatch<never>>((resolve) => (answerFirst = () => resolve(deduper(items) as DedupedBatch<never>)));
          return Promise.reject(defect);
        };
      },
    });
    const executed: string[][] = [];
    const errors: unknown[] = [];
    const source = new Subject<string>();
    source
      .pipe(
        batchDedup<string, string>({
          execute: (items) => (executed.push([...items]), items),
          maxSize: 1,
          concurrency: 2,
          // A stage that runs at batch time (see test/defect.test.ts).
          dedupStrategy: 'hybrid',
        }),
      )
      .subscribe({ error: (error: unknown) => errors.push(error) });
    source.next('a');
    source.next('b');
    await Promise.resolve();
    await Promise.resolve();
    expect(errors).toEqual([defect]);
    answerFirst!();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(executed).toEqual([]);
  });

  it('when the dedup stage throws, a request that joined an equal one waiting in that batch is rejected too', async () => {
    const defect = new Error('dedup stage throws');
    const realDeduper = Object.getOwnPropertyDescriptor(PipelineConfig.prototype, 'deduper')!;
    restore = () => Object.defineProperty(PipelineConfig.prototype, 'deduper', realDeduper);
    Object.defineProperty(PipelineConfig.prototype, 'deduper', {
      configurable: true,
      get() {
        return () => {
          throw defect;
        };
      },
    });
    const executed: string[][] = [];
    const batcher = createBatcher<string, string>({
      execute: (items) => (executed.push([...items]), items),
      maxSize: 2,
      windowMs: 1000,
      dedupStrategy: 'hybrid',
    });
    const outcome = (p: Promise<string>) => p.then((value) => ({ value }), (error: unknown) => ({ error }));
    // 'a' leads, the second 'a' joins it, 'b' fills the batch: the dedup stage throws on [a, b].
    const all = await Promise.all([outcome(batcher.process('a')), outcome(batcher.process('a')), outcome(batcher.process('b'))]);
    expect(all).toEqual([{ error: defect }, { error: defect }, { error: defect }]);
    expect(executed).toEqual([]);
  });
});
