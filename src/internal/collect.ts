import { Observable, type OperatorFunction } from 'rxjs';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import { BatchCollector, type CollectorConfig, type PushOptions } from './collector.js';

export interface CollectConfig<T> extends Omit<CollectorConfig<T>, 'emit' | 'onDrained'> {
  readonly stats?: BatchStatsRecorder | undefined;
  /** How a value is queued, or `{ refuse }` to answer it at once without queueing (it goes to `onDrop`). */
  readonly admit?: (value: T, waiting: number) => PushOptions | { refuse: unknown } | undefined;
  /** Lets the owner re-evaluate the collector after live reconfiguration; returns the detach function. */
  readonly onSettingsChange?: (refresh: () => void) => () => void;
  /** What `currentWindowMs` reports; default: the configured window. */
  readonly windowGauge?: () => number;
}

/**
 * The collecting operator shared by `bufferWindow`, `adaptiveBuffer` and `batchDedup`: a `BatchCollector`
 * per subscription, fed by the source. Completion and errors are forwarded once the buffer has been emitted.
 */
export function collect<T>(config: CollectConfig<T>): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let ending: { error: unknown } | 'complete' | undefined;
      const { stats, admit, onDrop } = config;
      const collector = new BatchCollector<T>({
        ...config,
        emit: (batch) => subscriber.next(batch),
        onDrained: () => {
          if (ending === 'complete') subscriber.complete();
          else if (ending) subscriber.error(ending.error);
        },
      });
      const settings = config.settings;
      const detachStats = stats?.attach({
        queueDepth: () => collector.size,
        windowMs: config.windowGauge ?? (() => settings().windowMs),
      });
      const detachSettings = config.onSettingsChange?.(() => collector.refresh());
      const subscription = source.subscribe({
        next: (value) => {
          stats?.recordRequests(1);
          const how = admit?.(value, collector.size);
          if (how && 'refuse' in how) onDrop?.(value, how.refuse);
          else collector.push(value, how);
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
        detachSettings?.();
      };
    });
}
