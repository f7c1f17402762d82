/**
 * Runs a batch's distinct items through a shared store (`resultCache.store`): answered from it, waited for under
 * another process's lease, or executed here and stored. Reached only through `sharedStore()` (see sharedTier.ts),
 * so a pipeline without a store bundles none of this.
 */
import { from, Observable, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import { BatchResultMismatchError } from '../errors.js';
import type { ExecuteContext, ExecuteFn, StreamedResult } from '../types.js';
import { scheduleAfter } from '../base/timer.js';
import { describeValue } from '../base/describeValue.js';
import { describeGiven } from '../base/describeGiven.js';
import type { Slot } from './inFlight.js';
import {
  MAX_LEASE_ROUNDS,
  refusedStore,
  storeKeyOf,
  type ResultLeases,
  type SharedExecute,
  type SharedStore,
  type SharedTierSettings,
  type TierStats,
} from './sharedTier.js';

/**
 * Whether `value` has the whole shape of a `SharedStore` (`resultCache.store`). The pipeline checked that it carries
 * a `sharedExecute` function (so it is neither null nor undefined), and called it: that is not checked again.
 */
function isSharedStore(value: unknown): value is SharedStore {
  if (typeof value !== 'object') return false;
  const store = value as Partial<SharedStore>;
  if (typeof store.get !== 'function' || typeof store.set !== 'function') return false;
  const leases = store.leases as Partial<ResultLeases> | undefined;
  return (
    leases === undefined ||
    (typeof leases === 'object' &&
      leases !== null &&
      typeof leases.claim === 'function' &&
      typeof leases.release === 'function' &&
      typeof leases.wait === 'function' &&
      typeof leases.leaseMs === 'number' &&
      leases.leaseMs > 0)
  );
}

/**
 * Calls `call()` and hands its result to `ok`, or its failure (a throw, a rejection, no answer within `ms`) to
 * `fail`; the first of them decides. The store's thenable is called back directly, so a store that answers at
 * once is followed at once (and marble tests run on virtual time). `stop` runs when the call is given up before
 * it answered: its bound passed, or the returned subscription was unsubscribed.
 */
function bounded<V>(
  scheduler: SchedulerLike,
  ms: number,
  call: () => PromiseLike<V>,
  ok: (value: V) => void,
  fail: (error: unknown) => void,
  stop?: () => void,
): Subscription | undefined {
  let settled = false;
  let timer: Subscription | undefined;
  const decide = (run: () => void) => {
    if (settled) return;
    settled = true;
    timer?.unsubscribe();
    run();
  };
  try {
    const pending = call();
    const then = (pending as { then?: unknown } | null | undefined)?.then;
    if (typeof then !== 'function') throw new TypeError(`the store returned ${describeValue(pending)}, not a promise`);
    if (!settled) {
      timer = scheduleAfter(scheduler, () => decide(() => (stop?.(), fail(new Error(`no answer from the store within ${ms} ms`)))), ms);
      if (stop) timer.add(() => settled || stop());
    }
    then.call(
      pending,
      (value: V) => decide(() => ok(value)),
      (error: unknown) => decide(() => fail(error)),
    );
  } catch (error) {
    decide(() => fail(error));
  }
  return timer;
}

/** The results a store call returned, checked: an array with one entry per key. */
/**
 * A store's answer for `count` keys, checked: entry i must be key i's, or a key would be given the entry of another
 * (also used by the stores themselves on what their client answers: `who` names that call).
 */
export function perKey(values: unknown, count: number, who = 'the store'): unknown[] {
  if (!Array.isArray(values) || values.length !== count) {
    throw new TypeError(`${who} answered ${describeValue(values)} for ${count} keys; it must answer one entry per key`);
  }
  return values;
}

type Give = (k: number, ok: boolean, valueOrError: unknown) => void;

function isStreamed(x: unknown): x is StreamedResult<unknown> {
  return typeof x === 'object' && x !== null && 'index' in x;
}

/**
 * Calls the user's `execute` for some of a batch's items and reports each item's outcome once, whatever form the
 * output takes (an array, a promise or observable of one, or a stream of `{ index, value }`); output that does
 * not fit fails the items it owed with a `BatchResultMismatchError`, as a batch of its own would.
 */
function callExecute<T, R>(
  execute: ExecuteFn<T, R>,
  items: T[],
  context: ExecuteContext,
  give: Give,
  onEnd: () => void,
): Subscription | undefined {
  const n = items.length;
  /** Whether item k's outcome is in (a hole until it is). */
  const got: boolean[] = [];
  let left = n;
  /** The output's subscription, once `subscribe` has returned it. */
  let listening: Subscription | undefined;
  // Ends at the last outcome, not at completion: a stream that stays open after it holds nothing up. The output
  // is let go before the last outcome is passed on, which may end the whole pipeline (test/attack-store-ending-s17).
  const once: Give = (k, ok, value) => {
    if (got[k]) return;
    got[k] = true;
    left--;
    if (left === 0) listening?.unsubscribe();
    give(k, ok, value);
    if (left === 0) onEnd(); // once: `left` reaches 0 once, each k counting once
  };
  const failRest = (error: unknown) => {
    for (let k = 0; k < n; k++) once(k, false, error);
  };
  const takeArray = (results: unknown[]) => {
    if (results.length !== n) {
      failRest(
        new BatchResultMismatchError(`execute returned ${results.length} results for ${n} items; results must match items one to one`, n, results.length),
      );
      return;
    }
    for (let k = 0; k < n; k++) once(k, true, results[k]);
  };
  // The same errors as a batch of its own (batchRun.ts): the kind, and the cause of an output from() refused.
  const mismatch = (what: string, cause?: unknown) =>
    new BatchResultMismatchError(
      `execute produced ${what}; expected an array of ${n} results, a promise or observable of one, or a stream of { index, value }` +
        (cause instanceof Error ? ` (${cause.message})` : ''),
      n,
      undefined,
    );
  let output: unknown;
  try {
    output = execute(items, context);
  } catch (error) {
    failRest(error);
    return undefined;
  }
  if (Array.isArray(output)) {
    takeArray(output);
    return undefined;
  }
  if (output === null || (typeof output !== 'object' && typeof output !== 'function')) {
    failRest(mismatch(output === null ? 'null' : typeof output));
    return undefined;
  }
  try {
    return (listening = from(output as Observable<unknown>).subscribe({
      next: (emitted) => {
        if (Array.isArray(emitted)) {
          takeArray(emitted);
          return;
        }
        if (!isStreamed(emitted)) {
          failRest(mismatch(typeof emitted));
          return;
        }
        const { index } = emitted;
        if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n) {
          failRest(
            new BatchResultMismatchError(
              `execute streamed a result for index ${describeGiven(index)}, but the batch has ${n} items; an index is the ` +
                `item's position, an integer from 0 to ${n - 1}`,
              n,
              undefined,
            ),
          );
          return;
        }
        const error = (emitted as { error?: unknown }).error;
        const failed = error !== undefined && error !== null;
        once(index, !failed, failed ? error : (emitted as { value?: unknown }).value);
      },
      error: (error: unknown) => failRest(error),
      complete: () => failRest(new BatchResultMismatchError('execute completed without a result for every item', n, n - left)),
    }));
  } catch (error) {
    // from() refused the output (an object or function that is no observable, promise or iterable).
    failRest(mismatch(typeof output, error));
    return undefined;
  }
}

