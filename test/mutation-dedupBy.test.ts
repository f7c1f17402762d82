/**
 * dedupBy over a dedup step that answers later (an asynchronous embedder), where mutation testing found promises
 * no test guarded (docs/testing.md): the batch is emitted when the step answers, completion and a source error
 * wait for it, nothing is emitted or counted after unsubscription, and a step that rejects errors the stream.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, type DedupedBatch } from '../src/index.js';
import { dedupWith } from '../src/operators/dedupBy.js';

/** A dedup step whose answers the test gives, batch by batch: every item equal to the first. */
function laterStep() {
  const pending: { items: readonly string[]; answer: () => void; fail: (error: unknown) => void }[] = [];
  const step = (items: readonly string[]) =>
    new Promise<DedupedBatch<string>>((resolve, reject) =>
      pending.push({ items, answer: () => resolve({ items, unique: items.slice(0, 1), leaderOf: items.map(() => 0) }), fail: reject }),
    );
  return { pending, step };
}

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

function observe(source: Subject<readonly string[]>, step: ReturnType<typeof laterStep>['step'], stats = createBatchStats()) {
  const events: string[] = [];
  const subscription = source.pipe(dedupWith(() => step, stats)).subscribe({
    next: (batch) => events.push(`batch ${batch.items.join(',')}`),
    error: (error: unknown) => events.push(`error ${String(error)}`),
    complete: () => events.push('complete'),
  });
  return { events, subscription, stats };
}

describe('dedupBy with a dedup step that answers later', () => {
  it('emits each batch when its step answers', async () => {
    const source = new Subject<readonly string[]>();
    const later = laterStep();
    const { events, stats } = observe(source, later.step);
    source.next(['a', 'b']);
    await turn();
    expect(events).toEqual([]);
    later.pending[0]!.answer();
    await turn();
    expect(events).toEqual(['batch a,b']);
    expect(stats.snapshot().deduplicated).toBe(1);
  });

  it('completes only after the batch still being deduplicated is emitted', async () => {
    const source = new Subject<readonly string[]>();
    const later = laterStep();
    const { events } = observe(source, later.step);
    source.next(['a']);
    source.complete();
    await turn();
    expect(events).toEqual([]);
    later.pending[0]!.answer();
    await turn();
    expect(events).toEqual(['batch a', 'complete']);
  });

  it('forwards a source error only after the batch still being deduplicated is emitted', async () => {
    const source = new Subject<readonly string[]>();
    const later = laterStep();
    const { events } = observe(source, later.step);
    source.next(['a']);
    source.error(new Error('source broke'));
    await turn();
    expect(events).toEqual([]);
    later.pending[0]!.answer();
    await turn();
    expect(events).toEqual(['batch a', 'error Error: source broke']);
  });

  it('neither emits nor counts a batch whose step answers after unsubscription', async () => {
    const source = new Subject<readonly string[]>();
    const later = laterStep();
    const { events, subscription, stats } = observe(source, later.step);
    source.next(['a', 'a2']);
    subscription.unsubscribe();
    expect(source.observed).toBe(false);
    later.pending[0]!.answer();
    await turn();
    expect(events).toEqual([]);
    expect(stats.snapshot().deduplicated).toBe(0);
  });

  it('errors the stream with what a step that rejects gave', async () => {
    const source = new Subject<readonly string[]>();
    const later = laterStep();
    const { events } = observe(source, later.step);
    source.next(['a']);
    later.pending[0]!.fail(new Error('defect'));
    await turn();
    expect(events).toEqual(['error Error: defect']);
  });
});
