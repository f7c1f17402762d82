/**
 * The channel between a collecting operator (`bufferWindow`, `adaptiveBuffer`) and `fanOut`: how many batches
 * are executing or waiting to, and how long they took. With it the collector forms a batch only when an
 * execution slot is free, so under load batches grow instead of queueing many small ones, and `adaptiveBuffer`
 * learns the backend's latency. `batchDedup` wires one up per subscription.
 *
 * Who takes a slot: composed by hand, `fanOut` takes it when a batch reaches it, and gives it back when the
 * batch has settled. The collector only reads whether a slot is free. So whatever sits between them may drop a
 * batch (a `filter`), hold it (a `delay`, an asynchronous embedder) or fail, and no slot is lost: a batch that
 * never reaches `fanOut` never held one. (The alternative, a slot taken by the collector when it emits, must be
 * given back by someone; nothing downstream can tell a dropped batch from a late one, so it leaked.) While a
 * batch is on its way it holds no slot, so the collector may form the next one meanwhile; it then waits in
 * `fanOut`, whose concurrency is the channel's. Inside `batchDedup` nothing drops a batch between the stages, so
 * there the collector takes the slot when it emits (see `BatchCollector`), which also covers the dedup step.
 */
import * as check from '../base/validate.js';

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
  /**
   * Batches allowed in flight at once: an integer >= 1, or `Infinity`. `fanOut` runs this many at most. A change
   * wakes nobody: a batch that is due and waits for a slot goes at the next release or arrival, which is when the
   * collector looks again.
   */
  concurrency: number;
  /** Batches holding a slot: reached `fanOut` (composed by hand) and not yet settled. */
  readonly outstanding: number;
  /** True while a new batch may be formed. */
  hasCapacity(): boolean;
  /** Takes a slot for a batch; composed by hand, `fanOut` calls it when a batch reaches it. */
  reserve(): void;
  /** Called by `fanOut` when a batch has settled: gives its slot back. */
  release(report: BatchReport): void;
  /** Listen for settled batches; returns the function that stops listening. */
  onRelease(listener: (report: BatchReport) => void): () => void;
}

/**
 * Creates a feedback channel for composing the operators by hand; give the same channel to the collector and to
 * `fanOut` of one pipeline, and create one per subscription (it counts that pipeline's batches). `fanOut` takes
 * its concurrency from the channel; giving it another `concurrency` is refused.
 *
 * @param concurrency batches allowed in flight at once: an integer >= 1, or `Infinity`
 * @return a new channel
 */
export function createBatchFeedback(concurrency: number): BatchFeedback {
  const where = 'createBatchFeedback';
  let limit = check.count(where, 'concurrency', concurrency, 1, true);
  const listeners = new Set<(report: BatchReport) => void>();
  let outstanding = 0;
  return {
    get concurrency() {
      return limit;
    },
    set concurrency(value: number) {
      limit = check.count(where, 'concurrency', value, 1, true);
    },
    get outstanding() {
      return outstanding;
    },
    hasCapacity() {
      return outstanding < limit;
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

/**
 * The collector's side of a channel composed by hand: it reads whether a slot is free and hears settled batches,
 * but takes no slot when it emits (`fanOut` takes it when the batch arrives; see the top of this file).
 */
export function collectorSide(feedback: BatchFeedback): BatchFeedback {
  return {
    get concurrency() {
      return feedback.concurrency;
    },
    set concurrency(value: number) {
      feedback.concurrency = value;
    },
    get outstanding() {
      return feedback.outstanding;
    },
    hasCapacity: () => feedback.hasCapacity(),
    reserve: () => undefined,
    release: (report) => feedback.release(report),
    onRelease: (listener) => feedback.onRelease(listener),
  };
}

/** Checks a `feedback` option: a channel from `createBatchFeedback` (or one that behaves like it). */
export function checkFeedback(where: string, value: unknown): BatchFeedback | undefined {
  if (value === undefined) return undefined;
  const f = value as Partial<Record<keyof BatchFeedback, unknown>> | null;
  const isChannel =
    typeof f === 'object' &&
    f !== null &&
    typeof f.concurrency === 'number' &&
    typeof f.hasCapacity === 'function' &&
    typeof f.reserve === 'function' &&
    typeof f.release === 'function' &&
    typeof f.onRelease === 'function';
  if (!isChannel) check.fail(where, 'feedback must be a channel made by createBatchFeedback()', TypeError);
  return value as BatchFeedback;
}
