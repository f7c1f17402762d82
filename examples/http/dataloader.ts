/**
 * The same query service with DataLoader in front of the backend, as people write it for a REST endpoint: a
 * DataLoader per batch (a new one once the last has dispatched, so that its cache dedups within a batch and never
 * serves a stale answer), batching what arrives in one tick of the event loop, at most 64 queries a call. It is
 * the third mode of `npm run bench:http`, on the same backend as main.ts; run it alone with
 * `tsx examples/http/dataloader.ts [--port 3000]` (prints `listening <port>`, closes on SIGTERM/SIGINT).
 */
import { fileURLToPath } from 'node:url';
import DataLoader from 'dataloader';
import Fastify, { type FastifyInstance } from 'fastify';
import { FixedCostBackend, type Answer, type Query } from './backend.js';

/** `load(query)` through the DataLoader of the current batch. */
export function perBatchLoader(backend: FixedCostBackend): (query: Query) => Promise<Answer> {
  let loader: DataLoader<Query, Answer, string> | undefined;
  const batch = (queries: readonly Query[]) => {
    loader = undefined; // dispatched: what comes next goes to a new loader
    return backend.answerMany(queries);
  };
  return (query) => (loader ??= new DataLoader(batch, { cacheKeyFn: (q) => q.q, maxBatchSize: 64 })).load(query);
}

/** `POST /api/query` with `{ "q": "..." }` answers `{ "q", "answer" }`, through `perBatchLoader`. */
export function buildDataLoaderServer(backend: FixedCostBackend): FastifyInstance {
  const app = Fastify();
  const load = perBatchLoader(backend);
  app.post<{ Body: Query }>('/api/query', {
    schema: { body: { type: 'object', required: ['q'], properties: { q: { type: 'string' } } } },
    handler: async (request) => load({ q: request.body.q }),
  });
  return app;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const app = buildDataLoaderServer(new FixedCostBackend({ callCostMs: 20, capacity: 4 }));
  await app.listen({ host: '127.0.0.1', port: portAt >= 0 ? Number(args[portAt + 1]) : 3000 });
  const address = app.server.address();
  console.log(`listening ${typeof address === 'object' && address ? address.port : ''}`);
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void app.close().then(() => process.exit(0)));
  }
}
