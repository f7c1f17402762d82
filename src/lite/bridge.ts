/**
 * `/lite`'s `createBatcher` on the lean core (its default path, src/lite/lean.ts): a promise bridge with `process`,
 * `processAll`, `close()`, per-call `signal`, `timeoutMs` and `scope`, and the core's counters. `configure`,
 * `processStreaming` and `stats$` are the engine's: here they throw a `TypeError` naming `engine()` and its import.
 * What it drops beside the engine's: docs/decisions.md, "The lean core for /lite: measured" and "The switch of
 * /lite to the lean core (stop 18)".
 */
import type { Subscription } from 'rxjs';
import { arrivalClock } from '../internal/arrivalClock.js';
import { scheduleAfter } from '../base/timer.js';
import * as check from '../base/validate.js';
import { abortReason, abortState, abortedIsBoolean } from '../base/signal.js';
import { describeThrown, describeValue } from '../base/describeValue.js';
import { forget } from '../internal/collector.js';
import { isScope, SCOPE_TYPES, type DedupScope } from '../dedup/keys.js';
import { BatcherClosedError, BatchTimeoutError } from '../errors.js';
import { leanCore, leanSettings, type LeanCounts, type LeanEntry, type LeanOptions } from './core.js';

const PROCESS = 'createBatcher.process';

export interface LeanProcessOptions {
  /** Reject with `BatchTimeoutError` if no result within this many ms (waiting or executing). */
  timeoutMs?: number;
  /** Aborting rejects at once with the signal's reason; a request whose batch has not formed is never executed. */
  signal?: AbortSignal;
  /** Overrides `scope(request)`. */
  scope?: DedupScope;
}

/** `createBatcher` of `/lite` on the lean core: no `configure`, `processStreaming` nor `stats$` (they need `engine()`). */
export interface LeanBatcher<T, R> {
  process(request: T, options?: LeanProcessOptions): Promise<R>;
  processAll(requests: Iterable<T>, options?: LeanProcessOptions): Promise<R[]>;
  /** The counters: `totalRequests`, `totalBatches`, `deduplicated`. */
  getStats(): LeanCounts;
  /** Refuses new requests (`BatcherClosedError`), sends what waits, resolves once every request is answered. */
  close(): Promise<void>;
  readonly closed: boolean;
}

/** One call's options, shared by its requests: one timer and one listener, removed when the last is answered. */
interface Call<T> {
  readonly scope: DedupScope;
  /** Its signal: a batch leaves out a request of the call once it has aborted (see `LeanEntry.sig`). */
  readonly signal: AbortSignal | undefined;
  readonly own: boolean;
  /** Its signal aborted or its deadline passed, with what its requests are refused with: those it submits after too. */
  readonly over: { reason: unknown } | undefined;
  /** Lists a request of the call, for a withdrawal. */
  add(entry: Entry<T>): void;
  /** One of its requests was answered, or it has submitted all of them. */
  done(): void;
}

interface Entry<T> extends LeanEntry<T> {
  readonly resolve: (value: unknown) => void;
  readonly call: Call<T> | undefined;
}

/** What the lean batcher lacks: the engine's, named with how to get it. */
function needsEngine(name: string): () => never {
  return () =>
    check.fail(
      `createBatcher.${name}`,
      "this batcher runs on /lite's lean core: create it with engine: engine() (import { engine } from 'rxjs-batch-dedup/lite'), or with adaptiveWindow(), priorities() or resultCache(), to have it",
      TypeError,
    );
}

