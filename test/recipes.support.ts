/**
 * The contract every HTTP recipe under examples/ must keep (examples/express.ts, examples/fastify.ts), run over
 * real sockets on 127.0.0.1 (port 0). The batcher runs on a virtual clock, so a window closes exactly when a test
 * says so, whatever the machine's load: requests are known to be waiting (`queueDepth`) before the clock moves.
 */
import { spawn } from 'node:child_process';
import { request as httpRequest, Agent, type ClientRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createBatcher, type Batcher, type BatchDedupOptions } from '../src/index.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';
import { until } from './support.js';

/** What a recipe gives the contract: a server listening on 127.0.0.1 in front of the batcher, and its shutdown. */
export interface RunningRecipe {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** The recipe's shutdown sequence: stop accepting, drain the batcher, resolve once the server is closed. */
  shutdown(): Promise<void>;
  /** Whether the server still listens. */
  listening(): boolean;
}

export type StartRecipe = (batcher: Batcher<string, string>) => Promise<RunningRecipe>;

export interface Reply {
  status: number;
  body: { answer?: string; error?: string };
  /** The `connection` response header. */
  connection: string | undefined;
}

/** POSTs `{ question }` to `/answer`; `request` lets a test hang up early. */
export function ask(url: string, question: string, agent?: Agent): { reply: Promise<Reply>; request: ClientRequest } {
  let request!: ClientRequest;
  const reply = new Promise<Reply>((resolve, reject) => {
    request = httpRequest(`${url}/answer`, { method: 'POST', headers: { 'content-type': 'application/json' }, agent });
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('error', reject);
      response.on('end', () => {
        resolve({ status: response.statusCode!, body: JSON.parse(text), connection: response.headers.connection });
      });
    });
    request.end(JSON.stringify({ question }));
  });
  return { reply, request };
}

const WINDOW_MS = 10;

/** A backend that records every batch it is sent; `hang` makes it never answer. */
function recordingBackend(behaviour: 'answer' | 'hang' | 'fail' = 'answer') {
  const calls: string[][] = [];
  const execute = async (questions: string[]): Promise<string[]> => {
    calls.push([...questions]);
    if (behaviour === 'hang') return new Promise<string[]>(() => {});
    if (behaviour === 'fail') throw new Error('the backend is down');
    return questions.map((q) => `answer to ${q}`);
  };
  return { calls, execute };
}

