/**
 * A real `redis-server` (Debian's package) for the Redis tests: started on 127.0.0.1 and a free port, with no
 * persistence and a temporary directory, and stopped after. Without redis-server the tests are skipped with a
 * message, except in CI (CI=true), where .ci/run installs it and its absence fails them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export const inCI = process.env['CI'] === 'true';

function findRedisServer(): string | undefined {
  for (const candidate of ['redis-server', '/usr/bin/redis-server', '/usr/sbin/redis-server']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

export const redisServer = findRedisServer();
export const MISSING = 'redis-server is not installed (apt-get install redis-server; .ci/run does it in CI)';

/** `it` when redis-server is here or in CI (where its absence must fail), `it.skip` otherwise, with a warning. */
export function requiresRedis(file: string): void {
  if (redisServer === undefined) console.warn(`${file}: ${MISSING}; ${inCI ? 'CI=true, so the Redis tests fail' : 'the Redis tests are skipped'}`);
}
export const redisAvailable = redisServer !== undefined || inCI;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** A new client (`enableOfflineQueue: false`, one attempt per command), connected. */
  client(): Promise<Redis>;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts redis-server on a free port; resolves once it accepts connections. */
export async function startRedis(): Promise<RedisServer> {
  if (redisServer === undefined) throw new Error(`CI=true but ${MISSING}`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'rbd-redis-'));
  const child: ChildProcess = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const clients: Redis[] = [];
  const url = `redis://127.0.0.1:${port}`;
  const client = async () => {
    const redis = new Redis({ host: '127.0.0.1', port, enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => {}); // a stopped server is part of the tests
    clients.push(redis);
    await redis.connect();
    return redis;
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.disconnect();
      break;
    } catch {
      probe.disconnect();
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start on port ${port}:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    url,
    client,
    async stop() {
      for (const c of clients) c.disconnect();
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
