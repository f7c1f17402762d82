import { Observable, type OperatorFunction } from 'rxjs';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import { WindowCollector, type WindowCollectorConfig } from './collector.js';
import { FifoQueue } from './fifoQueue.js';

export interface CollectConfig<T> extends Omit<WindowCollectorConfig<T>, 'arrivedAt' | 'emit' | 'onDrained'> {
  readonly stats?: BatchStatsRecorder | undefined;
  /** What `currentWindowMs` reports; default: the configured window. */
  readonly windowGauge?: () => number;
}

/**
 * The collecting operator shared by `bufferWindow` and `adaptiveBuffer`: a `WindowCollector` over a plain
 * `FifoQueue` per subscription, fed by the source (neither operator withdraws a value nor orders by priority). Completion and errors are forwarded once the buffer has been emitted.
 */
export function collect<T>(config: CollectConfig<T>): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let ending: { error: unknown } | 'complete' | undefined;
      const { stats } = config;
      const collector = new WindowCollector<T>(
        {
          ...config,
          emit: (batch) => subscriber.next(batch),
          onDrained: () => {
            if (ending === 'complete') subscriber.complete();
            else if (ending) subscriber.error(ending.error);
          },
        },
        new FifoQueue<T>(),
      );
      const settings = config.settings;
      const detachStats = stats?.attach({
        queueDepth: () => collector.size,
        windowMs: config.windowGauge ?? (() => settings().windowMs),
      });
      const subscription = source.subscribe({
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
      });
      return () => {
        subscription.unsubscribe();
        collector.dispose();
        detachStats?.();
      };
    });
}
