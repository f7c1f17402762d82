/**
 * Dedup savings on a Zipf-distributed query stream, on virtual time (exact and repeatable).
 *
 * Queries are drawn from 10,000 distinct keys with P(rank k) ~ 1 / k^s, arriving as a Poisson stream. The figure
 * is backend items executed over requests, for: no dedup, exact dedup within the forming batch only
 * (`dedupInFlight: false`), and the defaults (exact dedup, and a duplicate of an executing request joins it),
 * against the oracle minimum for per-window dedup (the distinct keys of each `windowMs` window of arrivals) and
 * the floor no batching can beat (distinct keys overall, what a perfect cache would execute).
 */
import { Subject } from 'rxjs';
import { batchDedup, type BatchDedupOptions } from '../src/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';
import { playArrivals } from './lib/arrivals.js';
import { exponential, seededRandom, zipfSampler } from './lib/random.js';
import { consoleTable, markdownTable, type BenchSection } from './lib/report.js';
import { barChart } from './lib/svg.js';

const KEYS = 10_000;
const WINDOW_MS = 20;
const MAX_SIZE = 64;
const CONCURRENCY = 4;
const duration = (n: number) => 20 + 0.5 * n;

/** A stream: the Zipf exponent, the arrival rate and how long it lasts (virtual time). */
interface Load {
  readonly exponent: number;
  readonly ratePerSecond: number;
  readonly durationMs: number;
}

/**
 * At 2,000/s a window holds about 40 requests, so batches seldom fill; at 20,000/s one holds about 400, so they
 * fill (`maxSize` distinct items) and duplicates that arrive meanwhile must join an execution to be saved.
 */
const LOADS: readonly Load[] = [
  { exponent: 0.8, ratePerSecond: 2_000, durationMs: 10_000 },
  { exponent: 1.0, ratePerSecond: 2_000, durationMs: 10_000 },
  { exponent: 1.2, ratePerSecond: 2_000, durationMs: 10_000 },
  { exponent: 1.0, ratePerSecond: 20_000, durationMs: 1_000 },
];

interface Arrival {
  readonly at: number;
  readonly key: number;
}

function stream({ exponent, ratePerSecond, durationMs }: Load, seed = 11): Arrival[] {
  const random = seededRandom(seed);
  const rank = zipfSampler(KEYS, exponent, random);
  const arrivals: Arrival[] = [];
  for (let at = exponential(1000 / ratePerSecond, random); at < durationMs; at += exponential(1000 / ratePerSecond, random)) {
    arrivals.push({ at, key: rank() });
  }
  return arrivals;
}

/** Distinct keys per tumbling window of `WINDOW_MS`: what an oracle deduplicating each window would execute. */
function oracleItems(arrivals: readonly Arrival[]): number {
  const perWindow = new Map<number, Set<number>>();
  for (const { at, key } of arrivals) {
    const window = Math.floor(at / WINDOW_MS);
    let keys = perWindow.get(window);
    if (!keys) perWindow.set(window, (keys = new Set()));
    keys.add(key);
  }
  let total = 0;
  for (const keys of perWindow.values()) total += keys.size;
  return total;
}

type Variant = Pick<BatchDedupOptions<number, number>, 'enableDedup' | 'dedupInFlight'>;

/** Backend items executed for the stream through batchDedup with the given dedup settings. */
function executedItems(arrivals: readonly Arrival[], variant: Variant): number {
  const clock = virtualClock();
  const scheduler = clock.scheduler;
  const backend = simulatedBackend({ scheduler, durationMs: duration, compute: (key: number) => key });
  const requests = new Subject<number>();
  let results = 0;
  requests
    .pipe(batchDedup({ ...variant, execute: backend.execute, key: String, windowMs: WINDOW_MS, maxSize: MAX_SIZE, concurrency: CONCURRENCY, scheduler }))
    .subscribe((result) => {
      if (result.status !== 'fulfilled' || result.value !== result.request) throw new Error('wrong answer');
      results++;
    });
  playArrivals(scheduler, arrivals.map((a) => a.at), (i) => requests.next(arrivals[i]!.key));
  clock.runAll();
  if (results !== arrivals.length) throw new Error(`expected ${arrivals.length} results, got ${results}`);
  return backend.items();
}

interface Figure extends Load {
  readonly requests: number;
  readonly none: number;
  readonly exact: number;
  readonly inFlight: number;
  readonly oracle: number;
  readonly distinct: number;
}

