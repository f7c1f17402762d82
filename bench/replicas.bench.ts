/**
 * Replicas sharing Redis (issue 13, docs/replicas.md): a Zipf stream (s = 1.0 over 10,000 keys) split
 * round-robin over 4 replicas, against a real redis-server started here on 127.0.0.1 and a free port. Backend
 * items per request for:
 *
 * - alone: each replica with its own result cache, no store (what replicas behind a load balancer do today);
 * - shared: the same replicas with `resultCache.store: redisStore(...)` (results and executions in flight shared);
 * - one process: one batcher with the same result cache taking the whole stream (the target).
 *
 * The replicas are four batchers in this process, each with its own Redis connection, its own in-process cache
 * and its own in-flight table: they share nothing but Redis, as replicas do. Real time (Redis is real), so the
 * figures vary a little from run to run; the stream itself is seeded. Without redis-server the bench says so and
 * returns nothing.
 *
 *   npm run bench -- replicas
 */
import { Redis } from 'ioredis';
import { createBatcher, type Batcher } from '../src/index.js';
import { redisStore } from '../src/redis/index.js';
import { redisServer, startRedis } from '../test/support-redis.js';
import { seededRandom, zipfSampler } from './lib/random.js';
import { consoleTable, markdownTable, type BenchSection } from './lib/report.js';

const KEYS = 10_000;
const EXPONENT = 1.0;
const REQUESTS = 20_000;
const REPLICAS = 4;
/** Requests sent per millisecond tick (2 per replica): 20,000 requests in about 2.5 s. */
const PER_TICK = 8;
const BACKEND_MS = 20;
const WINDOW_MS = 5;
const TTL_MS = 10 * 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function stream(): string[] {
  const rank = zipfSampler(KEYS, EXPONENT, seededRandom(13));
  return Array.from({ length: REQUESTS }, () => `q${rank()}`);
}

interface Counter {
  items: number;
}

function batcherFor(counter: Counter, store?: ReturnType<typeof redisStore>): Batcher<string, string> {
  return createBatcher<string, string>({
    windowMs: WINDOW_MS,
    maxSize: 256,
    resultCache: { ttlMs: TTL_MS, maxEntries: KEYS, ...(store && { store, storeTimeoutMs: 1_000 }) },
    execute: async (keys) => {
      counter.items += keys.length;
      await sleep(BACKEND_MS);
      return keys.map((key) => `answer to ${key}`);
    },
  });
}

/** Sends the stream, `PER_TICK` requests per ms tick, request i to batcher i % batchers.length; checks each answer. */
async function drive(requests: readonly string[], batchers: readonly Batcher<string, string>[]): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < requests.length; i++) {
    const key = requests[i]!;
    pending.push(
      batchers[i % batchers.length]!.process(key).then((value) => {
        if (value !== `answer to ${key}`) throw new Error(`wrong answer for ${key}: ${value}`);
      }),
    );
    if ((i + 1) % PER_TICK === 0) await sleep(1);
  }
  await Promise.all(pending);
  await Promise.all(batchers.map((b) => b.close()));
}

