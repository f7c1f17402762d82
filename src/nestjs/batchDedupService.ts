import { defer, forkJoin, Observable, of } from 'rxjs';
import type { Batcher, ProcessOptions } from '../batcher/createBatcher.js';
import type { BatchStats } from '../stats/batchStats.js';
import { describeValue } from '../base/describeValue.js';
import * as check from '../base/validate.js';

/**
 * One named batcher, as Nest code sees it: `process(request)` returns a cold Observable, like `ClientProxy.send`,
 * so a `@MessagePattern` handler can return it as is.
 *
 * ```ts
 * square(n: number): Observable<number> {
 *   return this.squares.process(n);
 * }
 * ```
 */
export class BatchDedupService<T = unknown, R = unknown> {
  /** @internal Created by `BatchDedupRegistry`; the batcher exists from module init to shutdown. */
  constructor(
    readonly name: string,
    private readonly batcher: () => Batcher<T, R>,
  ) {}

  /**
   * Submits `request` on subscription and emits its own result, then completes. Nothing is sent before
   * subscription, and every subscription submits again. Unsubscribing early withdraws a request still waiting for
   * its batch (through an `AbortSignal`); one already sent finishes for the duplicates sharing it. An
   * `options.signal` of your own works as with `createBatcher`.
   */
  process(request: T, options: ProcessOptions = {}): Observable<R> {
    return new Observable<R>((subscriber) => {
      // First: used before module init it throws (the Observable errors), before a listener goes on `outer`.
      const batcher = this.batcher();
      const abort = new AbortController();
      const outer = callerSignal(options);
      const onOuterAbort = () => abort.abort(outer && outer.reason);
      if (outer && outer.aborted) onOuterAbort();
      else if (outer) outer.addEventListener('abort', onOuterAbort, { once: true });
      let settled = false;
      batcher
        // Options whose signal cannot be linked go as given: the batcher refuses them, naming what is wrong.
        .process(request, outer === false ? options : { ...options, signal: abort.signal })
        .then(
          (value) => {
            settled = true;
            subscriber.next(value);
            subscriber.complete();
          },
          (error: unknown) => {
            settled = true;
            subscriber.error(error);
          },
        );
      return () => {
        if (outer) outer.removeEventListener('abort', onOuterAbort);
        if (!settled) abort.abort();
      };
    });
  }

  /** Submits every request at once (so they batch together) and emits their results in order, as one array. */
  processAll(requests: Iterable<T>, options?: Omit<ProcessOptions, 'signal'>): Observable<R[]> {
    if (typeof (requests as Partial<Iterable<T>> | null)?.[Symbol.iterator] !== 'function') {
      check.fail(`BatchDedupService.processAll ("${this.name}")`, `requests must be iterable, got ${describeValue(requests)}`, TypeError);
    }
    const items = [...requests];
    return defer(() => (items.length === 0 ? of([]) : forkJoin(items.map((request) => this.process(request, options)))));
  }

  /** A snapshot now, then one after every batch. */
  readonly stats$: Observable<BatchStats> = defer(() => this.batcher().stats$);

  getStats(): BatchStats {
    return this.batcher().getStats();
  }
}

/**
 * The caller's own signal in `options`, to link to the request's; undefined for none; false when `options` is not
 * an object or its `signal` is not an AbortSignal (as `createBatcher.process` checks it).
 */
function callerSignal(options: unknown): AbortSignal | undefined | false {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return false;
  const signal = (options as ProcessOptions).signal as Partial<AbortSignal> | null | undefined;
  if (signal === undefined) return undefined;
  const linkable =
    typeof signal === 'object' &&
    signal !== null &&
    typeof signal.aborted === 'boolean' &&
    typeof signal.addEventListener === 'function' &&
    typeof signal.removeEventListener === 'function';
  return linkable ? (signal as AbortSignal) : false;
}
