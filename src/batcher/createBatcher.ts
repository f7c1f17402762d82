import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import { arrivalClock } from '../internal/arrivalClock.js';
import { elapsed } from '../base/clock.js';
import { BatcherClosedError, BatchTimeoutError } from '../errors.js';
import type { Envelope } from '../internal/envelope.js';
import { PipelineConfig, type BatchDedupOptions, type FlatFeatures } from '../internal/pipelineConfig.js';
import { FLAT_FEATURES } from '../internal/flatFeatures.js';
import * as check from '../base/validate.js';
import { toBatchResult } from '../internal/batchRun.js';
import { BatchEngine } from '../internal/engine.js';
import { scheduleAfter } from '../base/timer.js';
import type { QueueEntry } from '../internal/waitingQueue.js';
import type { BatchStats } from '../stats/batchStats.js';
import { isScope, SCOPE_TYPES, type DedupScope } from '../dedup/keys.js';
import { describeThrown, describeValue } from '../base/describeValue.js';
import { forget } from '../internal/collector.js';
import { abortedIsBoolean, abortReason, abortState } from '../base/signal.js';
import type { SimilarityPlugIn } from '../internal/nearCache.js';
import type { BatchResult } from '../types.js';

const PROCESS = 'createBatcher.process';

export interface ProcessOptions {
  /** Priority of this request (with `enablePriorities`); overrides `priority(request)`. */
  priority?: number;
  /**
   * Reject with `BatchTimeoutError` if no result within this many ms; a request still queued is withdrawn.
   * Replaces `requestTimeoutMs` for this call. Any size is honoured; `Infinity` for no deadline.
   */
  timeoutMs?: number;
  /**
   * Aborting rejects with the signal's reason and withdraws the request if it has not been sent. One listener
   * per call, however many requests `processAll` or `processStreaming` submit with it.
   */
  signal?: AbortSignal;
  /** Overrides `scope(request)`: requests of different scopes are never merged (`1`, `'1'` and `1n` are three). */
  scope?: DedupScope;
}

export interface Batcher<T, R> {
  /** Submits one request; resolves with its own result. */
  process(request: T, options?: ProcessOptions): Promise<R>;
  /** Submits all requests at once (so they batch together); resolves with their results in order. */
  processAll(requests: Iterable<T>, options?: ProcessOptions): Promise<R[]>;
  /** Submits all requests at once and yields each `BatchResult` as it completes. */
  processStreaming(requests: Iterable<T>, options?: ProcessOptions): AsyncIterable<BatchResult<T, R>>;
  /** A snapshot now, then one after every batch. */
  readonly stats$: Observable<BatchStats>;
  getStats(): BatchStats;
  /** Changes options live (validated in full first); `scheduler`, `stats` and `enablePriorities` are fixed. */
  configure(options: Partial<BatchDedupOptions<T, R>>): void;
  /**
   * Stops accepting requests (`process` then rejects with `BatcherClosedError`), batches everything waiting at
   * once, and resolves once every accepted request has settled: with its result, or earlier by its own
   * `timeoutMs` or `signal`. It waits for no execution that only such early-settled requests were waiting for:
   * those are aborted (their `signal`) at `close()`, or as soon as their last caller settles, and their results
   * discarded. An execution that an unsettled request still waits for (an equal request joined it with
   * `dedupInFlight`, say) is waited for, and `processingTimeoutMs` bounds it; each request's `timeoutMs` bounds
   * its own wait.
   */
  close(): Promise<void>;
  readonly closed: boolean;
}

/**
 * How a caller is answered: its promise's resolve (a failure resolves it with a rejected promise, so the reject
 * function need not be kept), or a callback taking the whole result.
 */
type Answer<T, R> = ((value: R | PromiseLike<R>) => void) | { readonly onResult: (result: BatchResult<T, R>) => void };

/**
 * What one call's options add to its requests; most calls have none, so most submissions carry none. A
 * `processAll` or `processStreaming` call shares one among all its requests: the call sets one deadline timer
 * and adds one abort listener to the caller's signal, however many requests it submits, and removes both once
 * the last of them is answered.
 */
