/**
 * End to end over real sockets: a Nest microservice on TCP 127.0.0.1 (port 0) and a client application with
 * `ClientsModule`, hundreds of concurrent messages with duplicates.
 *
 * Batch boundaries are made deterministic by count, not by time: `minSize === maxSize === ITEMS` with a long
 * `maxWaitMs`. `maxSize` counts distinct items (a copy of a waiting message joins it and takes no place), so every
 * group of GROUP consecutive messages holds all copies of its keys and ends with a key of its own, its ITEMS-th
 * distinct one, which fills the batch once every copy is in. Messages on one TCP connection arrive in order, so
 * each batch is exactly one group, on a fast machine or a slow one.
 */
import { Module, type DynamicModule, type INestApplicationContext, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ClientsModule, Transport, type ClientProxy, type MicroserviceOptions } from '@nestjs/microservices';
import type { AddressInfo, Server } from 'node:net';
import { lastValueFrom } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { MATH_SERVICE, SquareClient, SquareClientModule } from './fixtures/nest-e2e/client.js';
import {
  SquareBackend,
  SquareBackendModule,
  SquareController,
  SquareServerModule,
} from './fixtures/nest-e2e/server.js';
import type { BatchDedupOptions } from '../src/index.js';
import { BatchDedupModule, BatchDedupRegistry, getBatcherToken, sendBatch, type BatchDedupService } from '../src/nestjs/index.js';
import { until } from './support.js';

const HOST = '127.0.0.1';
const GROUP = 41; // messages per batch: 10 keys x 4 copies, then the group's own closing key
const ITEMS = 11; // distinct items per batch
const GROUPS = 10;
/** The key that closes group g (and fills its batch). */
const closer = (g: number) => 1000 + g;

/**
 * GROUPS groups of GROUP messages; group g holds 4 copies each of keys 10g..10g+9, shuffled within the group, and
 * then its closer.
 */
function workload(): number[] {
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const messages: number[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const group = Array.from({ length: GROUP - 1 }, (_, i) => g * 10 + (i % 10));
    for (let i = group.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [group[i], group[j]] = [group[j]!, group[i]!];
    }
    messages.push(...group, closer(g));
  }
  return messages;
}

/** Every key of the workload, once: 0..99 and the closers. */
const everyKey = [...Array.from({ length: GROUPS * 10 }, (_, i) => i), ...Array.from({ length: GROUPS }, (_, g) => closer(g))];

/** Batches form by count only; the long maxWaitMs never fires in these tests. */
const byCount = (size: number): Partial<BatchDedupOptions<number, number>> => ({
  windowMs: 2,
  minSize: size,
  maxSize: size,
  maxWaitMs: 60_000,
});

/** The docs' controller with a batcher configured by the test. */
function serverModule(batching: Partial<BatchDedupOptions<number, number>>): DynamicModule {
  class TestServerModule {}
  Module({})(TestServerModule);
  return {
    module: TestServerModule,
    imports: [
      SquareBackendModule,
      BatchDedupModule.forRootAsync({
        batcherNames: ['square'],
        imports: [SquareBackendModule],
        inject: [SquareBackend],
        useFactory: (backend: SquareBackend) => ({
          batchers: { square: { ...batching, execute: (ns: number[]) => backend.squareMany(ns) } },
        }),
      }),
    ],
    controllers: [SquareController],
  };
}

/** A client application that batches on its side with `sendBatch`. */
function clientModule(port: number, batching: Partial<BatchDedupOptions<number, number>>): DynamicModule {
  class TestClientModule {}
  Module({})(TestClientModule);
  const clients = ClientsModule.register([{ name: MATH_SERVICE, transport: Transport.TCP, options: { host: HOST, port } }]);
  return {
    module: TestClientModule,
    imports: [
      clients,
      BatchDedupModule.forRootAsync({
        batcherNames: ['square'],
        imports: [clients],
        inject: [MATH_SERVICE],
        useFactory: (math: ClientProxy) => ({
          batchers: { square: { ...batching, execute: sendBatch<number, number>(math, 'square.many') } },
        }),
      }),
    ],
  };
}

