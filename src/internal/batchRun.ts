import { asyncScheduler, from, type SchedulerLike, type Subscription } from 'rxjs';
import { BatchResultMismatchError, BatchTimeoutError } from '../errors.js';
import type { BatchResult, DedupedBatch, ExecuteContext, ExecuteFn, StreamedResult } from '../types.js';
import { elapsed } from '../base/clock.js';
import { describeGiven } from '../base/describeGiven.js';
import type { BatchReport } from './feedback.js';
import { scheduleAfter } from '../base/timer.js';

export type TimeoutPolicy = 'reject' | 'individual';

/**
 * How one request is answered. Positional arguments rather than a result object: this runs once per request,
 * and the promise bridge needs none of the object.
 */
export type AnswerFn<T> = (
  request: T,
  ok: boolean,
  valueOrError: unknown,
  batchId: number,
  deduplicated: boolean,
  latencyMs: number,
) => void;

/** The `BatchResult` of one answer, for the front ends that emit results rather than settle promises. */
export function toBatchResult<T, R>(
  request: T,
  ok: boolean,
  valueOrError: unknown,
  batchId: number,
  deduplicated: boolean,
  latencyMs: number,
): BatchResult<T, R> {
  return ok
    ? { request, status: 'fulfilled', value: valueOrError as R, batchId, deduplicated, latencyMs }
    : { request, status: 'rejected', error: valueOrError, batchId, deduplicated, latencyMs };
}

export interface BatchRunConfig<T, R> {
  readonly execute: ExecuteFn<T, R>;
  readonly scheduler: SchedulerLike;
  readonly timeoutMs: number;
  readonly onTimeout: TimeoutPolicy;
  /** When the request entered the pipeline; latency is measured from here. */
  readonly enqueuedAt: (request: T) => number;
  readonly answer: AnswerFn<T>;
  readonly onSettled: (run: BatchRun<T, R>, report: BatchReport) => void;
  /** See `FanOutConfig.executeCopiesItems`. */
  readonly executeCopiesItems?: boolean;
  /** Collect every request's latency into the report (the adaptive window needs them). */
  readonly reportLatencies?: boolean;
  /**
   * Called for each request of a call about to be stopped whose outcome will be the stop's error, before its
   * signal aborts (the engine's shared slots then take no join for it: see `SharedSlots.stopping`).
   */
  readonly stopping?: (request: T) => void;
}

export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * What `execute` receives. The `AbortController` behind `signal` is made on first read: most backends that
 * answer quickly never look at it, and it is the most expensive object of a batch. A signal read after the call
 * was stopped comes out already aborted, with the reason.
 */
class LazyContext implements ExecuteContext {
  private controller: AbortController | undefined;
  private stopped = false;
  private reason: unknown;

