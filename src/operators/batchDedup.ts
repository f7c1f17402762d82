import { filter, identity, map, Observable, type OperatorFunction } from 'rxjs';
import { BatchTimeoutError, QueueFullError } from '../errors.js';
import type { Outcome } from '../internal/batchRun.js';
import { InFlightTable } from '../internal/inFlight.js';
import { collect } from '../internal/collect.js';
import type { Envelope } from '../internal/envelope.js';
import { AdaptiveWindow } from '../internal/adaptiveWindow.js';
import { createBatchFeedback } from '../internal/feedback.js';
import { PipelineConfig, type BatchDedupOptions } from '../internal/pipelineConfig.js';
import type { FanOutConfig } from './fanOut.js';
import { fanOutWith } from './fanOut.js';
import { dedupWith } from './dedupBy.js';
import type { BatchResult } from '../types.js';

export type { BatchDedupOptions };

/**
 * Batches, deduplicates and executes requests, and answers each one: collect, dedup, execute, fan out.
 *
 * <span class="informal">`requests$.pipe(batchDedup({ execute }))`: N requests in, fewer backend items out,
 * exactly one `BatchResult` back per request.</span>
 *
 * ```
 * windowMs: 10; execute takes 5 frames
 * source: a--b--a---------|
 * result: ---------------(xyz)|     x, z = results of a (z deduplicated), y = result of b
 * ```
 *
 * The composite of `bufferWindow` (or `adaptiveBuffer`), `dedupBy` and `fanOut`, wired to one another:
 * a batch is formed only when one of `concurrency` execution slots is free, so under load batches grow instead of
 * queueing; with `enablePriorities` the most urgent waiting requests go first. Every request that enters produces
 * exactly one `BatchResult`: fulfilled, or rejected with the execution's error, `BatchTimeoutError`,
 * `BatchResultMismatchError` or `QueueFullError`. A source error is forwarded only after every request already
 * received has its result. Unsubscribing cancels every timer and aborts executions in flight.
 *
 * Requests of different `scope`s are never merged.
 *
 * ## Example
 * ```ts
 * requests$.pipe(
 *   batchDedup({ execute: (batch) => llm.completeMany(batch), windowMs: 50, maxSize: 32 }),
 * ).subscribe(({ request, value, error }) => reply(request, value ?? error));
 * ```
 *
 * @param options see `BatchDedupOptions`; `execute` is required.
 * @return A function that returns an Observable of `BatchResult`s, exactly one per source request.
 */
export function batchDedup<T, R>(options: BatchDedupOptions<T, R>): OperatorFunction<T, BatchResult<T, R>> {
  const config = new PipelineConfig<T, R>('batchDedup', options);
  return (source) =>
    source.pipe(
      map((request) => config.envelope(request)),
      batchPipeline(config),
      map((result) => ({ ...result, request: result.request.request })),
    );
}

