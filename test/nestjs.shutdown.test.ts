/**
 * Shutting a standalone Nest microservice down on SIGTERM with messages in flight: the documented sequence
 * (`await registry.drain(); await app.close();`) and Nest's own shutdown hooks answer every message already
 * received, and the process then exits by itself with code 0.
 *
 * The service runs in a child process (test/fixtures/nest-shutdown/server.ts) on real TCP, 127.0.0.1, a port of
 * its choosing. 200 messages (50 numbers, 4 copies each) from 4 Nest clients; its batches hold 25 and its backend
 * takes 100 ms for one batch at a time, so at the signal one batch is executing and the rest are still waiting.
 * Then 20 replies of 2 MB each, more than the kernel takes at once, so replies are still being written when the
 * transport closes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NestFactory } from '@nestjs/core';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatchDedupModule, BatchDedupRegistry } from '../src/nestjs/index.js';

const fixture = fileURLToPath(new URL('./fixtures/nest-shutdown/', import.meta.url));
const CLIENTS = 4;
type Shutdown = 'drain-then-close' | 'shutdown-hooks';

interface Scenario {
  shutdown: Shutdown;
  messages: number;
  distinct: number;
  replyBytes: number;
}

interface Child {
  process: ChildProcess;
  /** Resolves with the first JSON line of its stdout that has `key`. */
  line<K extends string>(key: K): Promise<Record<K, number>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startService({ shutdown, messages, replyBytes }: Scenario): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: fixture,
    env: {
      ...process.env,
      SHUTDOWN: shutdown,
      EXPECTED: String(messages),
      REPLY_BYTES: String(replyBytes),
      TSX_TSCONFIG_PATH: `${fixture}../tsconfig.json`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, number>[] = [];
  const waiting: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, number>);
    } catch {
      return; // not one of ours
    }
    for (const wake of waiting.splice(0)) wake();
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    process: child,
    exit,
    stderr: () => stderr,
    async line<K extends string>(key: K) {
      for (;;) {
        const found = lines.find((line) => key in line);
        if (found) return found as Record<K, number>;
        const exited = await Promise.race([exit.then(() => true), new Promise<false>((r) => waiting.push(() => r(false)))]);
        if (exited && !lines.some((line) => key in line)) throw new Error(`service exited before "${key}":\n${stderr}`);
      }
    },
  };
}

/** Starts the service, sends the messages, and sends SIGTERM once every one has reached the handler. */
async function shutDownInFlight(scenario: Scenario) {
  const service = startService(scenario);
  const clients: ClientProxy[] = [];
  try {
    const { port } = await service.line('port');
    for (let i = 0; i < CLIENTS; i++) {
      const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
      await client.connect();
      clients.push(client);
    }
    const numbers = Array.from({ length: scenario.messages }, (_, i) => i % scenario.distinct);
    const replies = Promise.allSettled(
      numbers.map((n, i) => lastValueFrom(clients[i % CLIENTS]!.send<{ square: number; padding: string }, number>('square', n))),
    );

    await service.line('received'); // every message has reached the handler; most wait for a batch
    service.process.kill('SIGTERM');

    const settled = await replies;
    const exit = await service.exit;
    return { numbers, settled, exit, stderr: service.stderr() };
  } finally {
    for (const client of clients) await client.close();
    if (service.process.exitCode === null && service.process.signalCode === null) service.process.kill('SIGKILL');
  }
}

function expectEveryAnswer({ numbers, settled, exit, stderr }: Awaited<ReturnType<typeof shutDownInFlight>>, scenario: Scenario) {
  const lost = settled.flatMap((result, i) => (result.status === 'rejected' ? [`${numbers[i]}: ${String(result.reason)}`] : []));
  expect(lost, `${lost.length} of ${numbers.length} lost`).toEqual([]);
  const answers = settled.map((result) => (result.status === 'fulfilled' ? result.value : undefined));
  expect(answers.map((answer) => answer?.square)).toEqual(numbers.map((n) => n * n)); // each its own
  expect(answers.every((answer) => answer?.padding.length === scenario.replyBytes)).toBe(true);
  expect(exit, stderr).toEqual({ code: 0, signal: null });
}

// The three services run at once: each spends most of its time starting up (a child compiling the sources with
// tsx: 15 s was too short on a loaded 2-core machine, where all three timed out while the code was sound).
describe.concurrent('SIGTERM to a standalone microservice with messages in flight', () => {
  it.each(['drain-then-close', 'shutdown-hooks'] as const)(
    '%s: 200 messages, every client gets its own answer, and the process exits with code 0',
    async (shutdown) => {
      const scenario = { shutdown, messages: 200, distinct: 50, replyBytes: 0 };
      expectEveryAnswer(await shutDownInFlight(scenario), scenario);
    },
    60_000,
  );

  it('drain-then-close: 2 MB replies still being written when the transport closes arrive whole', async () => {
    const scenario = { shutdown: 'drain-then-close', messages: 20, distinct: 20, replyBytes: 2_000_000 } as const;
    expectEveryAnswer(await shutDownInFlight(scenario), scenario);
  }, 60_000);
});

describe('drain() and replies still being written', () => {
  async function withStalledPeer(test: (written: () => number) => Promise<void>): Promise<void> {
    const accepted: Socket[] = [];
    const server = createServer((peer) => accepted.push(peer.pause())); // accepts, never reads
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.on('error', () => {});
    try {
      socket.write(Buffer.alloc(64 * 1024 * 1024)); // far more than the kernel takes: most of it stays pending
      await test(() => socket.writableLength);
    } finally {
      socket.destroy();
      for (const peer of accepted) peer.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('waits while a socket write is pending, and no longer than replyFlushTimeoutMs', async () => {
    const app = await NestFactory.createApplicationContext(
      BatchDedupModule.forRoot({ batchers: { echo: { execute: async (xs: number[]) => xs } }, replyFlushTimeoutMs: 300 }),
      { logger: false },
    );
    await withStalledPeer(async (pending) => {
      expect(pending()).toBeGreaterThan(0);
      const started = performance.now();
      await app.get(BatchDedupRegistry).drain();
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(waited).toBeLessThan(3_000);
    });
    await app.close();
  });

  it('resolves at once when nothing is being written', async () => {
    const app = await NestFactory.createApplicationContext(
      BatchDedupModule.forRoot({ batchers: { echo: { execute: async (xs: number[]) => xs } }, replyFlushTimeoutMs: 5_000 }),
      { logger: false },
    );
    const started = performance.now();
    await app.get(BatchDedupRegistry).drain();
    expect(performance.now() - started).toBeLessThan(1_000);
    await app.close();
  });
});

it.each([-1, Number.NaN, Infinity, '5s'])('replyFlushTimeoutMs: %s fails application start, naming the option', async (bad) => {
  const creating = NestFactory.createApplicationContext(
    BatchDedupModule.forRoot({ batchers: {}, replyFlushTimeoutMs: bad as number }),
    { logger: false, abortOnError: false },
  );
  await expect(creating).rejects.toThrow(/BatchDedupModule: replyFlushTimeoutMs must be/);
});