/**
 * `execute` behind a shared store, for one pipeline. For the distinct items of a batch (after local dedup):
 * those with a stored result are answered from it; with leases, the misses this process claims are executed and
 * their results stored (then the leases released), and those another process holds are waited for; a lease that
 * ends with no result is claimed by one waiter, which executes it. A store call that fails or takes longer than
 * `timeoutMs` sends its items to `execute` here (counted in `storeFallbacks`), so nothing waits on a store that
 * is down. Errors are never stored.
 *
 * @param slotOf the slot of an item; its store key is `storeKeyOf(slot)`, or undefined to execute it locally
 *   (its key cannot be composed)
 * @throws TypeError (`refusedStore`) when `settings.store` lacks `get`, `set`, or well-formed `leases`
 */
export const sharedExecute: SharedExecute = <T, R>(
  where: string,
  execute: ExecuteFn<T, R>,
  slotOf: (item: T) => Slot,
  settings: SharedTierSettings,
  scheduler: SchedulerLike,
  stats: TierStats,
): ExecuteFn<T, R> => {
  if (!isSharedStore(settings.store)) {
    refusedStore(where, settings.store, ' (get(keys), set(entries, ttlMs), optional leases { leaseMs, claim, release, wait })');
  }
  const keyOf = (item: T) => storeKeyOf(slotOf(item));
  return (items, context) =>
    new Observable<StreamedResult<R>>((subscriber) => {
      const run = new TierRun<T, R>(items, context, subscriber, execute, keyOf, settings, scheduler, stats);
      run.start();
      return () => run.close();
    });
};