export function leanBatcher<T, R>(options: Omit<LeanOptions<T, R>, 'signal'>): LeanBatcher<T, R> {
  const settings = leanSettings('createBatcher', options as LeanOptions<T, R>, {
    signal: 'signal is an option of batchDedup; with createBatcher pass it per call: process(request, { signal })',
  });
  const { scheduler } = settings;
  // One reading per synchronous burst on the real clock, as the engine's bridge: a reading per call was a sixth of
  // this core's cost per request (src/internal/arrivalClock.ts).
  const clock = arrivalClock(scheduler);
  let closed = false;
  let pending = 0;
  let drained!: () => void;
  // Resolved with a settled promise: every rejection of an answer (two turns) has settled when close() resolves.
  const whenDrained = new Promise<void>((resolve) => (drained = () => resolve(Promise.resolve())));
  const core = leanCore<T, R, Entry<T>>(settings, {
    answer: (entry, ok, valueOrError) => {
      entry.call?.done();
      entry.resolve(ok ? valueOrError : Promise.reject(valueOrError));
      if (--pending === 0 && closed) closeNow();
    },
    drained: () => drained(),
  });

  /** Closed, and every request answered: what still runs is owed to nobody. */
  function closeNow(): void {
    core.dispose();
    drained();
  }

  function openCall(options: LeanProcessOptions | undefined): Call<T> | undefined {
    if (closed) throw new BatcherClosedError();
    if (options === undefined) return undefined;
    // Read once: the values checked below are the values the call uses, and a field that throws is named.
    const o = check.readOnce(PROCESS, check.optionsObject(PROCESS, options));
    for (const name in o) {
      const value = (o as Record<string, unknown>)[name];
      if (value === undefined || ['timeoutMs', 'signal', 'scope'].includes(name)) continue;
      if (name === 'priority') {
        check.fail(
          PROCESS,
          `priority ${describeValue(value)} was given but no priorities() is given, so nothing would order by it; create the batcher with priorities: priorities() (import { priorities } from 'rxjs-batch-dedup/lite') to order requests by priority, or leave priority out`,
          TypeError,
        );
      }
      check.fail(PROCESS, `unknown option ${name}; it takes timeoutMs, signal, scope`, TypeError);
    }
    const { timeoutMs, signal, scope } = o;
    if (timeoutMs !== undefined) check.durationOrNever(PROCESS, 'timeoutMs', timeoutMs);
    if (!isScope(scope)) check.fail(PROCESS, `scope must be ${SCOPE_TYPES}, got ${describeValue(scope)}`, TypeError);
    if (signal !== undefined) {
      const s = signal as Partial<AbortSignal> | null;
      if (!s || !abortedIsBoolean(s) || typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
        check.fail(PROCESS, 'signal must be an AbortSignal', TypeError);
      }
    }
    const members: Entry<T>[] = [];
    const withdrawAll = (error: unknown) => {
      // Those waiting first: withdrawing the last caller of a batch stops it and frees its slot at once, and the
      // next batch must not take a request of this call the loop has not reached yet (sent after the caller left).
      for (const member of members) if (!member.run) core.withdraw(member, error);
      for (const member of members) if (member.run) core.withdraw(member, error);
    };
    let over = signal && abortState(signal, PROCESS);
    let onAbort: (() => void) | undefined;
    if (signal && !over) {
      onAbort = () => {
        // Kept for the requests the call submits after this (an iterable that aborts while read): refused at once.
        over ??= { reason: abortReason(signal, PROCESS) };
        withdrawAll(over.reason);
      };
      try {
        signal.addEventListener('abort', onAbort, { once: true });
      } catch (error) {
        throw new TypeError(`${PROCESS}: signal.addEventListener('abort') threw: ${describeThrown(error)}`, { cause: error });
      }
    }
    let timer: Subscription | undefined;
    if (timeoutMs !== undefined) {
      // Kept as the abort is: on a scheduler that runs a zero delay at once (queueScheduler) the deadline passes
      // here, before the call has submitted anything, and its requests must still be refused.
      timer = scheduleAfter(
        scheduler,
        () => {
          over ??= { reason: new BatchTimeoutError(`no result within ${timeoutMs} ms (timeoutMs)`, timeoutMs) };
          withdrawAll(over.reason);
        },
        timeoutMs,
      );
    }
    let open = 1;
    return {
      scope,
      signal,
      own: timeoutMs !== undefined,
      get over() {
        return over;
      },
      add(entry) {
        members.push(entry);
        open++;
      },
      done() {
        if (--open > 0) return;
        timer?.unsubscribe();
        if (onAbort) forget(signal!, onAbort);
      },
    };
  }

  function submit(request: T, call: Call<T> | undefined, resolve: (value: unknown) => void): void {
    if (closed) throw new BatcherClosedError();
    const entry: Entry<T> = { request, at: clock(), scope: call?.scope, ownDeadline: call?.own, sig: call?.signal, resolve, call };
    pending++;
    call?.add(entry);
    if (call?.over) {
      core.counts.totalRequests++;
      core.withdraw(entry, call.over.reason);
      return;
    }
    core.push(entry);
  }

  const missing = needsEngine('stats$');
  const batcher: LeanBatcher<T, R> = {
    process(request, options) {
      return new Promise<R>((resolve) => {
        const call = openCall(options);
        try {
          submit(request, call, resolve as (value: unknown) => void);
        } finally {
          call?.done();
        }
      });
    },
    processAll(requests, options) {
      let call: Call<T> | undefined;
      const answers: Promise<R>[] = [];
      try {
        call = openCall(options);
        if (typeof (requests as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
          check.fail('createBatcher.processAll', `requests must be iterable, got ${describeValue(requests)}`, TypeError);
        }
        for (const request of requests) answers.push(new Promise<R>((resolve) => submit(request, call, resolve as (value: unknown) => void)));
      } catch (error) {
        // Those taken in before the iterable failed still run; their answers reach no caller.
        for (const answer of answers) answer.catch(() => undefined);
        return Promise.reject(error);
      } finally {
        call?.done();
      }
      return Promise.all(answers);
    },
    getStats: () => ({ ...core.counts }),
    close() {
      if (!closed) {
        closed = true;
        core.close();
        if (pending === 0) closeNow();
      }
      return whenDrained;
    },
    get closed() {
      return closed;
    },
  };
  return Object.defineProperties(batcher, {
    configure: { value: needsEngine('configure') },
    processStreaming: { value: needsEngine('processStreaming') },
    stats$: { get: missing },
  });
}
