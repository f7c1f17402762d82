/**
 * The demo: a bursty stream of a few thousand assistant requests through `createBatcher`, in front of a simulated
 * LLM backend whose every call costs a fixed overhead plus a per-item cost. It prints the stats and what batching
 * and dedup saved against one backend call per request. No keys, no network: `npm run demo`.
 */
import { createBatcher } from '../src/index.js';
import { seededRandom } from '../bench/lib/random.js';
import { requestMaker, type CompletionRequest } from './queries.js';

const REQUESTS = 3000;
const BURSTS = 10;
const CALL_OVERHEAD_MS = 40;
const PER_ITEM_MS = 1.5;
const COST_PER_ITEM_USD = 0.002;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

let backendCalls = 0;
let backendItems = 0;
let backendBusyMs = 0;

/** The simulated backend: one call answers a whole batch after overhead + n * per-item time. */
async function completeMany(batch: CompletionRequest[], signal: AbortSignal): Promise<string[]> {
  const costMs = CALL_OVERHEAD_MS + PER_ITEM_MS * batch.length;
  backendCalls++;
  backendItems += batch.length;
  backendBusyMs += costMs;
  await sleep(costMs);
  signal.throwIfAborted();
  return batch.map((r) => `answer(${r.model}, t=${r.temperature}): ${r.prompt}${r.params ? ' ' + JSON.stringify(r.params) : ''}`);
}

function progressBar(done: number, total: number): string {
  const width = 30;
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total}`;
}

async function main(): Promise<void> {
  const random = seededRandom(2026);
  const makeRequest = requestMaker(random);
  const batcher = createBatcher<CompletionRequest, string>({
    execute: (batch, { signal }) => completeMany(batch, signal),
    windowMs: 25,
    maxSize: 32,
    concurrency: 4,
    costPerRequestUsd: COST_PER_ITEM_USD,
  });

  const tty = process.stdout.isTTY === true;
  let done = 0;
  let failed = 0;
  let lastPrinted = -1;
  const report = () => {
    if (tty) process.stdout.write(`\r${progressBar(done, REQUESTS)}`);
    else {
      const quarter = Math.floor((done / REQUESTS) * 4);
      if (quarter !== lastPrinted) {
        lastPrinted = quarter;
        console.log(progressBar(done, REQUESTS));
      }
    }
  };

  console.log(`rxjs-batch-dedup demo: ${REQUESTS} requests in ${BURSTS} bursts; backend call = ${CALL_OVERHEAD_MS} ms + ${PER_ITEM_MS} ms/item\n`);
  const started = performance.now();
  const answers: Promise<void>[] = [];
  for (let burst = 0; burst < BURSTS; burst++) {
    const size = REQUESTS / BURSTS;
    for (let i = 0; i < size; i++) {
      answers.push(
        batcher.process(makeRequest()).then(
          () => {
            done++;
            report();
          },
          () => {
            done++;
            failed++;
            report();
          },
        ),
      );
      // Inside a burst requests arrive a few at a time, up to 2 ms apart.
      if (random() < 0.3) await sleep(Math.floor(random() * 3));
    }
    await sleep(120 + Math.floor(random() * 100));
  }
  await Promise.all(answers);
  await batcher.close();
  const wallMs = performance.now() - started;
  if (tty) process.stdout.write('\n');

  const s = batcher.getStats();
  const naiveBusyMs = REQUESTS * (CALL_OVERHEAD_MS + PER_ITEM_MS);
  const rows: [string, string][] = [
    ['requests', String(s.totalRequests)],
    ['failed', String(failed)],
    ['batches (backend calls)', String(s.totalBatches)],
    ['average batch size', s.avgBatchSize.toFixed(1)],
    ['backend items executed', String(s.executedItems)],
    ['deduplicated in a batch', `${s.deduplicated} (${(s.dedupRate * 100).toFixed(1)} % of batched requests)`],
    ['joined an execution', `${s.inFlightHits} (dedupInFlight)`],
    ['latency p50 / p95 / p99', `${s.latencyMs.p50.toFixed(0)} / ${s.latencyMs.p95.toFixed(0)} / ${s.latencyMs.p99.toFixed(0)} ms`],
    ['throughput', `${s.requestsPerSecond.toFixed(0)} requests/s`],
    ['cost saved by dedup', `$${s.costSavedUsd.toFixed(2)} at $${COST_PER_ITEM_USD}/item`],
    ['wall time', `${(wallMs / 1000).toFixed(2)} s`],
  ];
  console.log('\nstats');
  for (const [name, value] of rows) console.log(`  ${name.padEnd(26)} ${value}`);

  console.log('\nagainst one backend call per request');
  console.log(`  ${'backend calls'.padEnd(26)} ${backendCalls} instead of ${REQUESTS}: ${(100 * (1 - backendCalls / REQUESTS)).toFixed(1)} % fewer (${(REQUESTS / backendCalls).toFixed(1)}x)`);
  console.log(`  ${'backend items'.padEnd(26)} ${backendItems} instead of ${REQUESTS}: ${(100 * (1 - backendItems / REQUESTS)).toFixed(1)} % fewer`);
  console.log(`  ${'backend busy time'.padEnd(26)} ${(backendBusyMs / 1000).toFixed(1)} s instead of ${(naiveBusyMs / 1000).toFixed(1)} s`);
  console.log(`  ${'backend cost'.padEnd(26)} $${(backendItems * COST_PER_ITEM_USD).toFixed(2)} instead of $${(REQUESTS * COST_PER_ITEM_USD).toFixed(2)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