/** One call of the shared tier: one batch's items through the store, the leases and `execute`. */
class TierRun<T, R> {
  private owed: number;
  private closed = false;
  private readonly keys: (string | undefined)[];
  /** What to stop on close: executions still running, store calls pending. */
  private readonly subscriptions = new Set<Subscription>();
  /** Keys leased here whose execution has not ended (released on close). */
  private readonly leased = new Set<string>();

  constructor(
    private readonly items: readonly T[],
    private readonly context: ExecuteContext,
    private readonly subscriber: Subscriber<StreamedResult<R>>,
    private readonly execute: ExecuteFn<T, R>,
    keyOf: (item: T) => string | undefined,
    private readonly settings: SharedTierSettings,
    private readonly scheduler: SchedulerLike,
    private readonly stats: TierStats,
  ) {
    this.owed = items.length;
    this.keys = items.map((item) => {
      try {
        return keyOf(item);
      } catch {
        // Keyed at arrival already; a key function that throws now: undefined, the item is executed locally.
      }
    });
  }

  start(): void {
    const local: number[] = [];
    const stored: number[] = [];
    for (let i = 0; i < this.items.length; i++) (this.keys[i] === undefined ? local : stored).push(i);
    if (this.owed === 0) {
      this.subscriber.complete();
      return;
    }
    if (local.length > 0) this.run(local, false, false);
    if (stored.length > 0) this.lookUp(stored);
  }

  /**
   * The batch's run let go of this call. Once every item is answered that is just the end: executions finishing
   * still store their results and release their leases. Before, it was stopped (timeout, unsubscription):
   * executions are stopped too, and their leases go now, so another process takes over.
   */
  close(): void {
    if (this.owed === 0) return;
    this.closed = true;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions.clear();
    if (this.leased.size > 0) {
      const keys = [...this.leased];
      this.leased.clear();
      this.release(keys);
    }
  }

  private keysOf(indices: readonly number[]): string[] {
    return indices.map((i) => this.keys[i]!);
  }

  private call<V>(ms: number, call: () => PromiseLike<V>, ok: (value: V) => void, fail: (error: unknown) => void, stop?: () => void): void {
    // Declared first: a store that answers at once calls back before `bounded` returns.
    let timer: Subscription | undefined = undefined;
    timer = bounded(
      this.scheduler,
      ms,
      call,
      (value) => {
        if (timer) this.subscriptions.delete(timer);
        if (!this.closed) ok(value);
      },
      (error) => {
        if (timer) this.subscriptions.delete(timer);
        if (!this.closed) fail(error);
      },
      stop,
    );
    if (timer && !timer.closed) this.subscriptions.add(timer);
  }

  private lookUp(indices: number[]): void {
    const { store, timeoutMs } = this.settings;
    this.call(
      timeoutMs,
      () => store.get(this.keysOf(indices)),
      (values) => {
        const found = perKeyOrFail(values, indices.length, () => this.fallBack(indices));
        if (!found) return;
        const misses: number[] = [];
        let hits = 0;
        for (let k = 0; k < indices.length; k++) {
          if (found[k] === undefined) {
            misses.push(indices[k]!);
          } else {
            hits++;
            this.answer(indices[k]!, true, found[k]);
          }
        }
        this.stats.recordCount('storeHits', hits); // 0 adds nothing
        if (misses.length === 0) return;
        if (store.leases) this.claim(misses, 1);
        else this.run(misses, true, false);
      },
      () => this.fallBack(indices),
    );
  }

  private claim(indices: number[], round: number): void {
    const leases = this.settings.store.leases!;
    this.call(
      this.settings.timeoutMs,
      () => leases.claim(this.keysOf(indices)),
      (flags) => {
        const claimed = perKeyOrFail(flags, indices.length, () => this.fallBack(indices));
        if (!claimed) return;
        const mine = indices.filter((_, k) => claimed[k] === true);
        const others = indices.filter((_, k) => claimed[k] !== true);
        if (mine.length > 0) this.run(mine, true, true);
        if (others.length > 0) this.wait(others, round);
      },
      () => this.fallBack(indices),
    );
  }

