/**
 * Replicas sharing a real Redis (docs/replicas.md): separate processes (test/fixtures/redis-replica.ts), each a
 * batcher with `redisStore`, against a redis-server started on 127.0.0.1 and a free port. Executions are counted
 * in Redis by the replicas' `execute`, so the counts are across processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { redisStore } from '../src/redis/index.js';
import { redisAvailable, requiresRedis, startRedis, type RedisServer } from './support-redis.js';

requiresRedis('test/redis.replicas.test.ts');
const describeRedis = redisAvailable ? describe : describe.skip;

const fixture = fileURLToPath(new URL('./fixtures/redis-replica.ts', import.meta.url));

interface Request {
  key: string;
  scope: string;
}
interface Answer {
  request: Request;
  value?: string;
  error?: string;
}

/** A replica process, with its output as lines. */
class Replica {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private buffer = '';
  private readonly waiters: (() => void)[] = [];
  readonly exited: Promise<void>;

  constructor(config: { port: number; prefix: string; name: string; leaseMs: number; executeMs: number; hang?: boolean }) {
    this.child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(config)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let errors = '';
    this.child.stderr!.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        this.lines.push(this.buffer.slice(0, nl));
        this.buffer = this.buffer.slice(nl + 1);
      }
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        if (code !== 0 && signal === null) this.lines.push(`EXIT ${code} ${errors}`);
        for (const wake of this.waiters.splice(0)) wake();
        resolve();
      }),
    );
  }

  async line(prefix: string, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.find((l) => l.startsWith(prefix));
      if (found !== undefined) return found;
      const exit = this.lines.find((l) => l.startsWith('EXIT'));
      if (exit !== undefined) throw new Error(`replica exited: ${exit}`);
      if (Date.now() > deadline) throw new Error(`no ${prefix} line; output: ${this.lines.join('\n')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  send(requests: readonly Request[]): void {
    this.child.stdin!.write(`${JSON.stringify(requests)}\n`);
  }

  answers(): Answer[] {
    return this.lines.filter((l) => l.startsWith('RESULT ')).map((l) => JSON.parse(l.slice(7)) as Answer);
  }

  stats(): Record<string, number> {
    const line = this.lines.find((l) => l.startsWith('STATS '));
    return line === undefined ? {} : (JSON.parse(line.slice(6)) as Record<string, number>);
  }
}

describeRedis('replicas sharing a real Redis', () => {
  let redis: RedisServer;
  let admin: Redis;
  let prefixCount = 0;
  const freshPrefix = () => `t${++prefixCount}:`;

  beforeAll(async () => {
    redis = await startRedis();
    admin = await redis.client();
  }, 30_000);
  afterAll(async () => {
    await redis?.stop();
  });

  const executions = async (prefix: string, r: Request) => Number((await admin.get(`${prefix}exec:${r.scope}|${r.key}`)) ?? 0);

  it('three replicas in separate processes execute a duplicate once', async () => {
    const prefix = freshPrefix();
    const replicas = ['a', 'b', 'c'].map((name) => new Replica({ port: redis.port, prefix, name, leaseMs: 10_000, executeMs: 300 }));
    try {
      await Promise.all(replicas.map((r) => r.line('READY')));
      const request = { key: 'the same question', scope: 'tenant-1' };
      for (const replica of replicas) replica.send([request]);
      await Promise.all(replicas.map((r) => r.line('DONE')));
      expect(await executions(prefix, request)).toBe(1);
      const values = replicas.flatMap((r) => r.answers().map((a) => a.value));
      expect(values).toHaveLength(3);
      expect(new Set(values).size).toBe(1);
      expect(values[0]).toMatch(/^tenant-1\/the same question by [abc]$/);
      const joinedOrHit = replicas.map((r) => r.stats()).reduce((n, s) => n + (s['storeJoins'] ?? 0) + (s['storeHits'] ?? 0), 0);
      expect(joinedOrHit).toBe(2);
    } finally {
      for (const r of replicas) r.child.kill('SIGKILL');
      await Promise.all(replicas.map((r) => r.exited));
    }
  }, 60_000);

  it('a replica killed (SIGKILL) while holding a lease: another executes after the lease, every caller answered', async () => {
    const prefix = freshPrefix();
    const leaseMs = 3_000;
    const holder = new Replica({ port: redis.port, prefix, name: 'dead', leaseMs, executeMs: 0, hang: true });
    const others = ['b', 'c'].map((name) => new Replica({ port: redis.port, prefix, name, leaseMs, executeMs: 50 }));
    const request = { key: 'long job', scope: 'tenant-1' };
    try {
      await Promise.all([holder, ...others].map((r) => r.line('READY')));
      holder.send([request]);
      await holder.line('EXECUTING');
      const lease = `${prefix}l:s8:tenant-1slong job`; // see docs/replicas.md, "Keys: prefix and scope"
      holder.child.kill('SIGKILL');
      await holder.exited;
      const remaining = await admin.pttl(lease); // the dead replica's lease, still held
      const measuredAt = Date.now();
      expect(remaining).toBeGreaterThan(0);
      for (const replica of others) replica.send([request]);
      await Promise.all(others.map((r) => r.line('DONE')));
      // Taken over only once the dead replica's lease ran out, and then by one replica.
      expect(Date.now() - measuredAt).toBeGreaterThanOrEqual(remaining - 20);
      expect(await executions(prefix, request)).toBe(1);
      const answers = others.flatMap((r) => r.answers());
      expect(answers).toHaveLength(2);
      for (const answer of answers) expect(answer.value).toMatch(/^tenant-1\/long job by [bc]$/);
      expect(answers[0]!.value).toBe(answers[1]!.value);
    } finally {
      for (const r of [holder, ...others]) r.child.kill('SIGKILL');
      await Promise.all([holder, ...others].map((r) => r.exited));
    }
  }, 60_000);

  it('Redis stopped mid-run: every request answered by local execution, counted in storeFallbacks', async () => {
    const own = await startRedis();
    const client = await own.client();
    let executed = 0;
    const batcher = createBatcher<number, string>({
      windowMs: 1,
      maxSize: 8,
      resultCache: { ttlMs: 60_000, store: redisStore({ client, prefix: 'stop:' }), storeTimeoutMs: 200 },
      execute: async (ns) => {
        executed += ns.length;
        return ns.map((n) => `v${n}`);
      },
    });
    try {
      const before = await Promise.all([1, 2, 3].map((n) => batcher.process(n)));
      expect(before).toEqual(['v1', 'v2', 'v3']);
      expect(batcher.getStats().storeFallbacks).toBe(0);
      await own.stop();
      const after = await Promise.all([4, 5, 6, 7].map((n) => batcher.process(n)));
      expect(after).toEqual(['v4', 'v5', 'v6', 'v7']);
      expect(executed).toBe(7);
      expect(batcher.getStats().storeFallbacks).toBe(4);
      expect(batcher.getStats().completed).toBe(7);
    } finally {
      await batcher.close();
      await own.stop();
    }
  }, 30_000);
});
