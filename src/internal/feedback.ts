/**
 * The channel between a collecting operator (`bufferWindow`, `adaptiveBuffer`) and `fanOut`: how many batches
 * are on their way or executing, and how long they took. With it the collector forms a batch only when an
 * execution slot is free, so under load batches grow instead of queueing many small ones, and `adaptiveBuffer`
 * learns the backend's latency. `batchDedup` wires one up per subscription.
 */

/** What `fanOut` reports when a batch has settled. */
export interface BatchReport {
  /** Requests in the batch (before dedup). */
  readonly size: number;
  /** Items sent to the backend. */
  readonly executedItems: number;
  /** Time from the start of `execute` to the last result. */
  readonly durationMs: number;
  /** Enqueue-to-result latency of every request in the batch. */
  readonly latenciesMs: readonly number[];
  /** When the batch settled (scheduler time). */
  readonly settledAt: number;
}

export interface BatchFeedback {
  /** Batches allowed in flight at once. */
  concurrency: number;
  /** Batches handed downstream by the collector and not yet settled. */
  readonly outstanding: number;
  /** True while a new batch may be formed. */
  hasCapacity(): boolean;
  /** Called by the collector when it hands a batch downstream. */
  reserve(): void;
  /** Called by `fanOut` when a batch has settled. */
  release(report: BatchReport): void;
  /** Listen for settled batches; returns the function that stops listening. */
  onRelease(listener: (report: BatchReport) => void): () => void;
}

/**
 * Creates a feedback channel for composing the operators by hand; give the same channel to the collector and to
 * `fanOut` of one pipeline, and create one per subscription (it counts that pipeline's batches).
 *
 * @param concurrency batches allowed in flight at once
 * @return a new channel
 */
export function createBatchFeedback(concurrency: number): BatchFeedback {
  const listeners = new Set<(report: BatchReport) => void>();
  let outstanding = 0;
  return {
    concurrency,
    get outstanding() {
      return outstanding;
    },
    hasCapacity() {
      return outstanding < this.concurrency;
    },
    reserve() {
      outstanding++;
    },
    release(report) {
      // A fanOut wired without its collector releases what it never reserved; never count below zero.
      if (outstanding > 0) outstanding--;
      for (const listener of [...listeners]) listener(report);
    },
    onRelease(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
