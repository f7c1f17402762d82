import type { SchedulerLike } from 'rxjs';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { DedupedBatch, ExecuteFn } from '../types.js';
import { BatchRun, type AnswerFn, type BatchRunConfig, type TimeoutPolicy } from './batchRun.js';
import type { BatchFeedback } from './feedback.js';

/** The validated form of `FanOutOptions`. */
export interface FanOutConfig<T, R> {
  readonly execute: ExecuteFn<T, R>;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly onTimeout: TimeoutPolicy;
  readonly scheduler: SchedulerLike;
  readonly feedback: BatchFeedback | undefined;
  readonly stats: BatchStatsRecorder | undefined;
  readonly enqueuedAt: ((request: T) => number) | undefined;
  /**
   * @internal `execute` makes an array of its own from the one it is given (batchDedup maps envelopes to
   * requests), so a batch's array can be passed without a copy.
   */
  readonly executeCopiesItems?: boolean;
  /** @internal Collect per-request latencies into the feedback reports (the adaptive window reads them). */
  readonly reportLatencies?: boolean;
  /**
   * @internal Take the feedback channel's slot when a batch arrives (`fanOut` composed by hand). Inside the
   * engine the collector takes it when it emits instead; see feedback.ts.
   */
  readonly reservesSlots?: boolean;
}

/**
 * The execute-and-answer stage behind `fanOut` and `batchDedup`: batches wait in arrival order for one of
 * `concurrency` slots, each runs as a `BatchRun`, and every request's answer goes to `answer`.
 * The configuration is read at every batch, so `configure()` takes effect with the next one.
 */
export class BatchExecutor<T, R> {
  private readonly waiting: { batch: DedupedBatch<T>; receivedAt: number }[] = [];
  private readonly running = new Set<BatchRun<T, R>>();
  private nextBatchId = 1;
  private shared: { source: FanOutConfig<T, R>; runConfig: BatchRunConfig<T, R> } | undefined;
  private readonly detachStats: (() => void) | undefined;

  constructor(
    private readonly current: () => FanOutConfig<T, R>,
    private readonly answer: AnswerFn<T>,
    /** Called whenever a batch settles and nothing more is running or waiting. */
    private readonly onIdle: () => void,
    /** See `BatchRunConfig.stopping`. */
    private readonly stopping?: (request: T) => void,
  ) {
    this.detachStats = current().stats?.attach({ inFlight: () => this.running.size });
  }

  get idle(): boolean {
    // Stryker disable next-line ConditionalExpression: `waiting.length === 0` made true changes nothing read: pump() starts waiting batches while fewer than the limit (at least 1) run, so where nothing runs nothing waits (in the engine the collector emits only into a free slot, so nothing waits at all).
    return this.running.size === 0 && this.waiting.length === 0;
  }

  submit(batch: DedupedBatch<T>): void {
    const config = this.current();
    // Stryker disable next-line OptionalChaining: reservesSlots is set (by fanOut) only with a feedback channel.
    if (config.reservesSlots) config.feedback?.reserve();
    // The time a batch came in stands for its requests' arrival only when they carry no time of their own.
    this.waiting.push({ batch, receivedAt: config.enqueuedAt ? 0 : config.scheduler.now() });
    this.pump();
  }

  /**
   * Aborts every call in flight and forgets every batch; no answer follows.
   * @return the requests of every batch it held, answered or not (a caller that must answer them checks)
   */
  dispose(): T[] {
    const held: T[] = [];
    for (const run of this.running) {
      run.cancel();
      for (const item of run.items) held.push(item);
    }
    for (const { batch } of this.waiting) for (const item of batch.items) held.push(item);
    this.running.clear();
    this.waiting.length = 0;
    this.detachStats?.();
    return held;
  }