class Call<T, R> {
  readonly priority: number | undefined;
  readonly scope: DedupScope;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** True when the call may take its requests back (deadline or signal), so the queue must keep them findable. */
  readonly withdrawable: boolean;
  private readonly members: Submission<T, R>[] = [];
  /** Where each member waits in the queue, for a withdrawal (undefined where it waits in none). */
  private readonly places: (QueueEntry<Submission<T, R>> | undefined)[] = [];
  /** Requests not yet answered, plus one while the call is still submitting (see `sealed`). */
  private open = 1;
  private timer: Subscription | undefined;
  /**
   * Its deadline passed or its signal aborted, with the error its requests got: those it submits after are refused
   * with it. On a scheduler that runs a zero delay at once (queueScheduler) the deadline passes in the constructor,
   * before the call has submitted anything.
   */
  over: { readonly reason: unknown } | undefined;
  /** It listens to its signal's abort (through the batcher's one listener for that signal: see `Listeners`). */
  private readonly listening: boolean = false;

  constructor(
    options: ProcessOptions,
    scheduler: SchedulerLike,
    private readonly withdraw: (submission: Submission<T, R>, place: QueueEntry<Submission<T, R>> | undefined, error: unknown, stop: boolean) => void,
    /** After the last `withdraw` of a withdrawal (see `BatchEngine.withdrawn`). */
    private readonly withdrawn: () => void,
    private readonly listeners: Listeners<Call<T, R>>,
  ) {
    const { timeoutMs, signal } = options;
    this.priority = options.priority;
    this.scope = options.scope;
    this.timeoutMs = timeoutMs;
    this.signal = signal;
    // Stryker disable next-line ConditionalExpression: either side made true only makes a call with other options (priority, scope) withdrawable: it lists its requests for a withdrawal that never comes (no timer, no listener); the whole made false is killed (test/createBatcher.test.ts).
    this.withdrawable = timeoutMs !== undefined || signal !== undefined;
    if (signal && abortState(signal, PROCESS) === undefined) {
      listeners.add(signal, this);
      this.listening = true;
    }
    if (timeoutMs !== undefined) {
      this.timer = scheduleAfter(
        scheduler,
        () => this.withdrawAll(new BatchTimeoutError(`no result within ${timeoutMs} ms (timeoutMs)`, timeoutMs)),
        timeoutMs,
      );
    }
  }

  add(submission: Submission<T, R>): void {
    // Stryker disable next-line ConditionalExpression: made false, a call that cannot withdraw lists its requests too, which nothing reads (it has no timer and no listener, and settled() returns first for it); made true it is killed.
    if (!this.withdrawable) return;
    this.members.push(submission);
    this.places.push(undefined);
    this.open++;
  }

  /** The last request added waits at `place` in the queue. */
  placed(place: QueueEntry<Submission<T, R>>): void {
    // Stryker disable next-line ConditionalExpression: made true, a call that cannot withdraw (it lists nothing) writes places[-1], a property nothing reads; made false it is killed (withdrawn requests still sent).
    if (this.withdrawable) this.places[this.places.length - 1] = place;
  }

  /** Every request of the call has been submitted. */
  sealed(): void {
    this.settled();
  }

  /** One of its requests has been answered. */
  settled(): void {
    if (!this.withdrawable || --this.open > 0) return;
    this.timer?.unsubscribe();
    if (this.listening) this.listeners.remove(this.signal!, this);
  }

  private withdrawAll(error: unknown): void {
    this.answerAll(error);
    // Only now, every request of the call answered, may an execution that none waits for be stopped and its slot
    // go to the next batch, which then cannot take one of them.
    this.withdrawn();
  }

  /** Answers every request of the call not answered yet with `error`; stops nothing (see `withdrawAll`). */
  answerAll(error: unknown): void {
    this.over ??= { reason: error };
    const { members, places } = this;
    // Stryker disable next-line ConditionalExpression: made true, answered requests are withdrawn too, and the engine's withdraw() returns at once for an answered request.
    for (let i = 0; i < members.length; i++) if (!members[i]!.answered) this.withdraw(members[i]!, places[i], error, false);
  }
}

/**
 * The batcher's abort listeners: one per signal, for every call given it (an HTTP handler may pass its request's
 * signal to each `process()` it makes). At the abort it answers the requests of all of them before any execution
 * is stopped for want of callers: one call's stopped execution would free a slot at once, and the next batch could
 * take a request of another call given the same signal, whose own listener had not run yet, and send it after its
 * caller left (reliability row 5).
 */
class Listeners<C extends { answerAll(error: unknown): void }> {
  private readonly bySignal = new WeakMap<AbortSignal, { readonly calls: Set<C>; readonly onAbort: () => void }>();

  constructor(private readonly withdrawn: () => void) {}