/** @internal The pipeline over envelopes, shared by `batchDedup` and `createBatcher`. */
export function batchPipeline<T, R, E extends Envelope<T> = Envelope<T>>(
  config: PipelineConfig<T, R>,
): OperatorFunction<E, BatchResult<E, R>> {
  return (source) =>
    new Observable<BatchResult<E, R>>((subscriber) => {
      const { scheduler, stats } = config;
      const feedback = createBatchFeedback(config.fanOut.concurrency);

      const controller = config.adaptive
        ? new AdaptiveWindow(scheduler, () => config.adaptiveSettings, config.window.windowMs)
        : undefined;
      // Registered before the collector's own listener, so the window is updated before the next batch forms.
      const stopAdapting = controller && feedback.onRelease((report) => controller.observe(report));

      // The priority each request entered with, for per-priority latency stats.
      const priorities = config.prioritized ? new WeakMap<E, number>() : undefined;
      const priorityOf = priorities && ((envelope: E) => priorities.get(envelope));

      const answer = (envelope: E, outcome: Outcome<R>, batchId: number, deduplicated: boolean) => {
        const latencyMs = scheduler.now() - envelope.arrivedAt;
        stats.recordResult(latencyMs, outcome.ok ? undefined : outcome.error, !outcome.ok, priorityOf?.(envelope));
        subscriber.next(
          outcome.ok
            ? { request: envelope, status: 'fulfilled', value: outcome.value, batchId, deduplicated, latencyMs }
            : { request: envelope, status: 'rejected', error: outcome.error, batchId, deduplicated, latencyMs },
        );
      };

      const refuse = (envelope: E, error: unknown) => {
        if (error instanceof BatchTimeoutError) stats.recordExpired();
        answer(envelope, { ok: false, error }, 0, false);
        stats.changed();
      };

      const shortcut = createShortcut(config, (envelope: E, outcome, batchId) => answer(envelope, outcome, batchId, true));
      const currentFanOut = (): FanOutConfig<E, R> => ({
        ...(config.fanOut as FanOutConfig<E, R>),
        feedback,
        priorityOf,
        onItemsStarted: shortcut?.onItemsStarted,
        onItemSettled: shortcut?.onItemSettled,
      });
      let fanOutConfig = currentFanOut();
      const stopWatching = config.onChange(() => {
        feedback.concurrency = config.fanOut.concurrency;
        fanOutConfig = currentFanOut();
      });

      const subscription = source
        .pipe(
          shortcut ? filter((envelope) => !shortcut.answered(envelope)) : identity,
          collect<E>({
            scheduler,
            arrivedAt: (envelope) => envelope.arrivedAt,
            settings: () => config.window,
            ...(controller && {
              windowMs: () => controller.windowFor(),
              onArrival: (now: number) => controller.observeArrival(now),
              windowGauge: () => controller.current,
            }),
            prioritized: config.prioritized,
            agingPerMs: config.agingPerMs,
            feedback,
            stats,
            admit: (envelope, waiting) => {
              if (envelope.signal?.aborted) return { refuse: envelope.signal.reason };
              if (waiting >= config.maxQueueSize) return { refuse: new QueueFullError(config.maxQueueSize) };
              let priority: number;
              try {
                priority = config.priorityOf(envelope);
              } catch (error) {
                return { refuse: error };
              }
              priorities?.set(envelope, priority);
              const timeoutMs = envelope.timeoutMs ?? config.requestTimeoutMs;
              if (timeoutMs === undefined && !envelope.signal) return priority === 0 ? undefined : { priority };
              return {
                priority,
                timeoutMs,
                deadline: timeoutMs === undefined ? undefined : envelope.arrivedAt + timeoutMs,
                signal: envelope.signal,
              };
            },
            onDrop: refuse,
            onSettingsChange: (refresh) => config.onChange(refresh),
          }),
          dedupWith<E>(() => config.deduper as never, stats),
          fanOutWith<E, R>(() => fanOutConfig),
        )
        .subscribe(subscriber);

      return () => {
        subscription.unsubscribe();
        stopWatching();
        stopAdapting?.();
      };
    });
}

/**
 * In-flight dedup and the result cache: answers a request from the cache, or attaches it to an equal request
 * already executing, before it is queued. Undefined when neither is enabled.
 */
function createShortcut<T, R, E extends Envelope<T>>(
  config: PipelineConfig<T, R>,
  answer: (envelope: E, outcome: Outcome<R>, batchId: number) => void,
) {
  if (!config.dedupInFlight && !config.resultCache) return undefined;
  const table = new InFlightTable<R>(config.dedupInFlight, config.resultCache);
  const { scheduler, stats } = config;
  const slots = new WeakMap<E, string>();
  const slotOf = (envelope: E): string | undefined => {
    const { key, scope } = config.grouping;
    try {
      return InFlightTable.slot(scope?.(envelope), key(envelope));
    } catch {
      return undefined; // dedup answers it with the key's error
    }
  };
  return {
    /** True when the request was answered from the cache or joined an execution in flight. */
    answered(envelope: E): boolean {
      if (envelope.signal?.aborted) return false;
      const slot = slotOf(envelope);
      if (slot === undefined) return false;
      const hit = table.cached(slot, scheduler.now());
      if (hit) {
        stats.recordRequests(1);
        stats.recordCacheHit();
        answer(envelope, { ok: true, value: hit.value }, 0);
        return true;
      }
      if (table.join(slot, (outcome, batchId) => answer(envelope, outcome, batchId))) {
        stats.recordRequests(1);
        stats.recordInFlightHit();
        return true;
      }
      return false;
    },
    onItemsStarted(items: readonly E[]): void {
      for (const item of items) {
        const slot = slotOf(item);
        if (slot === undefined) continue;
        slots.set(item, slot);
        table.started(slot);
      }
    },
    onItemSettled(item: E, outcome: Outcome<R>, batchId: number): void {
      const slot = slots.get(item);
      if (slot !== undefined) table.settled(slot, outcome, batchId, scheduler.now());
    },
  };
}
