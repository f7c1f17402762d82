/**
 * Bursty throughput against a simulated backend, on virtual time (exact and repeatable).
 *
 * Backend: `duration(n) = 20 ms + 0.5 ms * n`, concurrency 4. Bursts of B requests arrive at once every P ms.
 * Achieved throughput is requests / (last result - first arrival). The ideal is the same count over the shortest
 * makespan any scheduler could reach with that backend and batch limit (see `idealMakespan`). The gain is
 * achieved throughput over one backend call per request (same arrivals, `maxSize: 1`).
 */
import { Subject } from 'rxjs';
import { batchDedup } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { consoleTable, formatInteger, markdownTable, type BenchSection } from './lib/report.js';
import { barChart } from './lib/svg.js';

const CONCURRENCY = 4;
const MAX_SIZE = 256;
const WINDOW_MS = 10;
const SETUP_MS = 20;
const PER_ITEM_MS = 0.5;
const duration = (n: number) => SETUP_MS + PER_ITEM_MS * n;

interface Workload {
  readonly label: string;
  readonly burst: number;
  readonly everyMs: number;
  readonly bursts: number;
}

const WORKLOADS: Workload[] = [
  { label: '200 every 50 ms', burst: 200, everyMs: 50, bursts: 100 },
  { label: '1,000 every 200 ms', burst: 1_000, everyMs: 200, bursts: 25 },
  { label: '1,000 every 100 ms (overload)', burst: 1_000, everyMs: 100, bursts: 50 },
  { label: '5,000 every 1 s', burst: 5_000, everyMs: 1_000, bursts: 5 },
];

/** Arrival time of every request, in order. */
function arrivalsOf(w: Workload): number[] {
  return Array.from({ length: w.burst * w.bursts }, (_, i) => Math.floor(i / w.burst) * w.everyMs);
}

/**
 * A lower bound on the makespan, and a tight one: the requests arriving at or after a_j cannot start before a_j;
 * spread over c slots, some slot carries at least m = ceil(N_j / c) of them, in at least ceil(m / maxSize) calls,
 * so it needs ceil(m / maxSize) * 20 + 0.5 * m ms. The ideal makespan is the worst such bound over all j.
 */
function idealMakespan(arrivals: readonly number[], maxSize: number, concurrency: number): number {
  let end = 0;
  for (let j = 0; j < arrivals.length; j++) {
    if (j > 0 && arrivals[j] === arrivals[j - 1]) continue;
    const perSlot = Math.ceil((arrivals.length - j) / concurrency);
    end = Math.max(end, arrivals[j]! + Math.ceil(perSlot / maxSize) * SETUP_MS + PER_ITEM_MS * perSlot);
  }
  return end - arrivals[0]!;
}

/** Runs the arrivals through batchDedup on virtual time; returns the makespan and the backend calls made. */
function simulate(arrivals: readonly number[], maxSize: number): { makespanMs: number; calls: number } {
  const clock = virtualClock();
  const scheduler = clock.scheduler;
  const backend = simulatedBackend({ scheduler, durationMs: duration, compute: (id: number) => id });
  const requests = new Subject<number>();
  let lastResultAt = 0;
  let results = 0;
  requests
    .pipe(batchDedup({ execute: backend.execute, windowMs: WINDOW_MS, maxSize, concurrency: CONCURRENCY, enableDedup: false, scheduler }))
    .subscribe(() => {
      results++;
      lastResultAt = scheduler.now();
    });
  let i = 0;
  while (i < arrivals.length) {
    const at = arrivals[i]!;
    const first = i;
    while (i < arrivals.length && arrivals[i] === at) i++;
    const end = i;
    scheduler.schedule(() => {
      for (let id = first; id < end; id++) requests.next(id);
    }, at);
  }
  clock.runAll();
  if (results !== arrivals.length) throw new Error(`expected ${arrivals.length} results, got ${results}`);
  return { makespanMs: lastResultAt - arrivals[0]!, calls: backend.calls.length };
}

interface Figure {
  readonly workload: Workload;
  readonly requests: number;
  readonly achievedPerSecond: number;
  readonly idealPerSecond: number;
  readonly unbatchedPerSecond: number;
  readonly calls: number;
}

