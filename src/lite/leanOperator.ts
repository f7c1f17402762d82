/**
 * `batchDedup` over the lean core (spike, issue 18, stop 17; not exported from any entry point): the same
 * `BatchResult` per request, from the options the lean core takes (src/lite/core.ts).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { arrivalClock } from '../internal/arrivalClock.js';
import { toBatchResult } from '../internal/batchRun.js';
import { subscribeSource } from '../internal/subscribeSource.js';
import type { BatchResult } from '../types.js';
import { leanCore, leanSettings, type LeanEntry, type LeanOptions } from './core.js';

/**
 * Batches, deduplicates (exactly, by key and scope) and executes requests, and emits exactly one `BatchResult` per
 * request. Options are checked here, at creation; each subscription runs a core of its own.
 */
export function leanBatchDedup<T, R>(options: LeanOptions<T, R>): OperatorFunction<T, BatchResult<T, R>> {
  const settings = leanSettings('batchDedup', options);
  return (source) =>
    new Observable<BatchResult<T, R>>((subscriber) => {
      let failure: { error: unknown } | undefined;
      // One reading per synchronous burst on the real clock, as main's operator (src/internal/arrivalClock.ts).
      const clock = arrivalClock(settings.scheduler);
      const core = leanCore<T, R, LeanEntry<T>>(settings, {
        answer: (entry, ok, valueOrError, batchId, deduplicated, latencyMs) =>
          subscriber.next(toBatchResult(entry.request, ok, valueOrError, batchId, deduplicated, latencyMs)),
        drained: () => (failure ? subscriber.error(failure.error) : subscriber.complete()),
      });
      subscribeSource(
        subscriber,
        source,
        {
          next: (request) => core.push({ request, at: clock() }),
          error: (error) => {
            failure = { error };
            core.close();
          },
          complete: () => core.close(),
        },
        () => core.dispose(),
      );
    });
}
