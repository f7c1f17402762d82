import Fastify, { type FastifyInstance } from 'fastify';
// In your project: from 'rxjs-batch-dedup'. This file imports the source so the tests compile and run it.
import { createBatcher, type Batcher, type BatchDedupOptions } from '../../src/index.js';
import { abortWhenClientLeaves, statusFor } from '../fastify.js';
import type { Answer, FixedCostBackend, Query } from './backend.js';

/** The batcher in front of the backend: a 5 ms window, up to 64 queries a call, 4 calls at once. */
export function createQueryBatcher(
  backend: FixedCostBackend,
  overrides: Partial<BatchDedupOptions<Query, Answer>> = {},
): Batcher<Query, Answer> {
  return createBatcher<Query, Answer>({
    execute: (queries) => backend.answerMany(queries),
    windowMs: 5,
    maxSize: 64,
    concurrency: 4,
    maxQueueSize: 10_000,
    ...overrides,
  });
}

export interface QueryServerOptions {
  backend: FixedCostBackend;
  /** Answer through this batcher; without one, each request is its own backend call. */
  batcher?: Batcher<Query, Answer>;
}

/** `POST /api/query` with `{ "q": "..." }` answers `{ "q", "answer" }`. */
export function buildQueryServer({ backend, batcher }: QueryServerOptions): FastifyInstance {
  const app = Fastify();
  const answer = batcher
    ? (query: Query, signal: AbortSignal) => batcher.process(query, { signal, timeoutMs: 5_000 })
    : async (query: Query) => (await backend.answerMany([query]))[0]!;

  app.post<{ Body: Query }>('/api/query', {
    schema: { body: { type: 'object', required: ['q'], properties: { q: { type: 'string' } } } },
    handler: async (request, reply) => {
      const signal = abortWhenClientLeaves(reply.raw);
      try {
        return await answer({ q: request.body.q }, signal);
      } catch (error) {
        if (signal.aborted) return reply.hijack(); // nobody left to answer
        return reply.code(statusFor(error)).send({ error: String(error) });
      }
    },
  });
  // preClose, not onClose: Fastify waits for in-flight requests before onClose, and those wait for the batcher.
  // While closing, Fastify answers new requests 503 itself; accepted ones are drained here.
  if (batcher) app.addHook('preClose', () => batcher.close());
  return app;
}