  constructor(
    readonly batchId: number,
    readonly individual: boolean,
  ) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    // Stryker disable next-line ConditionalExpression: each execution is stopped once (stop() is reached only for an execution still listed, and forget() or cancel() unlists it), so a second call never comes.
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** One call of `execute`: the whole batch, or one item retried alone after a timeout. */
interface Execution {
  /** Indices into the batch's unique items, in the order `execute` received them. */
  readonly indices: readonly number[];
  readonly context: LazyContext;
  subscription: Subscription | undefined;
  timer: Subscription | undefined;
  /** Items still owed by a streaming call (counted down per streamed result, so the stream is not rescanned). */
  outstanding: number;
  /** Set once the call has given all it will give (or was stopped). */
  done: boolean;
}

/** An object with an `index` is meant as a streamed item; whether it is a valid one is checked after. */
function isStreamed(x: unknown): x is StreamedResult<unknown> {
  return typeof x === 'object' && x !== null && 'index' in x;
}

const ITEM_SHAPES = 'stream { index, value } or { index, error }';

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

let lastAllIndices: readonly number[] = [];

/** `[0, 1, ..., n - 1]`. Never written to, so batches of the same size (the common case under load) share one. */
export function allIndices(n: number): readonly number[] {
  // Stryker disable next-line ConditionalExpression: made false, every batch builds its own [0, ..., n - 1]: the same indices (made true it is killed, but one mutator name covers both).
  if (lastAllIndices.length === n) return lastAllIndices;
  // Stryker disable next-line ArrayDeclaration: sized up front for speed only; the loop below writes every slot.
  const all = new Array<number>(n);
  for (let u = 0; u < n; u++) all[u] = u;
  return (lastAllIndices = all);
}

/** True when every item is its own leader, so no member lists are needed. */
// Stryker disable next-line BlockStatement: isIdentity answering false only sends the batch down the member-list path, which gives every request the same answer.
function isIdentity(batch: DedupedBatch<unknown>): boolean {
  const { leaderOf, unique } = batch;
  // Stryker disable next-line ConditionalExpression: isIdentity answering false only sends the batch down the member-list path, which gives every request the same answer (and an item in failures has leaderOf -1, so the loop says false too).
  if (batch.failures || unique.length !== leaderOf.length) return false;
  // Stryker disable next-line UpdateOperator,EqualityOperator,ConditionalExpression: (`i--`, `<=` reading past the end, `===` stopping at the first entry that is its own leader, the check made true; the loop's condition made false is killed, by the permutation test of test/mutation-batchRun.test.ts) isIdentity answering false only sends the batch down the member-list path, which gives every request the same answer.
  for (let i = 0; i < leaderOf.length; i++) if (leaderOf[i] !== i) return false;
  // Stryker disable next-line BooleanLiteral: isIdentity answering false only sends the batch down the member-list path, which gives every request the same answer.
  return true;
}

/**
 * The life of one batch in `fanOut`: call `execute`, map results (whole or streamed) back to every request,
 * enforce the timeout (reject or retry one by one), and report when every request has its result.
 */
export class BatchRun<T, R> {
  /**
   * Requests answered by each unique item, as linked lists (first request, then the next one with the same
   * leader); undefined when every request is its own leader, the common case.
   */
  private readonly firstMember: number[] | undefined;
  private readonly nextMember: number[] | undefined;
  /** Which unique items have their outcome; made on the first single settle (all at once needs none). */
  private settledFlags: boolean[] | undefined;
  private open: number;
  private readonly executions: Execution[] = [];
  private readonly latencies: number[] = [];
  private startedAt = 0;
  private finished = false;

  constructor(
    readonly batchId: number,
    private readonly batch: DedupedBatch<T>,
    private readonly config: BatchRunConfig<T, R>,
  ) {
    const { unique, leaderOf } = batch;
    // Stryker disable next-line ConditionalExpression: member lists built for a batch where every request is its own leader give every request the same answer.
    if (!isIdentity(batch)) {
      // Stryker disable next-line ArrayDeclaration: sized for speed only; an entry never written reads undefined, which ends a member list as -1 does.
      const firstMember = new Array<number>(unique.length).fill(-1);
      // Stryker disable next-line ArrayDeclaration,UnaryOperator: sized for speed only; an entry never written reads undefined, which ends a member list as -1 does; the fill value stays only in the entries of items in failures (leader -1), which no list reaches.
      const nextMember = new Array<number>(leaderOf.length).fill(-1);
      // Walk backwards so each list comes out in arrival order.
      // Stryker disable next-line ArithmeticOperator: starting past the end only links indices that hold no item (their leader reads undefined), which no list reaches.
      for (let i = leaderOf.length - 1; i >= 0; i--) {
        const leader = leaderOf[i]!;
        // Stryker disable next-line ConditionalExpression: without it the items in failures (leader -1) are linked under index -1, which no unique item's list starts from.
        if (leader < 0) continue;
        nextMember[i] = firstMember[leader]!;
        firstMember[leader] = i;
      }
      this.firstMember = firstMember;
      this.nextMember = nextMember;
    }
    this.open = unique.length;
  }

  /** Every request of the batch, in arrival order. */
  get items(): readonly T[] {
    return this.batch.items;
  }

  get executedItems(): number {
    return this.batch.unique.length;
  }

