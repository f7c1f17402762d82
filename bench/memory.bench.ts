/**
 * Memory: what one waiting request costs, and whether a long run gives its memory back.
 *
 * - Bytes retained per pending request: 100,000 requests held in the queue (a window that never closes), heap
 *   measured after a full GC before and after. For `createBatcher` this includes the caller's promise. Beside it,
 *   in the same run, DataLoader's pending `load()` (cache on and off; issue 15's comparison).
 * - Heap after 1,000,000 requests: a batcher serves a million requests (echo backend, real timers), then the
 *   heap is measured with the batcher still alive (bounded state: stats keep a fixed window of latencies) and
 *   after `close()`, against the baseline taken before it was created.
 *
 * Needs `--expose-gc` (npm run bench passes it); without it the figures would be noise, so it skips.
 */
// First: refuses a dist/ older than src/ (these benches measure the built package, see the module).
import './lib/builtPackage.js';
import DataLoader from 'dataloader';
import { Subject } from 'rxjs';
import { batchDedup, createBatcher } from 'rxjs-batch-dedup';
import { consoleTable, formatInteger, markdownTable, type BenchSection } from './lib/report.js';
import { barChart } from './lib/svg.js';

const PENDING = 100_000;
const TOTAL = 1_000_000;
const CHUNK = 10_000;
const NEVER_MS = 3_600_000;

const collect = globalThis.gc as (() => void) | undefined;

/** Heap in use after full collections (several, so finalizers and weak references settle). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    collect!();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

const echo = (items: readonly string[]) => Promise.resolve(items.map((item) => `=${item}`));
const requestsOf = (n: number) => Array.from({ length: n }, (_, i) => `request ${i}`);

async function pendingBatcher(enableDedup = true): Promise<number> {
  const requests = requestsOf(PENDING); // allocated before the baseline: only the batcher's share is counted
  const batcher = createBatcher<string, string>({ execute: echo, windowMs: NEVER_MS, maxWaitMs: NEVER_MS, maxSize: Infinity, enableDedup });
  const before = await settledHeap();
  const promises = requests.map((request) => batcher.process(request));
  const after = await settledHeap();
  const closing = batcher.close(); // flushes the one big batch
  await Promise.all(promises);
  await closing;
  return (after - before) / PENDING;
}

/**
 * The same for DataLoader: its batch is held back (a `batchScheduleFn` that dispatches only when told), with its
 * cache on (its only dedup: a Map from key to promise) or off. Includes the promise handed to the caller.
 */
async function pendingDataLoader(cache: boolean): Promise<number> {
  const requests = requestsOf(PENDING);
  let dispatch: (() => void) | undefined;
  const loader = new DataLoader<string, string>((keys) => echo(keys), {
    cache,
    batchScheduleFn: (callback) => {
      dispatch = callback;
    },
  });
  const before = await settledHeap();
  const promises = requests.map((request) => loader.load(request));
  const after = await settledHeap();
  dispatch!();
  await Promise.all(promises);
  return (after - before) / PENDING;
}

async function pendingOperator(): Promise<number> {
  const requests = requestsOf(PENDING);
  const input = new Subject<string>();
  let answered = 0;
  input.pipe(batchDedup({ execute: echo, windowMs: NEVER_MS, maxWaitMs: NEVER_MS, maxSize: Infinity })).subscribe(() => answered++);
  const before = await settledHeap();
  for (const request of requests) input.next(request);
  const after = await settledHeap();
  input.complete();
  while (answered < PENDING) await new Promise<void>((resolve) => setImmediate(resolve));
  return (after - before) / PENDING;
}

async function millionRequests(): Promise<{ baseline: number; alive: number; closed: number }> {
  const baseline = await settledHeap();
  let batcher: ReturnType<typeof createBatcher<string, string>> | undefined = createBatcher<string, string>({
    execute: echo,
    windowMs: 1,
    maxSize: 1_000,
  });
  for (let start = 0; start < TOTAL; start += CHUNK) {
    const chunk: Promise<string>[] = [];
    for (let i = start; i < start + CHUNK; i++) chunk.push(batcher.process(`request ${i % 50_000}`));
    await Promise.all(chunk);
  }
  if (batcher.getStats().completed !== TOTAL) throw new Error('not every request completed');
  const alive = await settledHeap();
  await batcher.close();
  batcher = undefined;
  const closed = await settledHeap();
  return { baseline, alive, closed };
}

