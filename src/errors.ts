/**
 * Errors raised by rxjs-batch-dedup. Each one is an `Error` with its own `name`, so callers can branch on
 * `instanceof` or on `error.name` after a structured clone (workers, NestJS transports).
 */

/** A batch, an individual retry, or a queued request ran past its time limit. */
export class BatchTimeoutError extends Error {
  override readonly name = 'BatchTimeoutError';
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super(message);
    this.timeoutMs = timeoutMs;
  }
}

/** `execute` returned something that cannot be mapped back to the batch's requests one-to-one. */
export class BatchResultMismatchError extends Error {
  override readonly name = 'BatchResultMismatchError';
  /** How many results the batch needed (its unique items). */
  readonly expected: number;
  /** How many results arrived, or `undefined` when the value was not an array at all. */
  readonly received: number | undefined;

  constructor(message: string, expected: number, received: number | undefined) {
    super(message);
    this.expected = expected;
    this.received = received;
  }
}

/** A request arrived while `maxQueueSize` requests were already waiting; it was refused, not queued. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  readonly maxQueueSize: number;

  constructor(maxQueueSize: number) {
    super(`queue is full: ${maxQueueSize} requests are already waiting (maxQueueSize)`);
    this.maxQueueSize = maxQueueSize;
  }
}

/** `process` was called on a batcher after `close()`. */
export class BatcherClosedError extends Error {
  override readonly name = 'BatcherClosedError';

  constructor() {
    super('the batcher is closed: close() was called, so it accepts no new requests');
  }
}
