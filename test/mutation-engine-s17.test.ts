/**
 * Survivors of the stop-16 and stop-17 Stryker runs in the engine (src/internal/engine.ts, issue 17), through the
 * public batchDedup. Each `it` names the mutant it kills (file:line as of dff90e1, mutator).
 */
import { Subject, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, BatchTimeoutError, createBatcher, createBatchStats, type BatchResult } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

const up = (items: string[]) => items.map((q) => q.toUpperCase());

describe('batchDedup unsubscribed from inside key(request) of a request the result cache holds', () => {
  // Kills engine.ts:226 `if (this.ended) return undefined` made false (ConditionalExpression): after the
  // unsubscription the engine went on with that request, found it in the result cache and counted a cache hit
  // for an answer nobody received (docs/reliability.md: nothing runs after unsubscription; the stats count what
  // was answered).
  it('counts no cache hit for it, and answers nothing more', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    let leaveOn: string | undefined;
    let subscription: Subscription | undefined;
    subscription = source
      .pipe(
        batchDedup<string, string>({
          scheduler: clock.scheduler,
          windowMs: 5,
          execute: up,
          stats,
          resultCache: { ttlMs: 1000 },
          key: (request) => {
            if (request === leaveOn) subscription?.unsubscribe();
            return request;
          },
        }),
      )
      .subscribe((r) => results.push(r));
    source.next('a');
    clock.runAll();
    expect(results.map((r) => r.value)).toEqual(['A']);
    leaveOn = 'a';
    source.next('a');
    expect(subscription.closed).toBe(true);
    clock.runAll();
    expect(results).toHaveLength(1);
    expect(stats.snapshot().cacheHits).toBe(0);
  });
});

describe('batchDedup unsubscribed with nothing pending', () => {
  // Kills engine.ts:313 dispose()'s `if (stopped.length > 0) this.config.stats.changed()` made true
  // (ConditionalExpression) and `> 0` made `>= 0` (EqualityOperator): unsubscribing with every request answered
  // sent stats$ subscribers a snapshot in which nothing changed (stats$: one snapshot now, then one per change).
  it('sends no stats snapshot', () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    const subscription = source
      .pipe(batchDedup<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up, stats }))
      .subscribe((r) => results.push(r));
    source.next('a');
    clock.runAll();
    expect(results.map((r) => r.value)).toEqual(['A']);
    let snapshots = 0;
    stats.stats$.subscribe(() => snapshots++);
    expect(snapshots).toBe(1); // the one every subscriber gets at once
    subscription.unsubscribe();
    clock.runAll();
    expect(snapshots).toBe(1);
  });
});

describe('an execution whose only caller timed out, while the batcher is open', () => {
  // Kills engine.ts:569 execute()'s `if (this.closed) this.stopUnowed()` made true (ConditionalExpression): the
  // next batch executed stopped every execution no caller waited for any more, before close(); an equal request
  // arriving then joined the stopped execution and was never answered (docs/reliability.md: no request is ever
  // lost; docs/batcher.md: only close() stops the executions nobody waits for).
  it('keeps running: an equal request arriving later joins it and is answered, and the backend gets that item once', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 20, compute: (s: string) => s.toUpperCase() });
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 1, concurrency: 4, execute: backend.execute });
    const gaveUp = batcher.process('a', { timeoutMs: 5 }).catch((error: unknown) => error);
    for (let t = 0; t < 6; t++) {
      clock.advanceBy(1);
      await turn();
    }
    expect(await gaveUp).toBeInstanceOf(BatchTimeoutError);
    const other = batcher.process('b'); // its batch executes while 'a' is still in flight
    clock.advanceBy(2);
    await turn();
    const answered: string[] = [];
    void other.then((value) => answered.push(value));
    void batcher.process('a').then((value) => answered.push(value));
    for (let t = 0; t < 40; t++) {
      clock.advanceBy(1);
      await turn();
    }
    expect(answered.sort()).toEqual(['A', 'B']);
    expect(backend.calls.flatMap((call) => [...call.items])).toEqual(['a', 'b']);
    batcher.close();
  });
});
