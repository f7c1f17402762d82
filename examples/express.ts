import type { Server, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
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
export function buildApp(batcher: Batcher<string, string>): Express {
  const app = express();
  app.use(express.json());
  app.post('/answer', async (req, res) => {
    const question: unknown = req.body?.question;
    if (typeof question !== 'string') {
      res.status(400).json({ error: 'expected { "question": string }' });
      return;
    }
    const signal = abortWhenClientLeaves(res);
    let status = 200;
    let body: { answer: string } | { error: string };
    try {
      body = { answer: await batcher.process(question, { signal, timeoutMs: 5_000 }) };
    } catch (error) {
      if (signal.aborted) return; // nobody left to answer
      status = statusFor(error);
      body = { error: status === 500 ? 'internal error' : (error as Error).message };
    }
    // Shutting down: no keep-alive, so the server closes as soon as its last answer is out.
    if (batcher.closed) res.set('connection', 'close');
    res.status(status).json(body);
  });
  return app;
}

/** Stops accepting connections, drains the batcher (every accepted request is answered), resolves once closed. */
export async function shutdown(server: Server, batcher: Batcher<string, string>): Promise<void> {
  const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  await batcher.close();
  server.closeIdleConnections(); // keep-alive connections whose last answer left just before close()
  await closed;
}

/** Listens (host '0.0.0.0' in a container); on SIGTERM shuts down as above, then exits. */
export function serve(batcher: Batcher<string, string>, port = 3000, host = '127.0.0.1'): Server {
  const server = buildApp(batcher).listen(port, host);
  process.once('SIGTERM', () => {
    shutdown(server, batcher).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
  return server;
}
