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
  /**
   * The request's own deadline, which its owner enforces (through `BatchEngine.withdraw`); it replaces
   * `requestTimeoutMs`. Set only with `withdrawable`.
   */
  readonly timeoutMs?: number | undefined;
  /** Aborting removes the request if it is still queued. */
  readonly signal?: AbortSignal | undefined;
  /** Its owner may withdraw it (`BatchEngine.withdraw`), so the queue keeps it where it can be found. */
  readonly withdrawable?: boolean;
  /**
   * True once its caller has been answered by its owner (own deadline, abort): an outcome that comes later is
   * dropped, neither answered nor counted again.
   */
  readonly answered?: boolean;
  /**
   * The engine's own: the slot record of the equal requests this one leads or follows (see `SharedSlots`), kept
   * here rather than in a map so that sharing costs no lookup per request; or, for a request that leads its slot
   * with no record yet, that slot's state (see `stateOf` in inFlight.ts). Its owner declares it and leaves it be.
   */
  shared?: unknown;
}
