/**
 * The lean core: a spike (issue 18, stop 17) measuring how small `/lite`'s default path can be. Not exported from
 * any entry point. It batches with the operators' `WindowCollector` over a plain `FifoQueue` (the window rules of
 * `bufferWindow`), dedups each batch exactly by key and scope (the encoding of src/dedup/keys.ts), runs at most
 * `concurrency` batches, bounds each with `processingTimeoutMs`, and answers every request exactly once with its
 * own result. What it keeps and drops, with the bytes: docs/decisions.md, "The lean core for /lite: measured".
 *
 * Closures rather than classes: the minifier renames local variables, never properties or methods (save `LeanContext`,
 * one per batch, whose getter is shared on its prototype).
 */
import { asyncScheduler, from, type ObservableInput, type SchedulerLike, type Subscription } from 'rxjs';
import { WindowCollector, forget } from '../internal/collector.js';
import { slotQueue } from './slotQueue.js';
import { resolveWindowSettings, type WindowOptions, type WindowSettings } from '../internal/windowSettings.js';
import * as check from '../base/validate.js';
import { scheduleAfter } from '../base/timer.js';
import { elapsed } from '../base/clock.js';
import { abortReason, abortState, abortedIsBoolean } from '../base/signal.js';
import { describeThrown, describeValue } from '../base/describeValue.js';
import {
  checkedKey,
  checkedScope,
  customSlotKey,
  defaultSlotKey,
  isEncoded,
  type DedupKey,
  type DedupScope,
} from '../dedup/keys.js';
import { BatchResultMismatchError, BatchTimeoutError } from '../errors.js';
import type { ExecuteContext } from '../types.js';

/** What the lean core's `execute` may return: the results in the order of `items`, or a promise or observable of them. */
export type LeanExecuteFn<T, R> = (items: T[], context: ExecuteContext) => R[] | PromiseLike<R[]> | ObservableInput<R[]>;

/** The options the lean core takes; any other option name is refused at creation, naming it. */
export interface LeanOptions<T, R> extends WindowOptions {
  /** The backend call for one batch of unique requests. */
  execute: LeanExecuteFn<T, R>;
  scheduler?: SchedulerLike;
  /** Batches executing at once. Default 4. */
  concurrency?: number;
  /** A batch unfinished after this long is stopped (its signal aborts) and its requests rejected. Default 30000. */
  processingTimeoutMs?: number;
  /** Only 'reject' (the default): the one-by-one retry needs the full engine. */
  onTimeout?: 'reject';
  /** The dedup key; default the request itself (`stableKey` rules for objects). */
  key?: (request: T) => DedupKey;
  scope?: (request: T) => DedupScope;
  /** Default true. */
  enableDedup?: boolean;
  /** Only 'exact' (the default). */
  dedupStrategy?: 'exact';
  /** An equal request arriving while one executes joins it. Default true (when the core is built with joins). */
  dedupInFlight?: boolean;
  /** `batchDedup` only: aborting withdraws the request while it waits for a batch. */
  signal?: (request: T) => AbortSignal | null | undefined;
  /** A request still waiting for a batch this long after arrival is rejected with `BatchTimeoutError`. */
  requestTimeoutMs?: number;
}

/**
 * Unlisted keys the slot tables may hold beyond twice the listed ones before they are rebuilt (see `unlistKey`).
 */
export const SWEEP_SLACK = 1024;

const NAMES = [
  'windowMs',
  'maxSize',
  'minSize',
  'maxWaitMs',
  'scheduler',
  'execute',
  'concurrency',
  'processingTimeoutMs',
  'onTimeout',
  'key',
  'scope',
  'enableDedup',
  'dedupStrategy',
  'dedupInFlight',
  'signal',
  'requestTimeoutMs',
];

/** Where `/lite` leaves similarity dedup, and how to get it. */
const SIMILARITY_FIX = "import from 'rxjs-batch-dedup' (or 'rxjs-batch-dedup/operators'), which has it; 'rxjs-batch-dedup/lite' leaves it out to stay small";

/** The options only similarity dedup reads. */
const SIMILARITY = ['embed', 'text', 'metric', 'mergeGuard', 'embedCacheSize', 'embedTimeoutMs', 'embedAhead'];

/**
 * The engine's options, by the object of `/lite` that brings the engine with them (any of them brings all: see
 * src/lite/engine.ts). `false` for a feature is off, as the engine reads it.
 */