/** Registers the contract's tests for one recipe. */
export function holdsTheHttpRecipeContract(name: string, start: StartRecipe, entry: 'express' | 'fastify'): void {
  describe(`${name}: the HTTP recipe contract`, () => {
    const running: RunningRecipe[] = [];
    afterEach(async () => {
      for (const server of running.splice(0)) if (server.listening()) await server.shutdown();
    });

    interface SetUp {
      clock: VirtualClock;
      backend: ReturnType<typeof recordingBackend>;
      batcher: Batcher<string, string>;
      server: RunningRecipe;
    }

    async function setUp(
      behaviour: 'answer' | 'hang' | 'fail' = 'answer',
      options: Partial<BatchDedupOptions<string, string>> = {},
    ): Promise<SetUp> {
      const clock = virtualClock();
      const backend = recordingBackend(behaviour);
      const batcher = createBatcher<string, string>({
        execute: backend.execute,
        windowMs: WINDOW_MS,
        maxWaitMs: WINDOW_MS,
        scheduler: clock.scheduler,
        ...options,
      });
      const server = await start(batcher);
      running.push(server);
      return { clock, backend, batcher, server };
    }

    const waiting = (batcher: Batcher<string, string>, n: number) => until(() => batcher.getStats().queueDepth === n);

    it('answers concurrent duplicates from one backend call, each caller with its own answer', async () => {
      const { clock, backend, batcher, server } = await setUp();
      const questions = ['a', 'b', 'a', 'c', 'b', 'a'];
      const replies = questions.map((q) => ask(server.url, q).reply);
      await waiting(batcher, questions.length);
      expect(batcher.getStats().queueDepth).toBe(questions.length);

      clock.advanceBy(WINDOW_MS);

      expect(await Promise.all(replies)).toEqual(
        questions.map((q) => expect.objectContaining({ status: 200, body: { answer: `answer to ${q}` } })),
      );
      expect(backend.calls).toEqual([['a', 'b', 'c']]);
    });

    it('a client that hangs up while its request waits withdraws it: the backend never sees it', async () => {
      const { clock, backend, batcher, server } = await setUp();
      const gone = ask(server.url, 'gone');
      gone.reply.catch(() => {}); // the socket is destroyed on purpose
      await waiting(batcher, 1);

      gone.request.destroy();
      await waiting(batcher, 0);
      expect(batcher.getStats().queueDepth).toBe(0);

      const stays = ask(server.url, 'stays').reply;
      await waiting(batcher, 1);
      clock.advanceBy(WINDOW_MS);
      expect((await stays).body).toEqual({ answer: 'answer to stays' });
      expect(backend.calls).toEqual([['stays']]);
    });

    it('answers 503 when the queue is full (QueueFullError)', async () => {
      const { clock, batcher, server } = await setUp('answer', { maxQueueSize: 1 });
      const first = ask(server.url, 'first').reply;
      await waiting(batcher, 1);

      const refused = await ask(server.url, 'second').reply;
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatch(/maxQueueSize/);

      clock.advanceBy(WINDOW_MS);
      expect(await first).toMatchObject({ status: 200, body: { answer: 'answer to first' } });
    });

    it('answers 503 once the batcher is closed (BatcherClosedError), and closes the connection', async () => {
      const { batcher, server } = await setUp();
      await batcher.close();
      const refused = await ask(server.url, 'late').reply;
      expect(refused).toMatchObject({ status: 503, connection: 'close' });
    });

    it('answers 504 when the backend takes too long (BatchTimeoutError)', async () => {
      const { clock, backend, batcher, server } = await setUp('hang', { processingTimeoutMs: 1_000 });
      const slow = ask(server.url, 'slow').reply;
      await waiting(batcher, 1);
      clock.advanceBy(WINDOW_MS);
      await until(() => backend.calls.length === 1);

      clock.advanceBy(1_000);
      const reply = await slow;
      expect(reply.status).toBe(504);
      expect(reply.body.error).toMatch(/processingTimeoutMs|timeout/i);
    });

    it('answers 500 when the backend fails', async () => {
      const { clock, batcher, server } = await setUp('fail');
      const failed = ask(server.url, 'q').reply;
      await waiting(batcher, 1);
      clock.advanceBy(WINDOW_MS);
      expect((await failed).status).toBe(500);
    });

    it('shutdown answers every request in flight, then the server is closed, keep-alive connections too', async () => {
      const { clock, backend, batcher, server } = await setUp();
      // A keep-alive client that already has an open connection: the server must not wait for it to time out.
      const agent = new Agent({ keepAlive: true, maxSockets: 8 });
      try {
        const warm = ask(server.url, 'warm', agent).reply;
        await waiting(batcher, 1);
        clock.advanceBy(WINDOW_MS);
        expect((await warm).status).toBe(200);

        const questions = ['q1', 'q2', 'q3', 'q2', 'q4'];
        const replies = questions.map((q) => ask(server.url, q, agent).reply);
        await waiting(batcher, questions.length);

        const started = Date.now();
        const stopped = server.shutdown();
        expect(await Promise.all(replies)).toEqual(
          questions.map((q) => expect.objectContaining({ status: 200, body: { answer: `answer to ${q}` } })),
        );
        await stopped;
        // Node's keepAliveTimeout is 5 s (Fastify's 72 s): a shutdown that waited for it would take that long.
        expect(Date.now() - started).toBeLessThan(3_000);
        expect(server.listening()).toBe(false);
        expect(batcher.closed).toBe(true);
        expect(backend.calls).toEqual([['warm'], ['q1', 'q2', 'q3', 'q4']]);
        await expect(ask(server.url, 'after').reply).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      } finally {
        agent.destroy();
      }
    });

    it('examples/serve.ts: on SIGTERM it answers the requests in flight, then the process exits 0', async () => {
      const serveMain = fileURLToPath(new URL('../examples/serve.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', serveMain, entry, '--port', '0'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        let output = '';
        child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
        await until(() => /listening \d+/.test(output));
        const port = /listening (\d+)/.exec(output)?.[1];
        expect(port, `the server printed its port: ${output}`).toBeDefined();

        const url = `http://127.0.0.1:${port}`;
        const questions = Array.from({ length: 12 }, (_, i) => `question ${i}`);
        const replies = questions.map((q) => ask(url, q).reply);
        // The demo backend prints `backend call: <n> questions` as a call starts and takes 300 ms to answer: once
        // it has been sent every question, all of them are in flight.
        const sent = () => [...output.matchAll(/backend call: (\d+) questions/g)].reduce((n, m) => n + Number(m[1]), 0);
        await until(() => sent() === questions.length);
        expect(sent()).toBe(questions.length);

        child.kill('SIGTERM');
        expect(await Promise.all(replies)).toEqual(
          questions.map((q) => expect.objectContaining({ status: 200, body: { answer: `answer to ${q}` } })),
        );
        expect(await exited).toBe(0);
      } finally {
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
}