  start(): void {
    this.startedAt = this.config.scheduler.now();
    if (this.batch.failures) {
      for (const [i, error] of this.batch.failures) this.emit(i, false, error, false, this.startedAt);
      // Cancelled inside one of those answers (its subscriber left in it): the rest is never sent.
      if (this.finished) return;
    }
    if (this.open === 0) {
      this.finish();
      return;
    }
    this.launch(allIndices(this.open), false, this.startedAt);
  }

  /** Unsubscription: abort every call still running; no more results are emitted. */
  cancel(): void {
    this.finished = true;
    for (const execution of this.executions) this.stop(execution, undefined);
    this.executions.length = 0;
  }

  /** @param launchedAt now, as the caller just read it: the call's processing timeout counts from here */
  private launch(indices: readonly number[], individual: boolean, launchedAt: number): void {
    const { scheduler } = this.config;
    const execution: Execution = {
      indices,
      context: new LazyContext(this.batchId, individual),
      subscription: undefined,
      timer: undefined,
      outstanding: indices.length,
      done: false,
    };
    this.executions.push(execution);
    // On the real clock the timer is armed a microtask after the call, for a call still running then. The
    // reactions of a promise that was resolved already come first, so a backend that answers at once (a
    // resolved promise, an array, a cache) costs no timer set and cleared. A virtual clock (a TestScheduler,
    // also one patched into asyncScheduler by `run()`) runs no microtasks while it advances: armed now.
    // Stryker disable next-line EqualityOperator: `< 1000` differs only when the clocks are exactly 1000 ms apart, where arming now instead of a microtask later sets the same deadline (it counts from launchedAt either way).
    const late = scheduler === asyncScheduler && Math.abs(launchedAt - Date.now()) <= 1000;
    if (!late) this.armTimer(execution, launchedAt);
    this.call(execution, individual);
    // A reaction to a settled promise rather than queueMicrotask, which in Node makes an AsyncResource per call.
    if (late && !execution.done) void Promise.resolve().then(() => this.armTimer(execution, launchedAt));
  }

  /** Calls `execute` for a launched call, and listens for its outcome. */
  private call(execution: Execution, individual: boolean): void {
    const { execute } = this.config;
    const { indices } = execution;
    const { unique } = this.batch;
    // Stryker disable next-line ConditionalExpression,LogicalOperator,BooleanLiteral,EqualityOperator: made false (or `!==`), the whole batch's items are picked by their indices, [0, ..., n - 1]: the same items, in a new array (made true it is killed, but one mutator name covers both); `||`, or `!individual` made `individual`, differ only for a call that is not the whole batch's (picked by indices, a new array of the same items) or a retry of a batch of one (its one item either way).
    const whole = !individual && indices.length === unique.length;
    let output: ReturnType<ExecuteFn<T, R>>;
    try {
      // In the try: an entry of a hand-built batch's `unique` may be a getter that throws (fails the call as execute would).
      const items = !whole ? indices.map((u) => unique[u]!) : this.config.executeCopiesItems ? (unique as T[]) : unique.slice();
      output = execute(items, execution.context);
      if (Array.isArray(output)) {
        this.deliverArray(execution, output);
        return;
      }
      if (output === null || (typeof output !== 'object' && typeof output !== 'function')) {
        this.failExecution(execution, this.mismatch(execution, output));
        return;
      }
      // Read once: a getter could answer differently, or throw.
      const then = (output as { then?: unknown }).then;
      if (typeof then === 'function') {
        this.awaitThenable(execution, output as PromiseLike<unknown>, then as PromiseLike<unknown>['then']);
        return;
      }
    } catch (error) {
      // execute threw, or its thenable did (a `then` that throws, or throws after calling back): whatever it had
      // not answered is rejected with what it threw, and the next batch runs as usual.
      // Stryker disable next-line ConditionalExpression: a call that is done has given its items their outcome (or was stopped with the run), so failing it again settles nothing.
      if (!execution.done) this.failExecution(execution, error);
      return;
    }
    try {
      execution.subscription = from(output).subscribe({
        next: (emitted) => this.receiveSafely(execution, emitted),
        error: (error: unknown) => this.failExecution(execution, error),
        complete: () => this.completeExecution(execution),
      });
    } catch (error) {
      this.failExecution(execution, this.mismatch(execution, output, error));
    }
    if (execution.done) execution.subscription?.unsubscribe();
  }