export default async function replicasBench(): Promise<BenchSection | void> {
  const redis = redisServer === undefined ? undefined : await startRedis();
  if (!redis) {
    console.log('replicas: redis-server is not installed (apt-get install redis-server); skipped');
    return;
  }
  const requests = stream();
  const distinct = new Set(requests).size;
  console.log(
    `replicas: Zipf s = ${EXPONENT} over ${KEYS.toLocaleString('en')} keys, ${REQUESTS.toLocaleString('en')} requests ` +
      `(${distinct.toLocaleString('en')} distinct), round-robin over ${REPLICAS} replicas, ${PER_TICK} requests/ms; ` +
      `windowMs ${WINDOW_MS}, backend ${BACKEND_MS} ms, resultCache ttl ${TTL_MS / 60_000} min\n`,
  );
  const clients: Redis[] = [];
  try {
    const alone: Counter = { items: 0 };
    await drive(requests, Array.from({ length: REPLICAS }, () => batcherFor(alone)));

    const shared: Counter = { items: 0 };
    const sharing = await Promise.all(
      Array.from({ length: REPLICAS }, async () => {
        const client = new Redis({ port: redis.port, host: '127.0.0.1', enableOfflineQueue: false, lazyConnect: true });
        clients.push(client);
        await client.connect();
        return batcherFor(shared, redisStore({ client, prefix: 'bench:' }));
      }),
    );
    const started = performance.now();
    await drive(requests, sharing);
    const sharedSeconds = (performance.now() - started) / 1000;
    const tier = { storeHits: 0, storeJoins: 0, storeFallbacks: 0 };
    for (const batcher of sharing) {
      const stats = batcher.getStats();
      tier.storeHits += stats.storeHits;
      tier.storeJoins += stats.storeJoins;
      tier.storeFallbacks += stats.storeFallbacks;
    }
    const tierLine = `shared: ${tier.storeHits.toLocaleString('en')} items answered from Redis, ${tier.storeJoins.toLocaleString('en')} from another replica's execution in flight, ${tier.storeFallbacks} fallbacks`;

    const one: Counter = { items: 0 };
    await drive(requests, [batcherFor(one)]);

    const perRequest = (c: Counter) => c.items / REQUESTS;
    const [a, s, p] = [perRequest(alone), perRequest(shared), perRequest(one)];
    const header = ['setup', 'backend items', 'items per request', 'vs one process'];
    const rows = [
      [`${REPLICAS} replicas alone`, alone.items, a],
      [`${REPLICAS} replicas sharing Redis`, shared.items, s],
      ['one process', one.items, p],
    ].map(([name, items, per]) => [String(name), (items as number).toLocaleString('en'), (per as number).toFixed(3), `${((per as number) / p).toFixed(3)}x`]);
    console.log(consoleTable(header, rows));
    console.log(`\n${tierLine}; shared run ${sharedSeconds.toFixed(1)} s; distinct keys in the stream: ${(distinct / REQUESTS).toFixed(3)} per request`);
    const within = Math.abs(s / p - 1) <= 0.05;
    const lastLine = `replicas: alone ${a.toFixed(3)}, shared ${s.toFixed(3)}, one process ${p.toFixed(3)} (items per request)`;
    console.log(`\nshared ${within ? 'is' : 'is NOT'} within 5 % of one process (${((s / p - 1) * 100).toFixed(1)} %)`);
    console.log(lastLine);
    return {
      title: 'Replicas sharing Redis',
      summary:
        `Replicas: a Zipf stream split over ${REPLICAS} replicas executes ${a.toFixed(3)} backend items per request when each ` +
        `replica works alone, ${s.toFixed(3)} when they share Redis (\`redisStore\`), and ${p.toFixed(3)} in one process.`,
      markdown: [
        `${REQUESTS.toLocaleString('en')} requests drawn with P(rank k) ∝ 1/k^${EXPONENT} over ${KEYS.toLocaleString('en')} keys`,
        `(${distinct.toLocaleString('en')} distinct), sent ${PER_TICK} per millisecond and split round-robin over ${REPLICAS}`,
        `replicas; each replica is a \`createBatcher\` with \`windowMs: ${WINDOW_MS}\` and a result cache of ${TTL_MS / 60_000}`,
        `minutes, the backend takes ${BACKEND_MS} ms. *Shared* adds \`resultCache.store: redisStore({ client })\` against a`,
        'real redis-server on 127.0.0.1 (results and executions in flight shared through leases). The replicas are',
        'batchers in one process with a Redis connection each: they share nothing but Redis. Real time, so the shared',
        'figure varies slightly from run to run. Reproduce: `npm run bench -- replicas` (needs redis-server).',
        '',
        markdownTable(header, rows),
        '',
        `${tierLine[0]!.toUpperCase()}${tierLine.slice(1)} (the rest of the shared requests were answered in their`,
        'own replica: same batch, in flight there, or its in-process cache).',
        '',
        `Sharing Redis, ${REPLICAS} replicas execute ${((s / p - 1) * 100).toFixed(1)} % more items than one process (the target: within 5 %).`,
      ].join('\n'),
      lastLine,
    };
  } finally {
    for (const client of clients) client.disconnect();
    await redis.stop();
  }
}