export default async function memoryBench(): Promise<BenchSection | void> {
  if (!collect) {
    console.log('memory: skipped, run with node --expose-gc (npm run bench does)');
    return;
  }
  console.log(`memory: ${formatInteger(PENDING)} pending requests; then ${formatInteger(TOTAL)} requests through one batcher\n`);
  const perBatcher = await pendingBatcher();
  const perBatcherNoDedup = await pendingBatcher(false);
  const perDataLoader = await pendingDataLoader(true);
  const perDataLoaderNoCache = await pendingDataLoader(false);
  const perOperator = await pendingOperator();
  const million = await millionRequests();
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
  const signedKib = (bytes: number) => `${bytes >= 0 ? '+' : ''}${kib(bytes)}`;
  const header = ['figure', 'value'];
  const rows = [
    ['bytes retained per pending request, createBatcher().process, exact dedup (incl. its promise)', formatInteger(perBatcher)],
    ['bytes retained per pending request, DataLoader load(), cache on: its dedup (incl. its promise)', formatInteger(perDataLoader)],
    ['bytes retained per pending request, createBatcher().process, dedup off (incl. its promise)', formatInteger(perBatcherNoDedup)],
    ['bytes retained per pending request, DataLoader load(), cache off (incl. its promise)', formatInteger(perDataLoaderNoCache)],
    ['bytes retained per pending request, batchDedup operator', formatInteger(perOperator)],
    ['heap baseline before the batcher', kib(million.baseline)],
    [`heap after ${formatInteger(TOTAL)} requests, batcher still open`, `${kib(million.alive)} (${signedKib(million.alive - million.baseline)})`],
    [`heap after ${formatInteger(TOTAL)} requests, batcher closed`, `${kib(million.closed)} (${signedKib(million.closed - million.baseline)})`],
  ];
  console.log(consoleTable(header, rows));
  const sideBySide =
    `pending request: createBatcher ${formatInteger(perBatcher)} B vs DataLoader ${formatInteger(perDataLoader)} B (dedup: ${(perBatcher / perDataLoader).toFixed(2)}x); ` +
    `dedup off ${formatInteger(perBatcherNoDedup)} B vs cache off ${formatInteger(perDataLoaderNoCache)} B (${(perBatcherNoDedup / perDataLoaderNoCache).toFixed(2)}x)`;
  console.log(`\n${sideBySide}`);
  const plot = barChart(
    [
      { label: 'baseline', value: million.baseline / 1024, note: kib(million.baseline) },
      { label: `after ${formatInteger(TOTAL)}, open`, value: million.alive / 1024, note: kib(million.alive), ours: true },
      { label: `after ${formatInteger(TOTAL)}, closed`, value: million.closed / 1024, note: kib(million.closed), ours: true },
    ],
    { title: `Heap in use after full GC, before and after ${formatInteger(TOTAL)} requests`, unit: 'KiB' },
  );
  return {
    summary:
      `Memory: ${formatInteger(perBatcher)} bytes per pending \`process()\` call (with its promise; DataLoader's \`load()\`: ${formatInteger(perDataLoader)}), ${formatInteger(perOperator)} per pending operator request; ` +
      `heap after ${formatInteger(TOTAL)} requests ${signedKib(million.alive - million.baseline)} from baseline (open), ${signedKib(million.closed - million.baseline)} (closed).`,
    title: 'Memory',
    markdown: [
      `*Per pending request*: ${formatInteger(PENDING)} requests held in a window that never closes; heap after a full GC`,
      'before and after they were submitted, divided by their number (the request strings themselves are allocated',
      'before the baseline). The promise bridge figure includes the promise handed to the caller. DataLoader, measured',
      'in the same run the same way (its batch held back by a `batchScheduleFn` that dispatches only when told), is the',
      'reference: with its cache on (its only dedup) against our exact dedup, off against our dedup off.',
      '',
      `*Back to baseline*: one batcher (echo backend, \`windowMs: 1\`, \`maxSize: 1000\`, real timers) serves`,
      `${formatInteger(TOTAL)} requests in chunks of ${formatInteger(CHUNK)}; the heap is measured after a full GC with the batcher`,
      'still open (its state is bounded: the stats keep a fixed window of latencies) and after `close()`. Run with',
      '`node --expose-gc` (as `npm run bench` does).',
      '',
      markdownTable(header, rows),
      '',
      `Side by side: ${sideBySide}.`,
      '',
      '![heap before and after](benchmarks-memory.svg)',
    ].join('\n'),
    plots: { 'benchmarks-memory.svg': plot },
    lastLine: sideBySide,
  };
}