  /** Arms the processing timeout of a call launched at `launchedAt`, unless it is done. */
  private armTimer(execution: Execution, launchedAt: number): void {
    if (execution.done || this.finished) return;
    const { scheduler, timeoutMs } = this.config;
    execution.timer = scheduleAfter(scheduler, () => this.timeout(execution), Math.max(0, timeoutMs - elapsed(launchedAt, scheduler.now())));
  }

  /**
   * What `from(promise)` would do, without an Observable and a Subscriber per batch. A thenable is not a promise:
   * its `then` may call back twice, call both callbacks, or call back and then throw. The first call decides;
   * `execution.done` turns away the rest.
   */
  private awaitThenable(execution: Execution, output: PromiseLike<unknown>, then: PromiseLike<unknown>['then']): void {
    then.call(
      output,
      (value) => {
        this.receiveSafely(execution, value);
        this.completeExecution(execution);
      },
      (error: unknown) => {
        if (!execution.done) this.failExecution(execution, error);
      },
    );
  }

  /** Output that throws while it is read (a hostile getter, a revoked proxy) fails the call, not the caller. */
  private receiveSafely(execution: Execution, emitted: unknown): void {
    try {
      this.receive(execution, emitted);
    } catch (error) {
      // Stryker disable next-line ConditionalExpression: made true, a call that is done (its items have their outcome, or it was stopped with the run) is failed again, which settles nothing; made false it is killed (test/mutation-batchRun.test.ts, results that throw while read).
      if (!execution.done) this.failExecution(execution, error);
    }
  }

  private receive(execution: Execution, emitted: unknown): void {
    if (execution.done) return;
    if (Array.isArray(emitted)) {
      this.deliverArray(execution, emitted);
      return;
    }
    let index: unknown;
    let failed: boolean;
    let valueOrError: unknown;
    try {
      if (!isStreamed(emitted)) {
        this.refuseOutput(execution, this.mismatch(execution, emitted));
        return;
      }
      index = emitted.index;
      if (!('value' in emitted) && !('error' in emitted)) {
        this.refuseOutput(execution, this.streamMismatch(execution, `an item for index ${describeGiven(index)} with neither value nor error; ${ITEM_SHAPES}`));
        return;
      }
      // Failed only by an error that is there: `{ index, value, error: null }` is a success, as many APIs send it.
      const error = (emitted as { error?: unknown }).error;
      failed = error !== undefined && error !== null;
      valueOrError = failed ? error : (emitted as { value?: unknown }).value;
    } catch (cause) {
      this.refuseOutput(execution, this.streamMismatch(execution, `an item that could not be read (${messageOf(cause)}); ${ITEM_SHAPES}`));
      return;
    }
    const n = execution.indices.length;
    // Stryker disable next-line ConditionalExpression: `typeof index !== 'number'` made false changes nothing: Number.isInteger is false for anything but a number, so the next check refuses it (the typeof is there for TypeScript's narrowing); the whole, and each other part, made true or false is killed (test/trust-exec.test.ts).
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n) {
      this.refuseOutput(
        execution,
        this.streamMismatch(
          execution,
          `a result for index ${describeGiven(index)}, but the batch has ${n} items; an index is the item's position, ` +
            `an integer from 0 to ${n - 1}`,
        ),
      );
      return;
    }
    const settled = this.settle(execution.indices[index]!, !failed, valueOrError);
    if (settled && --execution.outstanding === 0) this.endExecution(execution);
  }

  private streamMismatch(execution: Execution, what: string): BatchResultMismatchError {
    return new BatchResultMismatchError(`execute streamed ${what}`, execution.indices.length, undefined);
  }

