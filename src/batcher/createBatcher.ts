import type { Observable, Subscription } from 'rxjs';
import { arrivalClock } from '../internal/arrivalClock.js';
import { BatcherClosedError, BatchTimeoutError } from '../errors.js';
import type { Envelope } from '../internal/envelope.js';
import { PipelineConfig, type BatchDedupOptions } from '../internal/pipelineConfig.js';
import * as check from '../internal/validate.js';
import { toBatchResult } from '../internal/batchRun.js';
import { BatchEngine } from '../internal/engine.js';
import type { BatchStats } from '../stats/batchStats.js';
import { describeValue, isScope, SCOPE_TYPES, type DedupScope } from '../dedup/keys.js';
import type { BatchResult } from '../types.js';

export interface ProcessOptions {
  /** Priority of this request (with `enablePriorities`); overrides `priority(request)`. */
  priority?: number;
  /** Reject with `BatchTimeoutError` if no result within this many ms; a request still queued is withdrawn. */
  timeoutMs?: number;
  /** Aborting rejects with the signal's reason and withdraws the request if it has not been sent. */
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
  /** Stops accepting requests and resolves once every accepted request has settled. */
  close(): Promise<void>;
  readonly closed: boolean;
}

/** How a caller is answered: a promise's resolve and reject, or a callback taking the whole result. */
type Answer<T, R> = ((value: R) => void) | { readonly onResult: (result: BatchResult<T, R>) => void };

/** What a call's options add to a submission; most calls have none, so most submissions carry none. */
interface CallExtras {
  readonly priority: number | undefined;
  readonly scope: DedupScope;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  timer?: Subscription;
  onAbort?: () => void;
}

/**
 * One submitted request: the envelope the pipeline carries, and how to answer its caller (exactly once).
 * It holds nothing else: while the engine runs, the engine holds every unanswered submission, and on a defect it
 * hands them all back (`EngineOutput.failed`), so no list of them is kept here.
 */
class Submission<T, R> implements Envelope<T> {
  extras: CallExtras | undefined = undefined;

  constructor(
    readonly request: T,
    readonly arrivedAt: number,
    /** Undefined once the caller has been answered. */
    private answer: Answer<T, R> | undefined,
    private readonly fail?: (error: unknown) => void,
  ) {}

  get priority(): number | undefined {
    return this.extras?.priority;
  }
  get scope(): DedupScope {
    return this.extras?.scope;
  }
  get timeoutMs(): number | undefined {
    return this.extras?.timeoutMs;
  }
  get signal(): AbortSignal | undefined {
    return this.extras?.signal;
  }

  /** Answers the caller unless it was answered already. */
  settle(ok: boolean, valueOrError: unknown, batchId: number, deduplicated: boolean, latencyMs: number): void {
    const answer = this.answer;
    if (answer === undefined) return;
    this.answer = undefined;
    const extras = this.extras;
    if (extras) {
      extras.timer?.unsubscribe();
      if (extras.onAbort) extras.signal!.removeEventListener('abort', extras.onAbort);
    }
    if (typeof answer !== 'function') {
      answer.onResult(toBatchResult(this.request, ok, valueOrError, batchId, deduplicated, latencyMs));
    } else if (ok) answer(valueOrError as R);
    else this.fail!(valueOrError);
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
 * @param options the options of `batchDedup`
 * @return a running batcher; call `close()` to drain it
 */
export function createBatcher<T, R>(options: BatchDedupOptions<T, R>): Batcher<T, R> {
  const config = new PipelineConfig<T, R>('createBatcher', options);
  const { scheduler, stats } = config;
  const clock = arrivalClock(scheduler);
  let closed = false;
  let failure: { error: unknown } | undefined;
  let drained!: () => void;
  const whenDrained = new Promise<void>((resolve) => (drained = resolve));

  const engine = new BatchEngine<T, R, Submission<T, R>>(config, {
    answer: (submission, ok, valueOrError, batchId, deduplicated, latencyMs) =>
      submission.settle(ok, valueOrError, batchId, deduplicated, latencyMs),
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
    submission.settle(false, error, 0, false, scheduler.now() - submission.arrivedAt);
  }

  function submit(
    request: T,
    options: ProcessOptions | undefined,
    answer: Answer<T, R>,
    fail?: (error: unknown) => void,
  ): void {
    if (closed) throw failure ? failure.error : new BatcherClosedError();
    const checked = options === undefined ? undefined : checkProcessOptions(options);
    const submission = new Submission<T, R>(request, clock(), answer, fail);
    if (checked !== undefined) {
      const { timeoutMs, signal } = checked;
      const extras: CallExtras = { priority: checked.priority, scope: checked.scope, timeoutMs, signal };
      submission.extras = extras;
      if (signal) {
        if (signal.aborted) {
          reject(submission, signal.reason);
          return;
        }
        extras.onAbort = () => reject(submission, signal.reason);
        signal.addEventListener('abort', extras.onAbort, { once: true });
      }
      if (timeoutMs !== undefined) {
        extras.timer = scheduler.schedule(
          () => reject(submission, new BatchTimeoutError(`no result within ${timeoutMs} ms (timeoutMs)`, timeoutMs)),
          timeoutMs,
        );
      }
    }
    try {
      engine.push(submission);
    } catch (error) {
      const held = engine.dispose();
      held.push(submission);
      failAll(error, held);
    }
  }

  function process(request: T, options?: ProcessOptions): Promise<R> {
    return new Promise<R>((resolve, reject) => submit(request, options, resolve, reject));
  }

  return {
    process,
    processAll(requests, options) {
      return Promise.all(Array.from(requests, (request) => process(request, options)));
    },
    processStreaming(requests, options) {
      return {
        async *[Symbol.asyncIterator]() {
          const ready: BatchResult<T, R>[] = [];
          let wake: (() => void) | undefined;
          let outstanding = 0;
          for (const request of requests) {
            outstanding++;
            submit(request, options, {
              onResult: (result) => {
                ready.push(result);
                wake?.();
              },
            });
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
      config.update(partial);
    },
    close() {
      if (!closed) {
        closed = true;
        engine.close();
      }
      return whenDrained;
    },
    get closed() {
      return closed;
    },
  };
}

function checkProcessOptions(options: ProcessOptions): ProcessOptions {
  const where = 'process';
  const o = check.optionsObject(where, options);
  if (o.priority !== undefined) check.finite(where, 'priority', o.priority);
  if (o.timeoutMs !== undefined) check.duration(where, 'timeoutMs', o.timeoutMs);
  if (!isScope(o.scope)) check.fail(where, `scope must be ${SCOPE_TYPES}, got ${describeValue(o.scope)}`, TypeError);
  if (o.signal !== undefined) {
    const s = o.signal as Partial<AbortSignal> | null;
    if (!s || typeof s.aborted !== 'boolean' || typeof s.addEventListener !== 'function') {
      check.fail(where, 'signal must be an AbortSignal', TypeError);
    }
  }
  return o;
}
