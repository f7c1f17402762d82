/**
 * Shutting a standalone Nest microservice down on SIGTERM with messages in flight: the documented sequence
 * (`await registry.drain(); await app.close();`) and Nest's own shutdown hooks answer every message already
 * received, and the process then exits by itself with code 0.
 *
 * The service runs in a child process (test/fixtures/nest-shutdown/server.ts) on real TCP, 127.0.0.1, a port of
 * its choosing. 200 messages (50 numbers, 4 copies each) from 4 Nest clients; its batches hold 25 and its backend
 * takes 100 ms for one batch at a time, so at the signal one batch is executing and the rest are still waiting.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/nest-shutdown/', import.meta.url));
const MESSAGES = 200;
const CLIENTS = 4;

interface Child {
  process: ChildProcess;
  /** Resolves with the first JSON line of its stdout that has `key`. */
  line<K extends string>(key: K): Promise<Record<K, number>>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

function startService(shutdown: 'drain-then-close' | 'shutdown-hooks'): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server.ts'], {
    cwd: fixture,
    env: { ...process.env, SHUTDOWN: shutdown, EXPECTED: String(MESSAGES), TSX_TSCONFIG_PATH: `${fixture}../tsconfig.json` },
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

async function shutDownInFlight(shutdown: 'drain-then-close' | 'shutdown-hooks') {
  const service = startService(shutdown);
  const clients: ClientProxy[] = [];
  try {
    const { port } = await service.line('port');
    for (let i = 0; i < CLIENTS; i++) {
      const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
      await client.connect();
      clients.push(client);
    }
    const numbers = Array.from({ length: MESSAGES }, (_, i) => i % 50);
    const replies = Promise.allSettled(numbers.map((n, i) => lastValueFrom(clients[i % CLIENTS]!.send<number, number>('square', n))));

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

describe('SIGTERM to a standalone microservice with 200 messages in flight', () => {
  it.each(['drain-then-close', 'shutdown-hooks'] as const)(
    '%s: every client gets its own answer, and the process exits with code 0',
    async (shutdown) => {
      const { numbers, settled, exit, stderr } = await shutDownInFlight(shutdown);

      const lost = settled.flatMap((result, i) => (result.status === 'rejected' ? [`${numbers[i]}: ${String(result.reason)}`] : []));
      expect(lost, `${lost.length} of ${MESSAGES} lost`).toEqual([]);
      expect(settled.map((result) => (result.status === 'fulfilled' ? result.value : undefined))).toEqual(numbers.map((n) => n * n));
      expect(exit, stderr).toEqual({ code: 0, signal: null });
    },
    15_000,
  );
});