const BROUGHT_BY: Record<string, string> = {
  adaptive: 'adaptiveWindow',
  targetLatencyMs: 'adaptiveWindow',
  minWindowMs: 'adaptiveWindow',
  maxWindowMs: 'adaptiveWindow',
  enablePriorities: 'priorities',
  priorities: 'priorities',
  priority: 'priorities',
  priorityAgingPerSecond: 'priorities',
  resultCache: 'resultCache',
  engine: 'engine',
  stats: 'engine',
  maxQueueSize: 'engine',
  dedupFunction: 'engine',
  dedupThreshold: 'engine',
  costPerRequestUsd: 'engine',
  onTimeout: 'engine',
};
const FEATURES = ['adaptive', 'enablePriorities', 'priorities', 'resultCache', 'engine'];

/**
 * An option the lean path does not take: refused naming what to import to get it (the object that brings the
 * engine, or the entry point with similarity dedup); never ignored.
 */
function refuse(where: string, name: string, value: unknown): void {
  if (SIMILARITY.includes(name)) check.fail(where, `${name} is an option of similarity dedup: ${SIMILARITY_FIX}`, TypeError);
  const factory = BROUGHT_BY[name];
  if (!factory) {
    check.fail(where, `unknown option ${name}; /lite takes ${NAMES.join(', ')}, and the engine's options with engine()`, TypeError);
  }
  if (value === false && FEATURES.includes(name)) return;
  if (name === 'priorities') check.fail(where, `priorities must be made by priorities(), got ${describeValue(value)}`, TypeError);
  if (name === 'priority') {
    check.fail(
      where,
      "priority is set but no priorities() is given, so nothing would order by it; add priorities: priorities({ priority }) (import { priorities } from 'rxjs-batch-dedup/lite'), or leave priority out",
      TypeError,
    );
  }
  check.fail(
    where,
    `${name}: ${describeValue(value)} needs ${factory}() in rxjs-batch-dedup/lite: import { ${factory} } from 'rxjs-batch-dedup/lite'`,
    TypeError,
  );
}

export interface LeanSettings<T, R> {
  readonly where: string;
  readonly window: WindowSettings;
  readonly scheduler: SchedulerLike;
  readonly execute: LeanExecuteFn<T, R>;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** The request's slot key (checked), or undefined without dedup. */
  readonly key: ((request: T) => unknown) | undefined;
  readonly scope: ((request: T) => DedupScope) | undefined;
  readonly joins: boolean;
  readonly signal: ((request: T) => unknown) | undefined;
  readonly requestTimeoutMs: number;
}

/**
 * Checks every option at creation; a wrong one throws naming the operator and the option.
 * @param refused option names this front end does not take (`signal` for createBatcher), with why
 */
export function leanSettings<T, R>(where: string, options: LeanOptions<T, R>, refused?: Record<string, string>): LeanSettings<T, R> {
  const raw = check.optionsObject(where, options);
  for (const name in raw) {
    const value = (raw as unknown as Record<string, unknown>)[name];
    if (value === undefined) continue;
    if (refused?.[name]) check.fail(where, refused[name], TypeError);
    if (name === 'dedupStrategy' && (value === 'embedding' || value === 'hybrid')) {
      check.fail(where, `dedupStrategy '${value}' is similarity dedup: ${SIMILARITY_FIX}. A dedupFunction works with engine()`, TypeError);
    }
    if (!NAMES.includes(name) || (name === 'onTimeout' && value === 'individual')) refuse(where, name, value);
    // Read with `??` below, null would be taken for the default (see check.notNull).
    check.notNull(where, raw, name);
  }
  check.scheduler(where, raw.scheduler);
  const dedup = raw.enableDedup === undefined || check.boolean(where, 'enableDedup', raw.enableDedup);
  if (raw.dedupStrategy !== undefined) check.oneOf(where, 'dedupStrategy', raw.dedupStrategy, ['exact']);
  if (raw.onTimeout !== undefined) check.oneOf(where, 'onTimeout', raw.onTimeout, ['reject']);
  const key = check.optionalFunction<(request: T) => unknown>(where, 'key', raw.key);
  const scope = check.optionalFunction<(request: T) => unknown>(where, 'scope', raw.scope);
  const keyOf = key ? checkedKey(where, key) : (request: T) => request;
  const slotOf = key ? customSlotKey(where) : defaultSlotKey(where);
  return {
    where,
    window: resolveWindowSettings(where, raw),
    scheduler: raw.scheduler ?? asyncScheduler,
    execute: check.requiredFunction<LeanExecuteFn<T, R>>(where, 'execute', raw.execute),
    concurrency: check.count(where, 'concurrency', raw.concurrency ?? 4, 1, true),
    timeoutMs: check.durationOrNever(where, 'processingTimeoutMs', raw.processingTimeoutMs ?? 30_000, 1),
    key: dedup
      ? (request) => {
          const raw = keyOf(request);
          const slot = slotOf(raw);
          // Encodings and plain strings in one table: a mark of their own keeps `'[1]'` apart from `[1]`.
          return isEncoded(raw) ? `e${slot as string}` : typeof slot === 'string' ? `s${slot}` : slot;
        }
      : undefined,
    scope: scope && checkedScope(where, scope),
    joins: dedup && (raw.dedupInFlight === undefined || check.boolean(where, 'dedupInFlight', raw.dedupInFlight)),
    signal: check.optionalFunction<(request: T) => unknown>(where, 'signal', raw.signal),
    requestTimeoutMs: check.durationOrNever(where, 'requestTimeoutMs', raw.requestTimeoutMs ?? Infinity, 1),
  };
}

