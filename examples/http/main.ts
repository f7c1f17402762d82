/**
 * Runs the query service: `tsx examples/http/main.ts [--no-batching] [--port 3000]`.
 * Prints `listening <port>` once ready (the HTTP benchmark reads it) and closes gracefully on SIGTERM/SIGINT.
 */
import { FixedCostBackend } from './backend.js';
import { buildQueryServer, createQueryBatcher } from './server.js';

const args = process.argv.slice(2);
const portAt = args.indexOf('--port');
const port = portAt >= 0 ? Number(args[portAt + 1]) : 3000;

const backend = new FixedCostBackend({ callCostMs: 20, capacity: 4 });
const batcher = args.includes('--no-batching') ? undefined : createQueryBatcher(backend);
const app = buildQueryServer({ backend, batcher });

await app.listen({ host: '127.0.0.1', port });
const address = app.server.address();
console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