  /**
   * Stops what nobody waits for any more: each running batch for which `owed(requests)` is false is aborted
   * (its `signal`) and its outcome dropped, each such batch waiting for a slot is dropped, and their slots are
   * freed at once. (The promise bridge's `close()`, once their callers have all been answered.)
   */
  stopUnowed(owed: (items: readonly T[]) => boolean): void {
    let freed = 0;
    for (const run of this.running) {
      if (owed(run.items)) continue;
      run.cancel();
      this.running.delete(run);
      freed++;
    }
    const kept = this.waiting.filter(({ batch }) => owed(batch.items));
    freed += this.waiting.length - kept.length;
    if (freed === 0) return;
    this.waiting.splice(0, this.waiting.length, ...kept);
    this.freeSlots(freed);
  }

  /** A batch the collector took a slot for will not be submitted (no caller is left to answer): frees the slot. */
  forgo(): void {
    this.freeSlots(1);
  }

  private freeSlots(count: number): void {
    const { feedback, stats, scheduler } = this.current();
    const settledAt = scheduler.now();
    // Nothing was measured: an empty report frees the slot and adds nothing to the adaptive window's samples.
    // Stryker disable next-line OptionalChaining: freeSlots runs for the engine only (stopUnowed, forgo), whose fanOut configuration always has a feedback channel.
    for (let k = 0; k < count; k++) feedback?.release({ size: 0, executedItems: 0, durationMs: 0, latenciesMs: [], settledAt });
    // Stryker disable next-line OptionalChaining: freeSlots runs for the engine only, whose fanOut configuration always has its stats recorder.
    stats?.changed(settledAt);
    this.pump();
  }

  /** The configuration of one batch's run; shared by every batch while the configuration stays the same. */
  private runConfig(config: FanOutConfig<T, R>, receivedAt: number): BatchRunConfig<T, R> {
    // Stryker disable next-line ConditionalExpression: made false, every batch gets a run configuration of its own, with the same values (made true it is killed: `shared` is undefined at first).
    if (this.shared?.source === config) return this.shared.runConfig;
    const { stats, feedback } = config;
    const runConfig: BatchRunConfig<T, R> = {
      execute: config.execute,
      scheduler: config.scheduler,
      timeoutMs: config.timeoutMs,
      onTimeout: config.onTimeout,
      enqueuedAt: config.enqueuedAt ?? (() => receivedAt),
      answer: this.answer,
      ...(this.stopping && { stopping: this.stopping }),
      // Stryker disable next-line BooleanLiteral: both stages that make an executor (fanOut, the engine) set reportLatencies, so the default is never read.
      reportLatencies: config.reportLatencies ?? false,
      // Stryker disable next-line LogicalOperator: `&&` turns the engine's `true` into false, and batchRun then passes execute a copy of the items, which the engine's execute copies again: the same items, one more array.
      executeCopiesItems: config.executeCopiesItems ?? false,
      onSettled: (settledRun, report) => {
        this.running.delete(settledRun);
        stats?.changed(report.settledAt);
        feedback?.release(report);
        this.pump();
      },
    };
    // Without `enqueuedAt` the run config holds this batch's own arrival time, so it cannot be shared.
    // Stryker disable next-line ObjectLiteral: `{}` holds no source, so it is never reused: every batch gets a run configuration of its own, with the same values.
    this.shared = config.enqueuedAt ? { source: config, runConfig } : undefined;
    return runConfig;
  }

  private pump(): void {
    const config = this.current();
    const { feedback } = config;
    const limit = feedback?.concurrency ?? config.concurrency;
    while (this.running.size < limit && this.waiting.length > 0) {
      const { batch, receivedAt } = this.waiting.shift()!;
      const run: BatchRun<T, R> = new BatchRun(this.nextBatchId++, batch, this.runConfig(config, receivedAt));
      this.running.add(run);
      if (run.executedItems > 0) config.stats?.recordBatch(batch.items.length, run.executedItems);
      run.start();
    }
    // Stryker disable next-line ConditionalExpression: made true, onIdle is also called when something runs or waits, and both of its callers (fanOut's finishIfIdle, the engine's checkEnd) check `idle` again first.
    if (this.idle) this.onIdle();
  }
}
