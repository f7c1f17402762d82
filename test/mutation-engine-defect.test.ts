/**
 * After a defect (a dedup stage that rejects, which the real ones never do: see test/defect.test.ts), nothing of
 * the pipeline runs any more (src/internal/engine.ts), where mutation testing looked for promises no test guarded
 * (docs/testing.md): a batch whose dedup step answers after the defect is never sent to the backend.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { batchDedup } from '../src/index.js';
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
});