async function startServer(module: DynamicModule | (new () => unknown)): Promise<{ app: INestMicroservice; port: number }> {
  const app = await NestFactory.createMicroservice<MicroserviceOptions>(module, {
    transport: Transport.TCP,
    options: { host: HOST, port: 0 },
    logger: false,
  });
  await app.listen();
  const port = (app.unwrap<Server>().address() as AddressInfo).port;
  return { app, port };
}

async function startClient(module: DynamicModule): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(module, { logger: false });
  await app.get<ClientProxy>(MATH_SERVICE).connect();
  return app;
}

function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind.startsWith('TCP')).length;
}

function expectEachKeyOnce(calls: number[][], keys: number[]): void {
  expect(calls.flat().sort((a, b) => a - b)).toEqual(keys);
}

/** Starts a server, then a client for its port, runs the test, and closes both whatever happens. */
async function withApps(
  server: DynamicModule | (new () => unknown),
  client: (port: number) => DynamicModule,
  test: (server: INestMicroservice, client: INestApplicationContext) => Promise<void>,
): Promise<void> {
  const started = await startServer(server);
  try {
    const clientApp = await startClient(client(started.port));
    try {
      await test(started.app, clientApp);
    } finally {
      await clientApp.close();
    }
  } finally {
    await started.app.close();
  }
}