export default async function throughputBench(): Promise<BenchSection> {
  console.log(
    `bursty throughput on virtual time: backend ${SETUP_MS} ms + ${PER_ITEM_MS} ms/item, concurrency ${CONCURRENCY}, ` +
      `maxSize ${MAX_SIZE}, windowMs ${WINDOW_MS}\n`,
  );
  const figures: Figure[] = WORKLOADS.map((workload) => {
    const arrivals = arrivalsOf(workload);
    const batched = simulate(arrivals, MAX_SIZE);
    const unbatched = simulate(arrivals, 1);
    const perSecond = (ms: number) => (arrivals.length / ms) * 1000;
    return {
      workload,
      requests: arrivals.length,
      achievedPerSecond: perSecond(batched.makespanMs),
      idealPerSecond: perSecond(idealMakespan(arrivals, MAX_SIZE, CONCURRENCY)),
      unbatchedPerSecond: perSecond(unbatched.makespanMs),
      calls: batched.calls,
    };
  });
  const header = ['bursts', 'requests', 'offered/s', 'achieved/s', 'ideal/s', 'of ideal', 'one call per request/s', 'gain', 'backend calls'];
  const rows = figures.map((f) => [
    f.workload.label,
    formatInteger(f.requests),
    formatInteger((f.workload.burst * 1000) / f.workload.everyMs),
    formatInteger(f.achievedPerSecond),
    formatInteger(f.idealPerSecond),
    `${((100 * f.achievedPerSecond) / f.idealPerSecond).toFixed(1)} %`,
    formatInteger(f.unbatchedPerSecond),
    `${(f.achievedPerSecond / f.unbatchedPerSecond).toFixed(1)}x`,
    formatInteger(f.calls),
  ]);
  console.log(consoleTable(header, rows));
  const plot = barChart(
    figures.map((f) => ({
      label: f.workload.label,
      value: (100 * f.achievedPerSecond) / f.idealPerSecond,
      note: `${((100 * f.achievedPerSecond) / f.idealPerSecond).toFixed(1)} % (${(f.achievedPerSecond / f.unbatchedPerSecond).toFixed(0)}x unbatched)`,
      ours: true,
    })),
    { title: 'Bursty throughput as a share of the ideal for the backend (higher is better)', unit: '% of ideal', reference: { value: 100, label: 'ideal' } },
  );
  const shares = figures.map((f) => (100 * f.achievedPerSecond) / f.idealPerSecond);
  const gains = figures.map((f) => f.achievedPerSecond / f.unbatchedPerSecond);
  return {
    summary:
      `Bursty throughput: ${Math.min(...shares).toFixed(1)}–${Math.max(...shares).toFixed(1)} % of the ideal for a 20 ms + 0.5 ms/item backend, ` +
      `${Math.min(...gains).toFixed(0)}–${Math.max(...gains).toFixed(0)}x the throughput of one call per request.`,
    title: 'Bursty throughput against the ideal',
    markdown: [
      `A simulated backend whose call on n items takes ${SETUP_MS} ms + ${PER_ITEM_MS} ms × n, ${CONCURRENCY} calls at once,`,
      `fed bursts of requests on virtual time (exact, repeatable); \`batchDedup\` with \`maxSize: ${MAX_SIZE}\`,`,
      `\`windowMs: ${WINDOW_MS}\`, \`concurrency: ${CONCURRENCY}\`, dedup off (all requests distinct).`,
      '',
      '- *achieved*: requests / (last result − first arrival).',
      '- *ideal*: the same requests over the shortest possible makespan with that backend and batch limit. For every',
      '  arrival time a, the N requests arriving from a on cannot start before a, and some slot must carry',
      `  m = ⌈N / ${CONCURRENCY}⌉ of them in ⌈m / ${MAX_SIZE}⌉ calls, so the makespan is at least`,
      `  a + ⌈m / ${MAX_SIZE}⌉ × ${SETUP_MS} + ${PER_ITEM_MS} × m; the ideal is the largest such bound.`,
      '- *gain*: achieved throughput over one backend call per request (same arrivals, `maxSize: 1`).',
      '',
      markdownTable(header, rows),
      '',
      '![throughput as a share of the ideal](benchmarks-throughput.svg)',
    ].join('\n'),
    plots: { 'benchmarks-throughput.svg': plot },
  };
}
