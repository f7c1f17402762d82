import { from, type SchedulerLike, type Subscription } from 'rxjs';
import { BatchResultMismatchError, BatchTimeoutError } from '../errors.js';
import type { BatchResult, DedupedBatch, ExecuteFn, StreamedResult } from '../types.js';
import type { BatchReport } from './feedback.js';

export type TimeoutPolicy = 'reject' | 'individual';

export interface BatchRunConfig<T, R> {
  readonly execute: ExecuteFn<T, R>;
  readonly scheduler: SchedulerLike;
  readonly timeoutMs: number;
  readonly onTimeout: TimeoutPolicy;
  /** When the request entered the pipeline; latency is measured from here. */
  readonly enqueuedAt: (request: T) => number;
  readonly emit: (result: BatchResult<T, R>) => void;
  readonly onSettled: (run: BatchRun<T, R>, report: BatchReport) => void;
  /** Told when the batch's unique items start executing, and when each one has its outcome (in-flight dedup). */
  readonly onItemsStarted?: (items: readonly T[]) => void;
  readonly onItemSettled?: (item: T, outcome: Outcome<R>, batchId: number) => void;
}

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** One call of `execute`: the whole batch, or one item retried alone after a timeout. */
interface Execution {
  /** Indices into the batch's unique items, in the order `execute` received them. */
  readonly indices: readonly number[];
  readonly individual: boolean;
  readonly controller: AbortController;
  subscription?: Subscription;
  timer?: Subscription;
  /** Set once the first emission showed an array result rather than a stream of `{ index, value }`. */
  done: boolean;
}

function isStreamed(x: unknown): x is StreamedResult<unknown> {
  return typeof x === 'object' && x !== null && 'index' in x && ('value' in x || 'error' in x);
}

/**
 * The life of one batch in `fanOut`: call `execute`, map results (whole or streamed) back to every request,
 * enforce the timeout (reject or retry one by one), and report when every request has its result.
 */
export class BatchRun<T, R> {
  /** Items answered by each unique item, as linked lists: first item, then next item of the same leader. */
  private readonly firstMember: Int32Array;
  private readonly nextMember: Int32Array;
  private readonly settled: Uint8Array;
  private open: number;
  private readonly executions = new Set<Execution>();
  private readonly latencies: number[] = [];
  private startedAt = 0;
  private finished = false;

  constructor(
    readonly batchId: number,
    private readonly batch: DedupedBatch<T>,
    private readonly config: BatchRunConfig<T, R>,
  ) {
    const { unique, leaderOf } = batch;
    this.firstMember = new Int32Array(unique.length).fill(-1);
    this.nextMember = new Int32Array(leaderOf.length).fill(-1);
    // Walk backwards so each list comes out in arrival order.
    for (let i = leaderOf.length - 1; i >= 0; i--) {
      const leader = leaderOf[i]!;
      if (leader < 0) continue;
      this.nextMember[i] = this.firstMember[leader]!;
      this.firstMember[leader] = i;
    }
    this.settled = new Uint8Array(unique.length);
    this.open = unique.length;
  }

  get executedItems(): number {
    return this.batch.unique.length;
  }

  start(): void {
    this.startedAt = this.config.scheduler.now();
    if (this.batch.failures) {
      for (const [i, error] of this.batch.failures) this.emit(i, { ok: false, error }, false, this.startedAt);
    }
    if (this.open === 0) {
      this.finish();
      return;
    }
    this.config.onItemsStarted?.(this.batch.unique);
    this.launch(
      this.batch.unique.map((_, u) => u),
      false,
    );
  }

  /** Unsubscription: abort every call still running; no more results are emitted. */
  cancel(): void {
    this.finished = true;
    for (const execution of this.executions) this.stop(execution, undefined);
    this.executions.clear();
  }

  private launch(indices: readonly number[], individual: boolean): void {
    const { execute, scheduler, timeoutMs } = this.config;
    const execution: Execution = { indices, individual, controller: new AbortController(), done: false };
    this.executions.add(execution);
    execution.timer = scheduler.schedule(() => this.timeout(execution), timeoutMs);
    let output: ReturnType<ExecuteFn<T, R>>;
    try {
      output = execute(
        indices.map((u) => this.batch.unique[u]!),
        { batchId: this.batchId, signal: execution.controller.signal, individual },
      );
    } catch (error) {
      this.failExecution(execution, error);
      return;
    }
    if (Array.isArray(output)) {
      this.deliverArray(execution, output);
      return;
    }
    if (output === null || (typeof output !== 'object' && typeof output !== 'function')) {
      this.failExecution(execution, this.mismatch(execution, output));
      return;
    }
    try {
      execution.subscription = from(output).subscribe({
        next: (emitted) => this.receive(execution, emitted),
        error: (error: unknown) => this.failExecution(execution, error),
        complete: () => this.completeExecution(execution),
      });
    } catch (error) {
      this.failExecution(execution, this.mismatch(execution, output, error));
    }
    if (execution.done) execution.subscription?.unsubscribe();
  }