/** One request in the core. The front end makes it; the core writes the fields below `scope`. */
export interface LeanEntry<T> {
  readonly request: T;
  /** Arrival, in scheduler time: `maxWaitMs` and `latencyMs` count from here. */
  readonly at: number;
  /** The caller's own scope (`process(request, { scope })`), over `scope(request)`. */
  readonly scope?: DedupScope;
  /** The caller keeps a deadline of its own: `requestTimeoutMs` does not apply. */
  readonly ownDeadline?: boolean;
  /**
   * The caller's signal, whose abort the front end answers (the promise bridge's call listener): a batch leaves
   * the entry out once it has aborted, even before that listener has run (see `form`).
   */
  readonly sig?: AbortSignal | undefined;
  /** Answered. */
  done?: boolean;
  /** Its slot key and scope, read once at arrival. */
  k?: unknown;
  s?: DedupScope;
  /** The batch it went into. */
  run?: Run<T> | undefined;
  /** The slot it waits in, until its batch forms. */
  q?: Slot<T> | undefined;
  /** It shares the execution of an earlier equal request. */
  f?: boolean;
  /** Ends its waiting watch (deadline timer, abort listener). */
  stop?: (() => void) | undefined;
}

/**
 * Equal requests (same scope and key) in one place: a slot waits in the queue, then executes; a request equal to
 * one waiting joins its slot at arrival (so it counts toward neither `maxSize` nor `minSize`), and, with joins,
 * one equal to a slot executing joins it there.
 */
export interface Slot<T> {
  /** The first arrival's: `maxWaitMs` counts from here. */
  readonly at: number;
  readonly s: DedupScope;
  readonly k: unknown;
  /** Its requests, in arrival order; the first one still unanswered is the one executed. */
  m: LeanEntry<T>[];
  /** The batch it executes in. */
  run?: Run<T>;
  /** Set by the queue: no longer waiting in it. */
  gone?: boolean;
}

/**
 * A batch's `context`, its AbortController made on the first read of `signal` (most backends never read it): a
 * class, so every context shares one hidden class and the getter sits on the prototype. A context stopped before
 * its signal is read hands out a signal aborted with the stop's reason.
 */
export class LeanContext implements ExecuteContext {
  readonly individual = false;
  /** Its controller, once `signal` was read. */
  private c: AbortController | undefined;
  /** Stopped, with `r` the reason. */
  private s = false;
  private r: unknown;

  constructor(readonly batchId: number) {}

  get signal(): AbortSignal {
    if (!this.c) {
      this.c = new AbortController();
      if (this.s) this.c.abort(this.r);
    }
    return this.c.signal;
  }

  abort(reason: unknown): void {
    if (this.s) return;
    this.s = true;
    this.r = reason;
    this.c?.abort(reason);
  }
}

/** One executing batch. */
export interface Run<T> {
  id: number;
  /** The requests of each unique item, its leader first, then in arrival order (late joiners last). */
  readonly members: LeanEntry<T>[][];
  readonly unique: T[];
  /** Its `context`, made as it executes. */
  control?: LeanContext;
  sub?: Subscription | undefined;
  timer?: Subscription | undefined;
  done?: boolean;
}

