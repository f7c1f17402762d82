import { Observable, type OperatorFunction } from 'rxjs';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { BatchFeedback } from './feedback.js';
import { WindowCollector, type WindowCollectorConfig } from './collector.js';
import { FifoQueue } from './fifoQueue.js';
import { subscribeSource } from './subscribeSource.js';

export interface CollectConfig<T>
  extends Omit<WindowCollectorConfig<T>, 'arrivedAt' | 'feedback' | 'emit' | 'onDrained'> {
  /** The channel shared with `fanOut`, if any. */
  readonly feedback?: BatchFeedback | undefined;
  readonly stats?: BatchStatsRecorder | undefined;
  /** What `currentWindowMs` reports; default: the configured window. */
  readonly windowGauge?: () => number;
}

/**
 * The collecting operator shared by `bufferWindow` and `adaptiveBuffer`: a `WindowCollector` over a plain
 * `FifoQueue` per subscription, fed by the source (neither operator withdraws a value nor orders by priority).
 * Completion and errors are forwarded once the buffer has been emitted.
 */
export function collect<T>(config: CollectConfig<T>): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let ending: { error: unknown } | 'complete' | undefined;
      const { stats, feedback } = config;
      const collector = new WindowCollector<T>(
        {
          ...config,
          feedback: feedback && {
            hasCapacity: () => feedback.hasCapacity(),
            onRelease: (listener) => feedback.onRelease(listener),
            // Composed by hand, `fanOut` takes the slot when the batch reaches it (see feedback.ts).
            reserve: () => undefined,
          },
          emit: (batch) => subscriber.next(batch),
          // Drained only after close(), which the source's end calls once it has set `ending`.
          onDrained: () => (ending === 'complete' ? subscriber.complete() : subscriber.error(ending!.error)),
        },
        new FifoQueue<T>(),
      );
      const settings = config.settings;
      const detachStats = stats?.attach({
        queueDepth: () => collector.size,
        windowMs: config.windowGauge ?? (() => settings().windowMs),
      });
      // subscribeSource: a subscriber that leaves while a synchronous source is still sending stops the source.
      subscribeSource(
        subscriber,
        source,
        {
          next: (value) => {
            stats?.recordRequests(1);
            collector.push(value);
          },
          error: (error: unknown) => {
            ending = { error };
            collector.close();
          },
          complete: () => {
            ending = 'complete';
            collector.close();
          },
        },
        () => {
          collector.dispose();
          detachStats?.();
        },
      );
    });
}