  private deliverArray(execution: Execution, output: unknown[]): void {
    const expected = execution.indices.length;
    // Read once, before the call is marked done: an element that throws when read (a getter, a proxy) then fails
    // the call, rejecting its items, instead of being read halfway through answering them and dropped.
    const results = output.slice();
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
    // Stryker disable next-line ConditionalExpression,BooleanLiteral,BlockStatement: made false (or the block emptied), every batch takes the settle loop below, which gives every request the same answer; `open === expected` made true is killed (test/mutation-batchRun.test.ts).
    if (!this.firstMember && this.open === expected && expected === this.batch.unique.length) {
      this.answerAll(results, now);
      return;
    }
    for (let k = 0; k < indices.length; k++) this.settle(indices[k]!, true, results[k], now);
  }

  /** Every request its own leader, none answered yet, all results at once: the common case, in one loop. */
  private answerAll(results: unknown[], now: number): void {
    const { answer, enqueuedAt, reportLatencies } = this.config;
    const { items } = this.batch;
    const { batchId, latencies } = this;
    this.open = 0;
    for (let i = 0; i < items.length && !this.finished; i++) {
      const request = items[i]!;
      let latencyMs: number;
      try {
        latencyMs = elapsed(enqueuedAt(request), now);
      } catch (error) {
        // A user's enqueuedAt (fanOut) that throws or gives no time: that request alone is rejected with it.
        answer(request, false, error, batchId, false, 0);
        continue;
      }
      // Stryker disable next-line ConditionalExpression: made true, latencies are also collected for reports that nothing reads (reportLatencies is off exactly when no listener reads them); made false it is killed (test/mutation-batchRun.test.ts).
      if (reportLatencies) latencies.push(latencyMs);
      answer(request, true, results[i], batchId, false, latencyMs);
    }
    this.finish(now);
  }

  private mismatch(execution: Execution, output: unknown, cause?: unknown): BatchResultMismatchError {
    // Never an array: every caller has sent arrays to deliverArray first.
    const what = output === null ? 'null' : typeof output;
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
    const missing = execution.indices.filter((u) => !this.isSettled(u));
    // Stryker disable next-line ConditionalExpression,BlockStatement: with nothing missing, failing the call instead only ends it: every item has its outcome, so the failure settles none.
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
    for (const u of execution.indices) this.settle(u, false, error);
  }

  /** The call's output cannot be used: stop it (its signal aborts with the reason) and reject what it owed. */
  private refuseOutput(execution: Execution, error: BatchResultMismatchError): void {
    // Stryker disable next-line ConditionalExpression: never reached for a call that is done (receive() returns first for one, and launch() refuses only a fresh call).
    if (execution.done) return;
    this.stopping(execution);
    this.stop(execution, error);
    this.forget(execution);
    for (const u of execution.indices) this.settle(u, false, error);
  }

  private timeout(execution: Execution): void {
    execution.timer = undefined;
    const { timeoutMs, onTimeout } = this.config;
    const { individual } = execution.context;
    const error = new BatchTimeoutError(
      individual
        ? `the individual retry of a timed-out item took longer than ${timeoutMs} ms (processingTimeoutMs)`
        : `batch ${this.batchId} took longer than ${timeoutMs} ms (processingTimeoutMs)`,
      timeoutMs,
    );
    const retried = !individual && onTimeout === 'individual';
    // Retried one by one, its items keep their slots: an equal request may join a retry.
    if (!retried) this.stopping(execution);
    this.stop(execution, error);
    this.forget(execution);
    const unsettled = execution.indices.filter((u) => !this.isSettled(u));
    if (retried) {
      const now = this.config.scheduler.now();
      for (const u of unsettled) if (!this.finished) this.launch([u], true, now);
    } else {
      for (const u of unsettled) this.settle(u, false, error);
    }
  }

  /** The call has given all it will give: stop listening and its timer, without aborting it. */
  private endExecution(execution: Execution): void {
    // Stryker disable next-line ConditionalExpression: ending a call twice unsubscribes what is unsubscribed and forgets what is forgotten.
    if (execution.done) return;
    execution.done = true;
    execution.timer?.unsubscribe();
    execution.subscription?.unsubscribe();
    this.forget(execution);
  }

