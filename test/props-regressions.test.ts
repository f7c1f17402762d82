/**
 * Regression examples for what the widened property tests (issue 11, last requirement) found in the library.
 * Each is the property's counterexample, shrunk and written out.
 */
import { of, Subject, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, bufferWindow, createBatcher, createBatchStats, dedupBy } from '../src/index.js';
import { trackTimers } from '../src/testing/index.js';
import { hostClock, runMoments } from './support.js';

describe('embedTimeoutMs above 2^31 - 1 ms (found by reliability.batcher.test.ts)', () => {
  it('is honoured: an embedder answering after 5 ms is waited for, not cut off after 1 ms by a clamped host timer', async () => {
    const clock = new VirtualTimeScheduler();
    const scheduler = hostClock(clock).scheduler; // delays above 2^31 - 1 ms fire after 1 ms, as setTimeout's do
    const stats = createBatchStats({ scheduler });
    const batcher = createBatcher<string, string>({
      windowMs: 0,
      dedupStrategy: 'embedding',
      embedTimeoutMs: 3e9,
      mergeGuard: false,
      dedupThreshold: 0.5,
      scheduler,
      stats,
      embed: (texts) => new Promise((resolve) => clock.schedule(() => resolve(texts.map(() => [1, 0])), 5)),
      execute: (items) => items.map((item) => `answer to ${item}`),
    });
    const answers = batcher.processAll(['what is rxjs', 'what is rxjs?']);
    let answered: string[] | undefined;
    void answers.then((a) => (answered = a));
    await runMoments(clock, () => answered !== undefined);
    // Both merged by similarity (one execution), and no fallback: before the fix the bound fired after 1 ms.
    expect(answered).toEqual(['answer to what is rxjs', 'answer to what is rxjs']);
    expect(stats.snapshot().embedFallbacks).toBe(0);
  });
});

describe('close() while a batch waits for embed() (found by reliability.batcher.test.ts)', () => {
  it('leaves no embedTimeoutMs timer behind when every caller was answered by its own deadline or abort', async () => {
    // Two equal requests batched at 0 whose embedding answers at 1 ms; their callers give up at 0 (timeoutMs 0,
    // an abort), and close() at 0 resolves at once since nobody waits any more. The bound of the pending embed
    // (here 3 ms) used to be left running after close() had resolved.
    const clock = new VirtualTimeScheduler();
    const tracked = trackTimers(clock);
    const batcher = createBatcher<{ q: string }, string>({
      windowMs: 0,
      maxSize: 2,
      dedupStrategy: 'embedding',
      embedTimeoutMs: 3,
      text: () => 'same',
      mergeGuard: false,
      scheduler: tracked.scheduler,
      embed: (texts) => new Promise((resolve) => clock.schedule(() => resolve(texts.map(() => [1, 0])), 1)),
      execute: (items) => items.map((item) => item.q),
    });
    const controller = new AbortController();
    const first = batcher.process({ q: 'x' }, { timeoutMs: 0 });
    void first.catch(() => undefined); // judged below, once the clock has run
    const second = batcher.process({ q: 'x' }, { signal: controller.signal });
    controller.abort(new Error('caller left'));
    await expect(second).rejects.toThrow('caller left');
    let pendingAtClose: number | undefined;
    void batcher.close().then(() => (pendingAtClose = tracked.pending()));
    await runMoments(clock, () => pendingAtClose !== undefined);
    await expect(first).rejects.toThrow(/timeoutMs/);
    expect(pendingAtClose).toBe(0);
  });
});

