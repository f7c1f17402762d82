import type { ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { BatcherClosedError, BatchTimeoutError, QueueFullError, type Batcher } from '../src/index.js';

/**
 * Aborts when the response closes before it was sent in full: the client hung up, so a request still waiting
 * for its batch is withdrawn. Not the request's 'close': that one fires as soon as the body has been read.
 */
export function abortWhenClientLeaves(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/** 503: full or shutting down, try again elsewhere; 504: no answer in time; 500: the backend failed. */
export function statusFor(error: unknown): number {
  if (error instanceof QueueFullError || error instanceof BatcherClosedError) return 503;
  if (error instanceof BatchTimeoutError) return 504;
  return 500;
}

/** `POST /answer` with `{ "question": "..." }` answers `{ "answer": "..." }`; concurrent questions share calls. */
export function buildApp(batcher: Batcher<string, string>): FastifyInstance {
  const app = Fastify();
  app.post<{ Body: { question: string } }>(
    '/answer',
    { schema: { body: { type: 'object', required: ['question'], properties: { question: { type: 'string' } } } } },
    async (request, reply) => {
      const signal = abortWhenClientLeaves(reply.raw);
      let status = 200;
      let body: { answer: string } | { error: string };
      try {
        body = { answer: await batcher.process(request.body.question, { signal, timeoutMs: 5_000 }) };
      } catch (error) {
        if (signal.aborted) return reply.hijack(); // nobody left to answer
        status = statusFor(error);
        body = { error: status === 500 ? 'internal error' : (error as Error).message };
      }
      // Shutting down: no keep-alive, so the server closes as soon as its last answer is out.
      if (batcher.closed) reply.header('connection', 'close');
      return reply.code(status).send(body);
    },
  );
  return app;
}

/** Stops accepting requests (Fastify answers new ones 503), drains the batcher, then resolves once closed. */
export async function shutdown(app: FastifyInstance, batcher: Batcher<string, string>): Promise<void> {
  const closed = app.close();
  await batcher.close();
  app.server.closeIdleConnections(); // keep-alive connections whose last answer left just before close()
  await closed;
}

/** Listens (host '0.0.0.0' in a container); on SIGTERM shuts down as above, then exits. */
export async function serve(
  batcher: Batcher<string, string>,
  port = 3000,
  host = '127.0.0.1',
): Promise<FastifyInstance> {
  const app = buildApp(batcher);
  await app.listen({ port, host });
  process.once('SIGTERM', () => {
    shutdown(app, batcher).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
  return app;
}