  private forget(execution: Execution): void {
    const i = this.executions.indexOf(execution);
    // Stryker disable next-line ConditionalExpression,EqualityOperator: a call is forgotten once, while listed, so `true` never splices at -1; `i > 0` only keeps the whole batch's call (always first, forgotten when it timed out) listed, and stopping it again aborts nothing new. Never removing (false, `i < 0`) is killed (test/mutation-batchRun.test.ts).
    if (i >= 0) this.executions.splice(i, 1);
  }

  /** Tells `config.stopping` of every request of `execution`'s items not yet answered. */
  private stopping(execution: Execution): void {
    const { stopping } = this.config;
    if (stopping === undefined) return;
    const { firstMember, nextMember } = this;
    for (const u of execution.indices) {
      if (this.isSettled(u)) continue;
      if (!firstMember) stopping(this.batch.items[u]!);
      else for (let i = firstMember[u]!; i >= 0; i = nextMember![i]!) stopping(this.batch.items[i]!);
    }
  }

  private stop(execution: Execution, reason: unknown): void {
    execution.done = true;
    execution.timer?.unsubscribe();
    execution.subscription?.unsubscribe();
    execution.context.abort(reason);
  }

  /** Answers every request of unique item `u`, unless it has its outcome already; returns whether it did. */
  private settle(u: number, ok: boolean, valueOrError: unknown, now = this.config.scheduler.now()): boolean {
    if (this.finished || this.isSettled(u)) return false;
    // Stryker disable next-line ArrayDeclaration: sized for speed only; an entry never written reads undefined, which isSettled's `=== true` takes as false.
    (this.settledFlags ??= new Array<boolean>(this.batch.unique.length).fill(false))[u] = true;
    this.open--;
    const { firstMember, nextMember } = this;
    if (!firstMember) {
      this.emit(u, ok, valueOrError, false, now);
    } else {
      for (let i = firstMember[u]!, first = true; i >= 0; i = nextMember![i]!, first = false) {
        this.emit(i, ok, valueOrError, !first, now);
      }
    }
    if (this.open === 0) this.finish();
    return true;
  }

  private isSettled(u: number): boolean {
    // Stryker disable next-line ConditionalExpression: `this.open === 0` made false changes nothing: open reaches 0 only in settle() with every flag set, or in answerAll(), from which nothing reaches this run's settle() before finish() (its call has ended, a timed-out call is stopped); after finish() settle() returns on `finished` first. The whole made true or false, and the flags' part, are killed.
    return this.open === 0 || (this.settledFlags !== undefined && this.settledFlags[u] === true);
  }

  private emit(i: number, ok: boolean, valueOrError: unknown, deduplicated: boolean, now: number): void {
    const request = this.batch.items[i]!;
    let latencyMs: number;
    try {
      latencyMs = elapsed(this.config.enqueuedAt(request), now);
    } catch (error) {
      // As in answerAll: a user's enqueuedAt that throws or gives no time rejects this request alone.
      this.config.answer(request, false, error, this.batchId, deduplicated, 0);
      return;
    }
    // Stryker disable next-line ConditionalExpression: made true, latencies are also collected for reports that nothing reads (reportLatencies is off exactly when no listener reads them); made false it is killed (test/mutation-batchRun.test.ts).
    if (this.config.reportLatencies) this.latencies.push(latencyMs);
    this.config.answer(request, ok, valueOrError, this.batchId, deduplicated, latencyMs);
  }

  /** @param settledAt when the last results came in, if the caller has just read the clock */
  private finish(settledAt?: number): void {
    if (this.finished) return;
    this.finished = true;
    settledAt ??= this.config.scheduler.now();
    // Stryker disable next-line MethodExpression: at most one call is listed when a run finishes (each call but a streaming one is ended before it settles its items, a streaming one right after, and a timed-out call is stopped before its retries start), so iterating the list itself while endExecution() removes from it ends the same calls.
    for (const execution of this.executions.slice()) this.endExecution(execution);
    this.config.onSettled(this, {
      size: this.batch.items.length,
      executedItems: this.batch.unique.length,
      durationMs: elapsed(this.startedAt, settledAt),
      latenciesMs: this.latencies,
      settledAt,
    });
  }
}
