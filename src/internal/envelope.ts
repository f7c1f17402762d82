import type { DedupScope } from '../dedup/keys.js';

/** A request on its way through `batchDedup`, with what the pipeline needs to know about it. */
export interface Envelope<T> {
  readonly request: T;
  /** Scheduler time at which it entered the pipeline. */
  readonly arrivedAt: number;
  /** Overrides `priority(request)`. */
  readonly priority?: number | undefined;
  /** Overrides `scope(request)`. */
  readonly scope?: DedupScope;
  /** Rejected with `BatchTimeoutError` if still queued this long after arrival. */
  readonly timeoutMs?: number | undefined;
  /** Aborting removes the request if it is still queued. */
  readonly signal?: AbortSignal | undefined;
}