  private wait(indices: number[], round: number): void {
    const leases = this.settings.store.leases!;
    const { leaseMs } = leases;
    // Aborted when this run stops waiting first (its bound, or close()), so a store polling for the keys stops too.
    const stopWaiting = new AbortController();
    this.call(
      leaseMs + this.settings.timeoutMs,
      () => leases.wait(this.keysOf(indices), leaseMs, stopWaiting.signal),
      (values) => {
        const found = perKeyOrFail(values, indices.length, () => this.fallBack(indices));
        if (!found) return;
        const rest: number[] = [];
        let joined = 0;
        for (let k = 0; k < indices.length; k++) {
          if (found[k] === undefined) {
            rest.push(indices[k]!);
          } else {
            joined++;
            this.answer(indices[k]!, true, found[k]);
          }
        }
        this.stats.recordCount('storeJoins', joined); // 0 adds nothing
        if (rest.length === 0) return;
        // Their leases ended with no result (holder gone, or its execution failed): one process takes each over.
        if (round < MAX_LEASE_ROUNDS) this.claim(rest, round + 1);
        else this.fallBack(rest);
      },
      () => this.fallBack(indices),
      () => stopWaiting.abort(),
    );
  }

  /** The store failed or was too slow for these items: they are executed here, as without a store. */
  private fallBack(indices: number[]): void {
    this.stats.recordCount('storeFallbacks', indices.length);
    this.run(indices, true, false);
  }

  /**
   * Executes items here; stores their fulfilled results when `store` (best effort, bounded), then releases their
   * leases when `leased`.
   */
  private run(indices: number[], store: boolean, leased: boolean): void {
    const keys = leased ? this.keysOf(indices) : [];
    for (const key of keys) this.leased.add(key);
    const results: [string, unknown][] = [];
    let ended = false;
    let subscription: Subscription | undefined = undefined;
    subscription = callExecute(
      this.execute,
      indices.map((i) => this.items[i]!),
      this.context,
      (k, ok, valueOrError) => {
        const i = indices[k]!;
        const key = this.keys[i];
        if (ok && store && key !== undefined && valueOrError !== undefined) results.push([key, valueOrError]);
        this.answer(i, ok, valueOrError);
      },
      () => {
        ended = true;
        // Let go already (callExecute unsubscribes at the last outcome, or, ended before it returned, below): forgotten.
        this.subscriptions.delete(subscription!);
        if (this.closed) return; // stopped: its leases were released by close
        for (const key of keys) this.leased.delete(key);
        this.store(results, keys);
      },
    );
    // Its outcomes are all in once ended: the stream, if still open, is let go. Not ended, it is a stream (only an
    // output taken at once, or refused, gives no subscription, and that ends the call before it returns).
    if (ended) subscription?.unsubscribe();
    else this.subscriptions.add(subscription!);
  }

  /** Stores results, then releases leases; neither is waited for by any caller, and a failure only loses sharing. */
  private store(results: readonly [string, unknown][], leased: readonly string[]): void {
    const { store, ttlMs, timeoutMs } = this.settings;
    const release = () => {
      if (leased.length > 0) this.release(leased);
    };
    if (results.length === 0) {
      release();
      return;
    }
    bounded(this.scheduler, timeoutMs, () => store.set(results, ttlMs), release, release);
  }

  private release(keys: readonly string[]): void {
    // Only leased keys are released, so the store has leases.
    const leases = this.settings.store.leases!;
    bounded(this.scheduler, this.settings.timeoutMs, () => leases.release(keys), noop, noop);
  }

  /** Each item is answered once: its index is in one part of the batch at a time (stored, claimed, waited for, run here). */
  private answer(i: number, ok: boolean, valueOrError: unknown): void {
    if (this.closed) return;
    // Counted first: the run lets go of this call as soon as the last answer is in, before `next` returns.
    const last = --this.owed === 0;
    this.subscriber.next(ok ? { index: i, value: valueOrError as R } : { index: i, error: valueOrError });
    if (last) this.subscriber.complete();
  }
}

const noop = () => {};

/** `perKey`, or undefined after calling `otherwise` when the store's answer does not fit. */
function perKeyOrFail(values: unknown, count: number, otherwise: () => void): readonly unknown[] | undefined {
  try {
    return perKey(values, count);
  } catch {
    otherwise();
    return undefined;
  }
}