  private receive(execution: Execution, emitted: unknown): void {
    if (execution.done) return;
    if (Array.isArray(emitted)) {
      this.deliverArray(execution, emitted);
      return;
    }
    if (!isStreamed(emitted)) {
      this.refuseOutput(execution, this.mismatch(execution, emitted));
      return;
    }
    const { index } = emitted;
    if (!Number.isInteger(index) || index < 0 || index >= execution.indices.length) {
      this.refuseOutput(
        execution,
        new BatchResultMismatchError(
          `execute streamed a result for index ${String(index)}, but the batch has ${execution.indices.length} items`,
          execution.indices.length,
          undefined,
        ),
      );
      return;
    }
    const outcome: Outcome<R> =
      'error' in emitted ? { ok: false, error: emitted.error } : { ok: true, value: emitted.value as R };
    this.settle(execution.indices[index]!, outcome);
    if (execution.indices.every((u) => this.settled[u])) this.endExecution(execution);
  }

  private deliverArray(execution: Execution, results: unknown[]): void {
    const expected = execution.indices.length;
    if (results.length !== expected) {
      this.refuseOutput(
        execution,
        new BatchResultMismatchError(
          `execute returned ${results.length} results for ${expected} items; results must match items one to one`,
          expected,
          results.length,
        ),
      );
      return;
    }
    this.endExecution(execution);
    const now = this.config.scheduler.now();
    const { indices } = execution;
    for (let k = 0; k < indices.length; k++) this.settle(indices[k]!, { ok: true, value: results[k] as R }, now);
  }

  private mismatch(execution: Execution, output: unknown, cause?: unknown): BatchResultMismatchError {
    const what = output === null ? 'null' : Array.isArray(output) ? 'an array' : typeof output;
    return new BatchResultMismatchError(
      `execute produced ${what}; expected an array of ${execution.indices.length} results, a promise or ` +
        'observable of one, or a stream of { index, value }' +
        (cause instanceof Error ? ` (${cause.message})` : ''),
      execution.indices.length,
      undefined,
    );
  }

  private completeExecution(execution: Execution): void {
    if (execution.done) return;
    const missing = execution.indices.filter((u) => !this.settled[u]);
    if (missing.length === 0) {
      this.endExecution(execution);
      return;
    }
    const positions = missing.map((u) => execution.indices.indexOf(u));
    this.failExecution(
      execution,
      new BatchResultMismatchError(
        `execute completed without a result for item${positions.length > 1 ? 's' : ''} ${positions.join(', ')}`,
        execution.indices.length,
        execution.indices.length - missing.length,
      ),
    );
  }

  private failExecution(execution: Execution, error: unknown): void {
    this.endExecution(execution);
    for (const u of execution.indices) this.settle(u, { ok: false, error });
  }

  /** The call's output cannot be used: stop it (its signal aborts with the reason) and reject what it owed. */
  private refuseOutput(execution: Execution, error: BatchResultMismatchError): void {
    if (execution.done) return;
    this.stop(execution, error);
    this.executions.delete(execution);
    for (const u of execution.indices) this.settle(u, { ok: false, error });
  }

  private timeout(execution: Execution): void {
    execution.timer = undefined;
    const { timeoutMs, onTimeout } = this.config;
    const error = new BatchTimeoutError(
      execution.individual
        ? `the individual retry of a timed-out item took longer than ${timeoutMs} ms (processingTimeoutMs)`
        : `batch ${this.batchId} took longer than ${timeoutMs} ms (processingTimeoutMs)`,
      timeoutMs,
    );
    this.stop(execution, error);
    this.executions.delete(execution);
    const unsettled = execution.indices.filter((u) => !this.settled[u]);
    if (!execution.individual && onTimeout === 'individual') {
      for (const u of unsettled) if (!this.finished) this.launch([u], true);
    } else {
      for (const u of unsettled) this.settle(u, { ok: false, error });
    }
  }

  /** The call has given all it will give: stop listening and its timer, without aborting it. */
  private endExecution(execution: Execution): void {
    if (execution.done) return;
    execution.done = true;
    execution.timer?.unsubscribe();
    execution.subscription?.unsubscribe();
    this.executions.delete(execution);
  }

  private stop(execution: Execution, reason: unknown): void {
    execution.done = true;
    execution.timer?.unsubscribe();
    execution.subscription?.unsubscribe();
    execution.controller.abort(reason);
  }

  private settle(u: number, outcome: Outcome<R>, now = this.config.scheduler.now()): void {
    if (this.settled[u] || this.finished) return;
    this.settled[u] = 1;
    this.open--;
    for (let i = this.firstMember[u]!, first = true; i >= 0; i = this.nextMember[i]!, first = false) {
      this.emit(i, outcome, !first, now);
    }
    this.config.onItemSettled?.(this.batch.unique[u]!, outcome, this.batchId);
    if (this.open === 0) this.finish();
  }

  private emit(i: number, outcome: Outcome<R>, deduplicated: boolean, now: number): void {
    const request = this.batch.items[i]!;
    const latencyMs = now - this.config.enqueuedAt(request);
    this.latencies.push(latencyMs);
    this.config.emit(
      outcome.ok
        ? { request, status: 'fulfilled', value: outcome.value, batchId: this.batchId, deduplicated, latencyMs }
        : { request, status: 'rejected', error: outcome.error, batchId: this.batchId, deduplicated, latencyMs },
    );
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const execution of this.executions) this.endExecution(execution);
    const settledAt = this.config.scheduler.now();
    this.config.onSettled(this, {
      size: this.batch.items.length,
      executedItems: this.batch.unique.length,
      durationMs: settledAt - this.startedAt,
      latenciesMs: this.latencies,
      settledAt,
    });
  }
}