export interface LeanOwner<E> {
  answer(entry: E, ok: boolean, valueOrError: unknown, batchId: number, deduplicated: boolean, latencyMs: number): void;
  /** Closed, and every request answered and every batch ended. */
  drained(): void;
}

/** The counters of `BatchStats` the core keeps (names as there). */
export interface LeanCounts {
  totalRequests: number;
  totalBatches: number;
  deduplicated: number;
  /** Items sent to the backend (the unique requests of every batch). */
  executedItems: number;
}

export interface LeanCore<E> {
  push(entry: E): void;
  /** Answers an entry now with `error` (its caller's deadline or signal); a batch nobody waits for any more is stopped. */
  withdraw(entry: E, error: unknown): void;
  /** No more pushes: everything waiting is due; `drained` once all is answered. */
  close(): void;
  /** Stops everything now: timers, listeners, executions (their signals abort). Unanswered entries stay unanswered. */
  dispose(): void;
  readonly counts: LeanCounts;
}

export function leanCore<T, R, E extends LeanEntry<T>>(settings: LeanSettings<T, R>, owner: LeanOwner<E>): LeanCore<E> {
  const { where, scheduler, execute, concurrency, timeoutMs, key, scope, requestTimeoutMs } = settings;
  const counts: LeanCounts = { totalRequests: 0, totalBatches: 0, deduplicated: 0, executedItems: 0 };
  const runs = new Set<Run<T>>();
  /** The slots of waiting requests, and (with joins) of executing ones, by scope and key. */
  const slots = new Map<DedupScope, Map<unknown, Slot<T> | undefined>>();
  /** Keys the slot tables hold, unlisted ones included (see `unlistKey`), and those with a slot. */
  let held = 0;
  let listed = 0;
  let running = 0;
  let closing = false;
  let ended = false;
  /** Pushes calling user functions (key, scope, signal), which may close or dispose the core, or push again. */
  let pushing = 0;
  let release: (() => void) | undefined;
  const queue = slotQueue<Slot<T>>();

  const collector = new WindowCollector<Slot<T>>(
    {
      scheduler,
      settings: () => settings.window,
      arrivedAt: (slot) => slot.at,
      feedback: {
        hasCapacity: () => running < concurrency,
        reserve: () => void running++,
        onRelease: (listener) => {
          // The collector's listener reads no report (only an adaptive window would).
          release = listener as () => void;
          return () => (release = undefined);
        },
      },
      emit: form,
      onDrained: checkEnd,
    },
    queue,
  );

  /** @param now when it is answered: a batch's answers share one reading (see `end`) */
  function answer(entry: LeanEntry<T>, ok: boolean, valueOrError: unknown, batchId: number, now = scheduler.now()): void {
    if (entry.done) return;
    entry.done = true;
    entry.stop?.();
    owner.answer(entry as E, ok, valueOrError, batchId, entry.f === true, elapsed(entry.at, now));
  }

  function push(entry: E): void {
    counts.totalRequests++;
    let signal: AbortSignal | undefined;
    pushing++;
    try {
      if (key) {
        entry.s = entry.scope ?? scope?.(entry.request);
        entry.k = key(entry.request);
      }
      signal = signalOf(entry.request);
    } catch (error) {
      answer(entry, false, error, 0);
    } finally {
      pushing--;
    }
    // Disposed from inside one of them (an unsubscription): nothing more may start. Answered: done.
    if (ended || entry.done) return checkEnd();
    admit(entry, signal);
    // Closed from inside one of them: the request is in now, and the end waits for it.
    checkEnd();
  }

  function admit(entry: E, signal: AbortSignal | undefined): void {
    // Aborted before it arrived: refused, even when an equal request executes (as the engine refuses it).
    const aborted = signal && abortState(signal, `${where}: signal(request)`);
    if (aborted) {
      answer(entry, false, aborted.reason, 0);
      return;
    }
    const slot = key && slots.get(entry.s)?.get(entry.k);
    // Equal to one executing: shares its execution (only listed with joins on).
    if (slot && slot.run) return join(slot, entry, slot.run);
    if (signal || (requestTimeoutMs < Infinity && !entry.ownDeadline)) {
      try {
        watch(entry, signal);
      } catch (error) {
        answer(entry, false, new TypeError(`${where}: signal(request) returned a signal whose addEventListener('abort') threw: ${describeThrown(error)}`, { cause: error }), 0);
        return;
      }
    }
    // Equal to one waiting: rides its slot.
    if (slot) return join(slot, entry);
    const fresh: Slot<T> = { at: entry.at, s: entry.s, k: entry.k, m: [entry] };
    entry.q = fresh;
    if (key) {
      let keys = slots.get(entry.s);
      if (!keys) slots.set(entry.s, (keys = new Map()));
      held -= keys.size;
      keys.set(entry.k, fresh);
      held += keys.size;
      listed++;
    }
    collector.push(fresh);
  }

  function join(slot: Slot<T>, entry: E, run?: Run<T>): void {
    entry.run = run;
    entry.q = slot;
    entry.f = true;
    counts.deduplicated++;
    slot.m.push(entry);
  }

  /** `signal(request)`, checked: a throw or anything but a signal rejects that request alone. */
  function signalOf(request: T): AbortSignal | undefined {
    const s = settings.signal?.(request) as Partial<AbortSignal> | null | undefined;
    if (s == null) return undefined;
    if (!abortedIsBoolean(s) || typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
      throw new TypeError(`${where}: signal(request) returned ${describeValue(s)}; it must return an AbortSignal, undefined or null`);
    }
    return s as AbortSignal;
  }

  /** While it waits for a batch: its deadline and its signal take it out. */
  function watch(entry: E, signal: AbortSignal | undefined): void {
    const onAbort = () => withdraw(entry, abortReason(signal!, `${where}: signal(request)`));
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      entry.ownDeadline || requestTimeoutMs === Infinity
        ? undefined
        : scheduleAfter(
            scheduler,
            () =>
              withdraw(
                entry,
                new BatchTimeoutError(`request waited longer than ${requestTimeoutMs} ms for a batch (requestTimeoutMs)`, requestTimeoutMs),
              ),
            requestTimeoutMs,
          );
    entry.stop = () => {
      entry.stop = undefined;
      timer?.unsubscribe();
      if (signal) forget(signal, onAbort);
    };
  }

  function withdraw(entry: E, error: unknown): void {
    const run = entry.run;
    const slot = entry.q;
    // Its slot, waiting with nobody else left in it, leaves the queue now, before the answer runs anything: it no
    // longer counts toward maxSize or minSize, nor holds maxWaitMs, nor takes joins (as in the engine, row 33).
    const leaves = !run && slot && !slot.gone && slot.m.every((e) => e === entry || e.done);
    if (leaves) {
      queue.remove(slot);
      unlist(slot);
    }
    answer(entry, false, error, run ? run.id : 0);
    if (leaves) {
      collector.refresh();
      checkEnd();
    }
    // A batch that nobody waits for any more is stopped, and its slot freed.
    if (run && !run.done && run.members.every((m) => m.every((e) => e.done))) end(run, error, true);
  }

  /** A batch is due: execute one item per slot (equal requests joined their slot at arrival). */
  function form(batch: Slot<T>[]): void {
    const members: LeanEntry<T>[][] = [];
    const unique: T[] = [];
    const run: Run<T> = { id: 0, members, unique, control: undefined };
    /** Entries whose caller's signal has aborted, its listener not run yet, with the reason: left out, answered below. */
    let left: [LeanEntry<T>, unknown][] | undefined;
    const stays = (entry: LeanEntry<T>): boolean => {
      if (entry.done) return false;
      // Several calls may share one signal: the listener of one withdrew its request, which stopped its batch and
      // freed the slot this batch takes, before the listener of this entry's call has run. Never sent.
      const aborted = entry.sig && abortState(entry.sig, where);
      if (!aborted) return true;
      (left ??= []).push([entry, aborted.reason]);
      return false;
    };
    for (const slot of batch) {
      // Withdrawn while they waited: never executed.
      // (A slot with nobody left in it has left the queue: see withdraw.)
      const live = (slot.m = slot.m.filter(stays));
      if (!settings.joins || live.length === 0) unlist(slot);
      // Everyone in it left just now (see `stays`): nothing to execute for it, and it takes no join.
      if (live.length === 0) continue;
      slot.run = run;
      const first = live[0]!;
      // The first to arrive left: the next one is executed in its place, on its own behalf.
      if (first.f) {
        first.f = false;
        counts.deduplicated--;
      }
      for (const entry of live) {
        entry.stop?.();
        entry.run = run;
        entry.q = undefined;
      }
      unique.push(first.request);
      members.push(live);
    }
    if (left !== undefined) {
      // Answered once this batch is under way (or its slot given back), as their own listener would answer them.
      const answerLeft = left;
      const answerAll = () => {
        for (const [entry, reason] of answerLeft) withdraw(entry as E, reason);
      };
      if (unique.length === 0) {
        running--;
        release?.();
        answerAll();
        checkEnd();
        return;
      }
      launch(run);
      answerAll();
      return;
    }
    launch(run);
  }

  /** Executes a formed batch: its unique items, `run.unique`. */
  function launch(run: Run<T>): void {
    const { unique } = run;
    run.id = ++counts.totalBatches;
    counts.executedItems += unique.length;
    runs.add(run);
    const context = (run.control = new LeanContext(run.id));
    // The processing timeout counts from here, but is armed only for a call still running after its synchronous
    // part, as the engine does (src/internal/batchRun.ts, `launch`): on the real clock a microtask later, after the
    // reactions of a promise resolved already, so a backend that answers at once (an array, a resolved promise)
    // costs no timer set and cleared; on any other clock (a TestScheduler, a virtual one) right after the call, with
    // the same deadline.
    const launchedAt = scheduler.now();
    const late = scheduler === asyncScheduler && Math.abs(launchedAt - Date.now()) <= 1000;
    let output: unknown;
    let array: boolean;
    try {
      output = execute(unique.slice(), context);
      // In the try: a revoked Proxy throws here too, and fails its batch.
      array = Array.isArray(output);
    } catch (error) {
      end(run, error);
      return;
    }
    if (array) {
      deliver(run, output);
      return;
    }
    if (output !== null && (typeof output === 'object' || typeof output === 'function')) {
      // A promise (any thenable): its `then` called directly, as the engine does, rather than `from(promise)` and a
      // Subscriber per batch. Read once: a getter could answer differently, or throw (a malformed answer, as `from`
      // found it).
      let then: unknown;
      try {
        then = (output as { then?: unknown }).then;
      } catch {
        end(run, mismatch(run, `returned ${describeValue(output)}`), true);
        return;
      }
      if (typeof then === 'function') {
        try {
          // `deliver` and `end` turn away whatever comes after the first outcome, or after the batch was stopped.
          (then as PromiseLike<unknown>['then']).call(
            output,
            (value) => deliver(run, value),
            (error: unknown) => end(run, error),
          );
        } catch (error) {
          // A `then` that throws (before or after calling back): what it had not answered gets what it threw.
          end(run, error);
        }
        arm(run, launchedAt, late);
        return;
      }
    }
    let sub: Subscription;
    try {
      sub = from(output as ObservableInput<unknown>).subscribe({
        next: (value) => deliver(run, value),
        error: (error: unknown) => end(run, error),
        complete: () => end(run, mismatch(run, 'completed without results')),
      });
    } catch {
      end(run, mismatch(run, `returned ${describeValue(output)}`), true);
      return;
    }
    if (run.done) sub.unsubscribe();
    else run.sub = sub;
    arm(run, launchedAt, late);
  }

  /** Arms the processing timeout of a batch launched at `launchedAt` still running, now or (`late`) a microtask later. */
  function arm(run: Run<T>, launchedAt: number, late: boolean): void {
    // A timeout of Infinity (never) arms nothing.
    if (run.done || timeoutMs === Infinity) return;
    // A reaction to a settled promise rather than queueMicrotask, which in Node makes an AsyncResource per call.
    if (late) void Promise.resolve().then(() => armNow(run, launchedAt));
    else armNow(run, launchedAt);
  }

  function armNow(run: Run<T>, launchedAt: number): void {
    if (run.done) return;
    run.timer = scheduleAfter(
      scheduler,
      () => end(run, new BatchTimeoutError(`batch ${run.id} took longer than ${timeoutMs} ms (processingTimeoutMs)`, timeoutMs), true),
      Math.max(0, timeoutMs - elapsed(launchedAt, scheduler.now())),
    );
  }

  function mismatch(run: Run<T>, what: string, received?: number): BatchResultMismatchError {
    const n = run.unique.length;
    return new BatchResultMismatchError(
      `execute ${what}; expected an array of ${n} results, one per item, or a promise or observable of one`,
      n,
      received,
    );
  }

  /** The batch's results: each request gets its unique item's. */
  function deliver(run: Run<T>, output: unknown): void {
    if (run.done) return;
    let results: unknown[];
    let array: boolean | undefined;
    try {
      // Read once: an element that throws when read fails the batch, rather than some of its requests. A revoked
      // Proxy throws at `isArray`: the batch fails with that TypeError, as in the engine.
      array = Array.isArray(output);
      results = (output as unknown[]).slice();
    } catch (error) {
      end(run, array === false ? mismatch(run, `produced ${describeValue(output)}`) : error, true);
      return;
    }
    if (!array || results.length !== run.unique.length) {
      end(run, mismatch(run, array ? `returned ${results.length} results` : `produced ${describeValue(output)}`, array ? results.length : undefined), true);
      return;
    }
    end(run, undefined, false, results);
  }

  /**
   * The batch is over: answer its requests (each with its unique item's entry of `results` when given, else with
   * `error`), stop its timer and subscription (and abort its signal when `stop`), free its slot. Marked done before
   * any answer runs: an answer may dispose the core (the last one owed at `close()`), which must not abort a call
   * that has answered.
   */
  function end(run: Run<T>, error?: unknown, stop?: boolean, results?: unknown[]): void {
    if (run.done) return;
    run.done = true;
    run.timer?.unsubscribe();
    run.sub?.unsubscribe();
    // No more joins: an equal request arriving while the abort listeners or these answers run (re-entrant) is
    // queued anew, never answered with this batch's outcome.
    unlistRun(run);
    if (stop) run.control?.abort(error);
    // By unique item, as the engine answers: its leader, then its followers in arrival order. One clock reading for
    // the batch, as the engine's (a reading per answer was a sixth of this core's cost per request).
    const now = scheduler.now();
    run.members.forEach((m, u) => {
      for (const entry of m) answer(entry, results !== undefined, results ? results[u] : error, run.id, now);
    });
    runs.delete(run);
    running--;
    release?.();
    checkEnd();
  }

  /** A slot takes no more joins. */
  function unlist(slot: Slot<T>): void {
    const keys = slots.get(slot.s);
    if (keys?.get(slot.k) === slot) unlistKey(keys, slot.k);
  }

  /** Its slots take no more joins. */
  function unlistRun(run: Run<T>): void {
    for (const [{ s, k }] of run.members as [LeanEntry<T>][]) {
      const keys = slots.get(s);
      if (keys?.get(k)?.run === run) unlistKey(keys, k);
    }
  }

  /**
   * Empties a key's entry rather than deleting it: a Map that deletes rebuilds its table as the holes pile up, and
   * every table it discards in old space keeps the slots it held, and all they reach, alive through young-generation
   * collections until the next full one (10-20x the cost per request: docs/decisions.md, "The lean core's cost per
   * request"). The next equal request takes the entry over; the tables are rebuilt with their listed slots once the
   * empty entries outnumber those (and a slack), so memory stays in proportion to what is listed.
   */
  function unlistKey(keys: Map<unknown, Slot<T> | undefined>, k: unknown): void {
    keys.set(k, undefined);
    if (--listed * 2 + SWEEP_SLACK < held) {
      held = listed;
      for (const [s, old] of slots) {
        const live = new Map<unknown, Slot<T> | undefined>();
        for (const [other, slot] of old) if (slot) live.set(other, slot);
        if (live.size > 0) slots.set(s, live);
        else slots.delete(s);
      }
    }
  }

  function checkEnd(): void {
    if (closing && !ended && !pushing && collector.size === 0 && runs.size === 0) {
      ended = true;
      collector.dispose();
      owner.drained();
    }
  }

  return {
    push,
    withdraw,
    close() {
      closing = true;
      collector.close();
      checkEnd();
    },
    dispose() {
      ended = true;
      for (const slot of collector.dispose()) for (const entry of slot.m) entry.stop?.();
      for (const run of runs) {
        // Ending already (its answers run): it is over, not stopped.
        if (run.done) continue;
        run.done = true;
        run.timer?.unsubscribe();
        run.sub?.unsubscribe();
        run.control?.abort(undefined);
      }
      runs.clear();
    },
    counts,
  };
}
