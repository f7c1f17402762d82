import type { ObservableInput } from 'rxjs';

/**
 * A batch after dedup: `unique[leaderOf[i]]` is the item executed on behalf of `items[i]`.
 * An item whose dedup key could not be computed has `leaderOf[i] === -1` and its error in `failures`.
 */
export interface DedupedBatch<T> {
  readonly items: readonly T[];
  readonly unique: readonly T[];
  readonly leaderOf: readonly number[];
  /** Items that could not be deduplicated (their `key` or `scope` threw), by index into `items`. */
  readonly failures?: ReadonlyMap<number, unknown>;
}

/** What every `BatchResult` carries, whatever its status. */
interface BatchResultBase<T> {
  readonly request: T;
  /** The batch that answered it (0 for requests refused before batching). */
  readonly batchId: number;
  /**
   * True when the request shared the execution of an earlier, equal request of this pipeline: one of its batch, one
   * waiting or executing that it joined, or the result cache's. An item answered from the shared store
   * (`resultCache.store`, another process's execution) is not marked; the stats count those as `storeHits`.
   */
  readonly deduplicated: boolean;
  /** From enqueue to this result, in ms of scheduler time; never negative. */
  readonly latencyMs: number;
}

/** A request the backend answered: `value` is its own result. */
export interface FulfilledBatchResult<T, R> extends BatchResultBase<T> {
  readonly status: 'fulfilled';
  readonly value: R;
  /** Never set; declared so that `result.value ?? result.error` reads either side without narrowing. */
  readonly error?: undefined;
}

/** A request that failed: refused, timed out, aborted, or its batch failed. */
export interface RejectedBatchResult<T> extends BatchResultBase<T> {
  readonly status: 'rejected';
  readonly error: unknown;
  /** Never set; see `FulfilledBatchResult.error`. */
  readonly value?: undefined;
}

/**
 * The answer to one request. Exactly one is emitted for every request that enters a pipeline. A union on
 * `status`, as `PromiseSettledResult` is: after `if (r.status === 'fulfilled')`, `r.value` is an `R`.
 */
export type BatchResult<T, R> = FulfilledBatchResult<T, R> | RejectedBatchResult<T>;

/** What `execute` receives besides the items. */
export interface ExecuteContext {
  readonly batchId: number;
  /** Aborted when the batch times out or the subscriber unsubscribes. Pass it to `fetch` and friends. */
  readonly signal: AbortSignal;
  /** True when this call is the one-by-one retry of an item whose batch timed out (`onTimeout: 'individual'`). */
  readonly individual: boolean;
}

/**
 * One per-item result of a streamed execution. `index` is the item's position in the `items` that `execute`
 * received: an integer from 0 to `items.length - 1` (a string such as `'0'` is not an index).
 *
 * - `{ index, value }` answers the item with `value`.
 * - `{ index, error }` fails it with `error`, when `error` is neither `null` nor `undefined`; so
 *   `{ index, value, error: null }` (as many APIs send a success) is a success with `value`.
 * - An item with neither `value` nor `error`, or with an index that is not such an integer, is a
 *   `BatchResultMismatchError` for every item of the call not yet answered (the call's `signal` is aborted).
 * - An index reported twice keeps its first result.
 */
export type StreamedResult<R> =
  | { readonly index: number; readonly value: R; readonly error?: null }
  | { readonly index: number; readonly error: unknown; readonly value?: R };

/**
 * The backend call. Return the results in the order of `items`, as an array, a promise or observable of one,
 * or an observable (or async iterable) of `{ index, value }` / `{ index, error }` to stream partial results.
 */
export type ExecuteFn<T, R> = (
  items: T[],
  context: ExecuteContext,
) => R[] | PromiseLike<R[]> | ObservableInput<R[] | StreamedResult<R>>;