  add(signal: AbortSignal, call: C): void {
    const listening = this.bySignal.get(signal);
    if (listening) {
      listening.calls.add(call);
      return;
    }
    const calls = new Set<C>([call]);
    const onAbort = () => {
      this.bySignal.delete(signal);
      const reason = abortReason(signal, PROCESS);
      for (const each of [...calls]) each.answerAll(reason);
      this.withdrawn();
    };
    try {
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: without `once` the listener stays after the abort until its calls settle, which the abort makes happen (every request withdrawn), and then it is removed; a signal aborts once.
      signal.addEventListener('abort', onAbort, { once: true });
    } catch (error) {
      throw new TypeError(`createBatcher.process: signal.addEventListener('abort') threw: ${describeThrown(error)}`, { cause: error });
    }
    this.bySignal.set(signal, { calls, onAbort });
  }

  /** A call given `signal` has settled: the listener goes with the last such call. */
  remove(signal: AbortSignal, call: C): void {
    const listening = this.bySignal.get(signal);
    if (!listening || !listening.calls.delete(call) || listening.calls.size > 0) return;
    this.bySignal.delete(signal);
    forget(signal, listening.onAbort);
  }
}

/**
 * One submitted request: the envelope the pipeline carries, and how to answer its caller (exactly once).
 * Beyond its call it holds nothing (its place in the queue is its call's): while the engine runs, the engine holds every
 * unanswered submission, and on a defect it hands them all back (`EngineOutput.failed`), so no list of them is
 * kept here.
 */
class Submission<T, R> implements Envelope<T> {
  /** The engine's (see `Envelope.shared`). */
  shared: unknown = undefined;

  constructor(
    readonly request: T,
    readonly arrivedAt: number,
    /** Undefined once the caller has been answered. */
    private answer: Answer<T, R> | undefined,
    private readonly call: Call<T, R> | undefined,
  ) {}

  get priority(): number | undefined {
    return this.call?.priority;
  }
  get scope(): DedupScope {
    return this.call?.scope;
  }
  get timeoutMs(): number | undefined {
    return this.call?.timeoutMs;
  }
  get withdrawable(): boolean {
    // Stryker disable next-line ConditionalExpression: made true, a request of no call is withdrawable too: it takes the engine's slower path and a findable queue place, which nothing uses (only a call's deadline or signal withdraws, and it has none); made false, or its left side made true, it is killed.
    return this.call !== undefined && this.call.withdrawable;
  }
  get answered(): boolean {
    return this.answer === undefined;
  }

  /**
   * Answers the caller unless it was answered already.
   * @return whether it answered now
   */
  settle(ok: boolean, valueOrError: unknown, batchId: number, deduplicated: boolean, latencyMs: number): boolean {
    const answer = this.answer;
    // Stryker disable next-line BooleanLiteral: only failAll() settles a request answered already, after closing the batcher and before resolving close() itself: the extra answered() can only call closeNow() early, which disposes the engine a second time (it was disposed) and resolves close() as failAll() is about to.
    if (answer === undefined) return false;
    this.answer = undefined;
    this.call?.settled();
    if (typeof answer !== 'function') {
      answer.onResult(toBatchResult(this.request, ok, valueOrError, batchId, deduplicated, latencyMs));
    } else if (ok) answer(valueOrError as R);
    else answer(Promise.reject(valueOrError));
    return true;
  }
}

/**
 * A promise front end to the `batchDedup` pipeline, for code that is not reactive end to end (an HTTP handler).
 *
 * ```ts
 * const batcher = createBatcher({ execute: (qs) => llm.completeMany(qs), windowMs: 20 });
 * app.post('/ask', async (req) => batcher.process(req.body.question, { signal: req.signal }));
 * ```
 *
 * This one is without similarity dedup: `dedupStrategy: 'embedding'` or `'hybrid'`, and the options only they read,
 * are refused at creation with a `TypeError` that names the entry point that has them (`rxjs-batch-dedup`, whose
 * createBatcher is the same function with similarity dedup wired in). It takes the flat forms of the opt-in
 * features as the main entry point does (`adaptive: true`); that of `rxjs-batch-dedup/lite` (src/lite/lean.ts)
 * takes only their objects (`adaptive: adaptiveWindow()`).
 *
 * @param options the options of `batchDedup`
 * @return a running batcher; call `close()` to drain it
 */
export function createBatcher<T, R>(options: BatchDedupOptions<T, R>): Batcher<T, R> {
  return createBatcherWith(options, undefined, FLAT_FEATURES);
}

/**
 * @internal `createBatcher` with the given similarity dedup (`'embedding'`, `'hybrid'`), or none, and the flat forms
 * of the opt-in features, or none. The one above has none of the first; the main entry point's wires both in
 * (./withSimilarity.ts); that of `rxjs-batch-dedup/lite` neither (src/lite/lean.ts).
 */
