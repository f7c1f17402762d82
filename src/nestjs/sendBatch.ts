import type { ClientProxy } from '@nestjs/microservices';
import type { ExecuteFn } from '../types.js';

/**
 * Client-side batching: an `execute` that sends a whole batch as one message, `client.send(pattern, items)`,
 * and expects the results back as an array in the same order. Give it to a batcher, and each caller's
 * `process(request)` is one item of a batched round trip.
 *
 * ```ts
 * BatchDedupModule.forRootAsync({
 *   batcherNames: ['square'],
 *   inject: ['MATH'],
 *   useFactory: (math: ClientProxy) => ({ batchers: { square: { execute: sendBatch(math, 'square.many'), windowMs: 5 } } }),
 * })
 * ```
 *
 * The server answers the pattern with an array: `@MessagePattern('square.many') many(ns: number[]) { ... }`.
 * A reply of the wrong length rejects the batch with `BatchResultMismatchError`; unsubscribing (timeout, abort)
 * drops the pending reply.
 */
export function sendBatch<T, R>(client: Pick<ClientProxy, 'send'>, pattern: unknown): ExecuteFn<T, R> {
  return (items) => client.send<R[], T[]>(pattern, items);
}