describe('unsubscribing while a batch waits for embed() (the same class, in the operators)', () => {
  const never = () => new Promise<number[][]>(() => undefined);

  it('batchDedup: no embedTimeoutMs timer is left once unsubscribed', () => {
    const clock = new VirtualTimeScheduler();
    const tracked = trackTimers(clock);
    const subscription = of('what is rxjs', 'what is rxjs?')
      .pipe(
        batchDedup<string, string>({
          windowMs: 0,
          dedupStrategy: 'embedding',
          embedTimeoutMs: 50,
          embed: never,
          scheduler: tracked.scheduler,
          execute: (items) => items,
        }),
      )
      .subscribe();
    clock.schedule(() => subscription.unsubscribe(), 1);
    clock.maxFrames = 1;
    clock.flush();
    expect(tracked.pending()).toBe(0);
  });

  it('dedupBy: no embedTimeoutMs timer is left once unsubscribed', () => {
    const clock = new VirtualTimeScheduler();
    const tracked = trackTimers(clock);
    const subscription = of(['what is rxjs', 'what is rxjs?'])
      .pipe(dedupBy<string>({ dedupStrategy: 'embedding', embedTimeoutMs: 50, embed: never, scheduler: tracked.scheduler }))
      .subscribe();
    expect(tracked.pending()).toBe(1); // the bound of the embedding that never answers
    subscription.unsubscribe();
    expect(tracked.pending()).toBe(0);
  });
});

describe('every caller of a batch leaves while it waits for embed() (found by reliability.batcher.test.ts)', () => {
  it('the batch is not sent, its slot is freed at once, and the next request is served', async () => {
    // Concurrency 1: the batch being deduplicated holds the only slot. Its callers' deadlines pass at 1 ms, the
    // embedding answers at 2 ms. Before the fix the batch was still sent to the backend at 2 ms.
    const clock = new VirtualTimeScheduler();
    const sent: string[][] = [];
    const batcher = createBatcher<string, string>({
      windowMs: 0,
      concurrency: 1,
      dedupStrategy: 'embedding',
      mergeGuard: false,
      dedupThreshold: 0.5,
      scheduler: clock,
      embed: (texts) => new Promise((resolve) => clock.schedule(() => resolve(texts.map(() => [1, 0])), 2)),
      execute: (items) => {
        sent.push([...items]);
        return items.map((item) => `answer to ${item}`);
      },
    });
    const gone = batcher.processAll(['what is rxjs', 'what is rxjs?'], { timeoutMs: 1 });
    let refused: unknown;
    void gone.catch((error: unknown) => (refused = error));
    await runMoments(clock, () => refused !== undefined);
    let answered: string | undefined;
    void batcher.process('a later question').then((a) => (answered = a));
    await runMoments(clock, () => answered !== undefined);
    expect(refused).toMatchObject({ name: 'BatchTimeoutError' });
    expect(sent).toEqual([['a later question']]);
    expect(answered).toBe('answer to a later question');
    await batcher.close();
  });
});

describe('a stream that ends while an embed call no batch waits for is pending (found by attack-operators.properties)', () => {
  // Batch [a, a] at 0 embeds 'alpha' (call A); batch [a, b] at 7 waits for A and embeds 'bravo' (call B). Neither
  // answers. At embedTimeoutMs A times out; the second batch falls back too, so the stream can end while B still
  // has its bound. dedupBy used to tell the ending first and end B's timer in the teardown that follows it.
  const texts = ['alpha question', 'alpha question', 'alpha question', 'bravo question'];
  for (const ending of ['complete', 'error'] as const) {
    it(`dedupBy: no embedTimeoutMs timer is left when it tells the ending (${ending})`, async () => {
      const clock = new VirtualTimeScheduler();
      const tracked = trackTimers(clock);
      const source = new Subject<{ text: string }>();
      const told: number[] = [];
      const embedCalls: string[][] = [];
      source
        .pipe(
          bufferWindow({ windowMs: 0, maxSize: 2, scheduler: tracked.scheduler }),
          dedupBy({
            dedupStrategy: 'embedding',
            key: () => [],
            embed: (batch) => {
              embedCalls.push([...batch]);
              return new Promise(() => undefined);
            },
            mergeGuard: false,
            embedTimeoutMs: 100,
            scheduler: tracked.scheduler,
          }),
        )
        .subscribe({ error: () => told.push(tracked.pending()), complete: () => told.push(tracked.pending()) });
      texts.forEach((text, i) => clock.schedule(() => source.next({ text }), i < 2 ? 0 : 7));
      clock.schedule(() => (ending === 'complete' ? source.complete() : source.error(new Error('source failed'))), 8);
      await runMoments(clock, () => told.length > 0);
      expect(embedCalls).toEqual([['alpha question'], ['bravo question']]);
      expect(told).toEqual([0]);
    });
  }
});