export function createBatcherWith<T, R>(
  options: BatchDedupOptions<T, R>,
  similarity: SimilarityPlugIn | undefined,
  flat?: FlatFeatures,
): Batcher<T, R> {
  refuseSignalOption('createBatcher', options);
  const config = new PipelineConfig<T, R>('createBatcher', options, similarity, flat);
  const { scheduler, stats } = config;
  const clock = arrivalClock(scheduler);
  let closed = false;
  let failure: { error: unknown } | undefined;
  /** Accepted requests whose callers have not been answered yet. */
  let pending = 0;
  let drained!: () => void;
  /**
   * What `close()` returns. It is resolved with a settled promise, not at once: a caller whose request failed is
   * answered by resolving its promise with a rejected one (so no reject function is kept per pending request: 64 B
   * each), which settles two microtask turns later; adopting a promise takes `close()` the same two turns, queued
   * after the last answer's, so every rejection has settled when `close()` resolves (test/attack-batcher-close).
   */
  const whenDrained = new Promise<void>((resolve) => (drained = () => resolve(Promise.resolve())));

  const engine = new BatchEngine<T, R, Submission<T, R>>(config, {
    answer: (submission, ok, valueOrError, batchId, deduplicated, latencyMs) => {
      if (submission.settle(ok, valueOrError, batchId, deduplicated, latencyMs)) answered();
    },
    // Stryker disable next-line ArrowFunction: the engine drains only after every accepted request is answered, and the last answer after close() has resolved close() already (answered() calls closeNow()).
    drained: () => drained(),
    failed: (error, held) => failAll(error, held),
  });

  /** Only a defect inside the pipeline gets here; fail loudly rather than leave callers waiting. */
  function failAll(error: unknown, held: Submission<T, R>[]): void {
    failure ??= { error };
    closed = true;
    for (const submission of held) reject(submission, failure.error);
    drained();
  }

  function reject(submission: Submission<T, R>, error: unknown): void {
    if (submission.settle(false, error, 0, false, elapsed(submission.arrivedAt, scheduler.now()))) answered();
  }

  function answered(): void {
    if (--pending === 0 && closed) closeNow();
  }

  /**
   * Closed, and every accepted request answered: what still runs is owed to nobody. Stop it (calls in flight
   * see their signal abort) and resolve `close()`.
   */
  function closeNow(): void {
    engine.dispose();
    drained();
  }

  function withdraw(submission: Submission<T, R>, place: QueueEntry<Submission<T, R>> | undefined, error: unknown, stop: boolean): void {
    engine.withdraw(submission, place, error, stop);
  }

  function withdrawn(): void {
    engine.withdrawn();
  }

  const listeners = new Listeners<Call<T, R>>(withdrawn);

  /** Starts a call: checks its options, and sets its one timer and one listener. Undefined without options. */
  function openCall(options: ProcessOptions | undefined): Call<T, R> | undefined {
    if (closed) throw failure ? failure.error : new BatcherClosedError();
    // Stryker disable next-line ConditionalExpression: made false, a call without options gets a Call of no priority, no scope, no deadline and no signal, which is not withdrawable and adds nothing: only an allocation more; made true it is killed.
    return options === undefined ? undefined : new Call<T, R>(checkProcessOptions(options), scheduler, withdraw, withdrawn, listeners);
  }

  function submit(request: T, call: Call<T, R> | undefined, answer: Answer<T, R>): void {
    if (closed) throw failure ? failure.error : new BatcherClosedError();
    const submission = new Submission<T, R>(request, clock(), answer, call);
    pending++;
    if (call !== undefined) {
      call.add(submission);
      // Its deadline passed or its signal aborted before this request (see `Call.over`).
      const aborted = call.over ?? (call.signal && abortState(call.signal, PROCESS));
      if (aborted) {
        // Refused before cache or queue, and counted as batchDedup counts it: a request, answered with an error.
        stats.recordRequests(1);
        withdraw(submission, undefined, aborted.reason, true);
        return;
      }
    }
    try {
      const place = engine.push(submission);
      // Stryker disable next-line ConditionalExpression: made true, placed(undefined) writes undefined where undefined is; made false it is killed (withdrawn requests still sent).
      if (place !== undefined) call?.placed(place);
    } catch (error) {
      const held = engine.dispose();
      held.push(submission);
      failAll(error, held);
    }
  }

  function process(request: T, options?: ProcessOptions): Promise<R> {
    return new Promise<R>((resolve) => {
      const call = openCall(options);
      try {
        submit(request, call, resolve);
      } finally {
        call?.sealed();
      }
    });
  }

  return {
    process,
    processAll(requests, options) {
      let call: Call<T, R> | undefined;
      try {
        call = openCall(options);
      } catch (error) {
        return Promise.reject(error);
      }
      const answers: Promise<R>[] = [];
      try {
        if (typeof (requests as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
          check.fail('createBatcher.processAll', `requests must be iterable, got ${describeValue(requests)}`, TypeError);
        }
        for (const request of requests) answers.push(new Promise<R>((resolve) => submit(request, call, resolve)));
      } catch (error) {
        // The requests taken in before the iterable failed still run; their answers reach no caller, so none may
        // surface as an unhandled rejection (which ends a Node process).
        for (const answer of answers) answer.catch(ignore);
        return Promise.reject(error);
      } finally {
        call?.sealed();
      }
      return Promise.all(answers);
    },
    processStreaming(requests, options) {
      return {
        async *[Symbol.asyncIterator]() {
          const ready: BatchResult<T, R>[] = [];
          let wake: (() => void) | undefined;
          let outstanding = 0;
          const answer: Answer<T, R> = {
            onResult: (result) => {
              ready.push(result);
              wake?.();
            },
          };
          const call = openCall(options);
          try {
            // Named as processAll names it, not as the `for...of` below would ("requests is not iterable").
            if (typeof (requests as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
              check.fail('createBatcher.processStreaming', `requests must be iterable, got ${describeValue(requests)}`, TypeError);
            }
            for (const request of requests) {
              outstanding++;
              submit(request, call, answer);
            }
          } finally {
            call?.sealed();
          }
          while (outstanding > 0) {
            if (ready.length === 0) await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            while (ready.length > 0) {
              outstanding--;
              yield ready.shift()!;
            }
          }
        },
      };
    },
    stats$: stats.stats$,
    getStats: () => stats.snapshot(),
    configure(partial) {
      if (closed) throw new BatcherClosedError();
      refuseSignalOption('createBatcher.configure', partial);
      config.update(partial);
    },
    close() {
      // Stryker disable next-line ConditionalExpression: made true, a second close() (or one after a defect closed the batcher) closes an engine closed or disposed already, which returns at once or finds nothing queued or running, and calls closeNow() again only when nothing is pending, when close() has resolved or is about to; made false it is killed.
      if (!closed) {
        closed = true;
        engine.close();
        if (pending === 0) closeNow();
      }
      return whenDrained;
    },
    get closed() {
      return closed;
    },
  };
}

/**
 * `signal(request)` is `batchDedup`'s: a promise caller gives its signal per call. Accepting it here would
 * silently abort nothing.
 */
function refuseSignalOption(where: string, options: unknown): void {
  if (typeof options === 'object' && options !== null && (options as { signal?: unknown }).signal !== undefined) {
    check.fail(where, 'signal is an option of batchDedup; with createBatcher pass it per call: process(request, { signal })', TypeError);
  }
}

/** The per-call options; any other name is refused (a typo such as `timeOutMs` would otherwise set no deadline). */
const PROCESS_OPTIONS = ['priority', 'timeoutMs', 'signal', 'scope'];

function checkProcessOptions(options: ProcessOptions): ProcessOptions {
  const where = PROCESS;
  // Read once: the values checked below are the values the call uses (a getter may answer differently each time).
  const o = check.readOnce(where, check.optionsObject(where, options));
  for (const name in o) {
    if ((o as Record<string, unknown>)[name] !== undefined && !PROCESS_OPTIONS.includes(name)) {
      check.fail(where, `unknown option ${name}; it takes ${PROCESS_OPTIONS.join(', ')}`, TypeError);
    }
  }
  if (o.priority !== undefined) check.finite(where, 'priority', o.priority);
  if (o.timeoutMs !== undefined) check.durationOrNever(where, 'timeoutMs', o.timeoutMs);
  if (!isScope(o.scope)) check.fail(where, `scope must be ${SCOPE_TYPES}, got ${describeValue(o.scope)}`, TypeError);
  if (o.signal !== undefined) {
    const s = o.signal as Partial<AbortSignal> | null;
    // removeEventListener too: the call removes its listener when answered (a signal without it left it unsettled).
    if (!s || !abortedIsBoolean(s) || typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
      check.fail(where, 'signal must be an AbortSignal', TypeError);
    }
  }
  return o;
}

function ignore(): void {}