describe('BatchDedupModule over TCP', () => {
  let baselineHandles: number;

  beforeAll(() => {
    baselineHandles = tcpHandles();
  });

  it('server side: the handler batches concurrent messages; each unique request reaches the backend once', async () => {
    await withApps(serverModule(byCount(ITEMS)), (port) => SquareClientModule.forServer(HOST, port), async (server, client) => {
      const messages = workload();
      const squares = client.get(SquareClient);
      const answers = await Promise.all(messages.map((n) => lastValueFrom(squares.square(n))));

      expect(answers).toEqual(messages.map((n) => n * n)); // every caller got its own answer
      const backend = server.get(SquareBackend);
      expect(backend.calls).toHaveLength(GROUPS); // 410 messages, 10 backend calls
      expect(backend.calls.every((batch) => batch.length === ITEMS)).toBe(true);
      expectEachKeyOnce(backend.calls, everyKey);
      const stats = server.get(BatchDedupRegistry).get('square').getStats();
      expect(stats).toMatchObject({ totalRequests: 410, totalBatches: GROUPS, avgBatchSize: GROUP, deduplicated: 300 });
    });
  });

  it('client side: concurrent calls leave as batched messages and replies fan back to each caller', async () => {
    await withApps(SquareServerModule, (port) => clientModule(port, byCount(ITEMS)), async (server, client) => {
      const messages = workload();
      const squares = client.get<BatchDedupService<number, number>>(getBatcherToken('square'));
      const answers = await Promise.all(messages.map((n) => lastValueFrom(squares.process(n))));

      expect(answers).toEqual(messages.map((n) => n * n));
      const backend = server.get(SquareBackend);
      expect(backend.calls).toHaveLength(GROUPS); // 10 'square.many' messages went over the wire
      expectEachKeyOnce(backend.calls, everyKey);
      expect(squares.getStats()).toMatchObject({ totalBatches: GROUPS, executedItems: GROUPS * ITEMS, deduplicated: 300 });
    });
  });

  it('the docs apps, as configured there (5 ms window): every caller gets its own answer, both modes', async () => {
    await withApps(SquareServerModule, (port) => SquareClientModule.forServer(HOST, port), async (server, client) => {
      const messages = workload();
      const squares = client.get(SquareClient);
      const [remote, batched] = await Promise.all([
        Promise.all(messages.map((n) => lastValueFrom(squares.square(n)))),
        Promise.all(messages.map((n) => lastValueFrom(squares.squareBatched(n)))),
      ]);
      expect(remote).toEqual(messages.map((n) => n * n));
      expect(batched).toEqual(messages.map((n) => n * n));
      // Client side: all 410 calls are submitted in one tick, so every copy joins an equal request waiting for its
      // batch or already sent: each of the 110 keys leaves once (without dedup: 410).
      const clientStats = client.get<BatchDedupService<number, number>>(getBatcherToken('square')).getStats();
      expect(clientStats.executedItems).toBe(everyKey.length);
      expect(clientStats.deduplicated + clientStats.inFlightHits).toBe(messages.length - everyKey.length);
      // Server side, batch boundaries depend on when messages come off the socket, so a bound: the copies of a
      // key arrive within 41 consecutive messages, so they share its execution; both modes together send the
      // backend fewer items than one mode would without dedup (410), and every key at least once.
      const serverStats = server.get(BatchDedupRegistry).get('square').getStats();
      expect(serverStats.deduplicated + serverStats.inFlightHits).toBeGreaterThan(0);
      const executed = server.get(SquareBackend).calls.flat();
      expect(executed.length).toBe(clientStats.executedItems + serverStats.executedItems);
      expect(executed.length).toBeLessThan(messages.length);
      expect(new Set(executed).size).toBe(everyKey.length);
    });
  });

  it('client app.close() drains: requests still waiting for their batch are sent and answered', async () => {
    await withApps(SquareServerModule, (port) => clientModule(port, byCount(1_000)), async (server, client) => {
      const squares = client.get<BatchDedupService<number, number>>(getBatcherToken('square'));
      const pending = Array.from({ length: 30 }, (_, i) => lastValueFrom(squares.process(i % 20)));
      await until(() => squares.getStats().queueDepth === 30);
      expect(squares.getStats().queueDepth).toBe(30); // all waiting, copies included: a batch of 1,000 never fills
      expect(server.get(SquareBackend).calls).toHaveLength(0);

      await client.close();

      expect(await Promise.all(pending)).toEqual(Array.from({ length: 30 }, (_, i) => (i % 20) ** 2));
      expect(server.get(SquareBackend).calls).toEqual([Array.from({ length: 20 }, (_, i) => i)]);
      await expect(lastValueFrom(squares.process(1))).rejects.toMatchObject({ name: 'BatcherClosedError' });
    });
  });

  it('server drain() before app.close() answers every message already received', async () => {
    await withApps(serverModule(byCount(1_000)), (port) => SquareClientModule.forServer(HOST, port), async (server, client) => {
      const squares = client.get(SquareClient);
      const registry = server.get(BatchDedupRegistry);
      const pending = Array.from({ length: 30 }, (_, i) => lastValueFrom(squares.square(i)));
      await until(() => registry.get('square').getStats().queueDepth === 30);
      expect(registry.get('square').getStats().queueDepth).toBe(30);

      await registry.drain();

      expect(await Promise.all(pending)).toEqual(Array.from({ length: 30 }, (_, i) => i * i));
      expect(server.get(SquareBackend).calls).toHaveLength(1);
      // After draining, a new message gets an error reply rather than hanging.
      await expect(lastValueFrom(squares.square(99))).rejects.toMatchObject({ status: 'error' });
    });
  });

  it('closing the apps leaves no open TCP handles', async () => {
    await until(() => tcpHandles() === baselineHandles);
    expect(tcpHandles()).toBe(baselineHandles);

    // The client on its own: closing it while the server stays up releases its connection.
    const server = await startServer(SquareServerModule);
    try {
      const serverOnly = tcpHandles();
      const client = await startClient(SquareClientModule.forServer(HOST, server.port));
      try {
        expect(await lastValueFrom(client.get(SquareClient).squareBatched(3))).toBe(9);
        expect(tcpHandles()).toBeGreaterThan(serverOnly);
      } finally {
        await client.close();
      }
      await until(() => tcpHandles() === serverOnly);
      expect(tcpHandles()).toBe(serverOnly);
    } finally {
      await server.app.close();
    }
    await until(() => tcpHandles() === baselineHandles);
    expect(tcpHandles()).toBe(baselineHandles);
  });
});