export default async function savingsBench(): Promise<BenchSection> {
  console.log(
    `dedup savings on a Zipf stream: ${KEYS.toLocaleString('en')} keys, Poisson arrivals (virtual time); ` +
      `windowMs ${WINDOW_MS}, maxSize ${MAX_SIZE}, concurrency ${CONCURRENCY}, backend 20 ms + 0.5 ms/item\n`,
  );
  const figures: Figure[] = LOADS.map((load) => {
    const arrivals = stream(load);
    return {
      ...load,
      requests: arrivals.length,
      none: executedItems(arrivals, { enableDedup: false }),
      exact: executedItems(arrivals, { dedupInFlight: false }),
      inFlight: executedItems(arrivals, {}), // the defaults
      oracle: oracleItems(arrivals),
      distinct: new Set(arrivals.map((a) => a.key)).size,
    };
  });
  const share = (items: number, f: Figure) => (items / f.requests).toFixed(3);
  const header = ['Zipf s', 'rate', 'requests', 'no dedup', 'exact, no in-flight', 'defaults (exact + in-flight)', 'oracle (per window)', 'exact / oracle', 'defaults / oracle', 'perfect cache'];
  const rows = figures.map((f) => [
    f.exponent.toFixed(1),
    `${f.ratePerSecond.toLocaleString('en')}/s`,
    f.requests.toLocaleString('en'),
    share(f.none, f),
    share(f.exact, f),
    share(f.inFlight, f),
    share(f.oracle, f),
    (f.exact / f.oracle).toFixed(3),
    (f.inFlight / f.oracle).toFixed(3),
    share(f.distinct, f),
  ]);
  console.log('backend items executed per request (lower is better):');
  console.log(consoleTable(header, rows));
  const labelOf = (f: Figure) => `s=${f.exponent}, ${f.ratePerSecond / 1000}k/s`;
  const plot = barChart(
    figures.flatMap((f) => [
      { label: `${labelOf(f)}: oracle per window`, value: f.oracle / f.requests, note: share(f.oracle, f) },
      { label: `${labelOf(f)}: exact, no in-flight`, value: f.exact / f.requests, note: share(f.exact, f), ours: true },
      { label: `${labelOf(f)}: defaults`, value: f.inFlight / f.requests, note: share(f.inFlight, f), ours: true },
    ]),
    { title: 'Backend items executed per request on a Zipf stream (lower is better)', unit: 'items / request', reference: { value: 1, label: 'no dedup' } },
  );
  const range = (values: number[]) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`;
  const exponents = [...new Set(figures.map((f) => f.exponent))].join(', ');
  return {
    summary:
      `Zipf dedup savings: with the defaults (exact dedup, in-flight joins) the pipeline executes ` +
      `${range(figures.map((f) => f.inFlight / f.oracle))}x the per-window oracle's items (s = ${exponents}, ` +
      `2,000 and 20,000 requests/s); without in-flight joins, ${range(figures.map((f) => f.exact / f.oracle))}x.`,
    title: 'Dedup savings on a Zipf stream',
    markdown: [
      `${KEYS.toLocaleString('en')} distinct queries, drawn with P(rank k) ∝ 1/k^s, arriving as a Poisson stream (2,000/s`,
      `for 10 s, and 20,000/s for 1 s, of virtual time); \`batchDedup\` with \`windowMs: ${WINDOW_MS}\`,`,
      `\`maxSize: ${MAX_SIZE}\`, \`concurrency: ${CONCURRENCY}\`, backend 20 ms + 0.5 ms per item. Figures are backend items`,
      'executed per request. At 2,000/s a window holds about 40 requests and batches seldom fill; at 20,000/s they do.',
      'The *oracle* deduplicates each tumbling window of `windowMs` perfectly (distinct keys per',
      'window); batches are not windows (a batch may span the end of one and, while every slot is busy, grow past it),',
      'so the pipeline can land either side of it. A duplicate of a request waiting for its batch joins it and takes',
      'no place in it (`maxSize` counts distinct items); with the defaults, one of a request already executing joins',
      'that execution too (`dedupInFlight`, on by default; the *no in-flight* column turns it off). The *perfect',
      'cache* (distinct keys overall) is what a result cache that never expires would execute: the floor for any',
      'strategy; `resultCache` moves towards it.',
      '',
      markdownTable(header, rows),
      '',
      '![items per request](benchmarks-savings.svg)',
    ].join('\n'),
    plots: { 'benchmarks-savings.svg': plot },
  };
}
