/**
 * Dedup savings on a Zipf-distributed query stream, on virtual time (exact and repeatable).
 *
 * Queries are drawn from 10,000 distinct keys with P(rank k) ~ 1 / k^s, arriving as a Poisson stream. The figure
 * is backend items executed over requests, for: no dedup, exact dedup, and exact dedup with `dedupInFlight`,
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
const RATE_PER_SECOND = 2_000;
const DURATION_MS = 10_000;
const WINDOW_MS = 20;
const MAX_SIZE = 64;
const CONCURRENCY = 4;
const EXPONENTS = [0.8, 1.0, 1.2] as const;
const duration = (n: number) => 20 + 0.5 * n;

interface Arrival {
  readonly at: number;
  readonly key: number;
}

function stream(exponent: number, seed = 11): Arrival[] {
  const random = seededRandom(seed);
  const rank = zipfSampler(KEYS, exponent, random);
  const arrivals: Arrival[] = [];
  for (let at = exponential(1000 / RATE_PER_SECOND, random); at < DURATION_MS; at += exponential(1000 / RATE_PER_SECOND, random)) {
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

interface Figure {
  readonly exponent: number;
  readonly requests: number;
  readonly none: number;
  readonly exact: number;
  readonly inFlight: number;
  readonly oracle: number;
  readonly distinct: number;
}

export default async function savingsBench(): Promise<BenchSection> {
  console.log(
    `dedup savings on a Zipf stream: ${KEYS.toLocaleString('en')} keys, Poisson ${RATE_PER_SECOND}/s for ${DURATION_MS / 1000} s ` +
      `(virtual time); windowMs ${WINDOW_MS}, maxSize ${MAX_SIZE}, concurrency ${CONCURRENCY}, backend 20 ms + 0.5 ms/item\n`,
  );
  const figures: Figure[] = EXPONENTS.map((exponent) => {
    const arrivals = stream(exponent);
    return {
      exponent,
      requests: arrivals.length,
      none: executedItems(arrivals, { enableDedup: false }),
      exact: executedItems(arrivals, {}),
      inFlight: executedItems(arrivals, { dedupInFlight: true }),
      oracle: oracleItems(arrivals),
      distinct: new Set(arrivals.map((a) => a.key)).size,
    };
  });
  const share = (items: number, f: Figure) => (items / f.requests).toFixed(3);
  const header = ['Zipf s', 'requests', 'no dedup', 'exact', 'exact + in-flight', 'oracle (per window)', 'exact / oracle', 'in-flight / oracle', 'perfect cache'];
  const rows = figures.map((f) => [
    f.exponent.toFixed(1),
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
  const plot = barChart(
    figures.flatMap((f) => [
      { label: `s=${f.exponent}: oracle per window`, value: f.oracle / f.requests, note: share(f.oracle, f) },
      { label: `s=${f.exponent}: exact`, value: f.exact / f.requests, note: share(f.exact, f), ours: true },
      { label: `s=${f.exponent}: exact + in-flight`, value: f.inFlight / f.requests, note: share(f.inFlight, f), ours: true },
    ]),
    { title: 'Backend items executed per request on a Zipf stream (lower is better)', unit: 'items / request', reference: { value: 1, label: 'no dedup' } },
  );
  const range = (values: number[]) => `${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}`;
  return {
    summary:
      `Zipf dedup savings: exact dedup executes ${range(figures.map((f) => f.exact / f.oracle))}x the per-window oracle's items ` +
      `(s = ${EXPONENTS.join(', ')}); adding in-flight dedup, ${range(figures.map((f) => f.inFlight / f.oracle))}x.`,
    title: 'Dedup savings on a Zipf stream',
    markdown: [
      `${KEYS.toLocaleString('en')} distinct queries, drawn with P(rank k) ∝ 1/k^s, arriving as a Poisson stream of`,
      `${RATE_PER_SECOND.toLocaleString('en')}/s for ${DURATION_MS / 1000} s of virtual time; \`batchDedup\` with \`windowMs: ${WINDOW_MS}\`,`,
      `\`maxSize: ${MAX_SIZE}\`, \`concurrency: ${CONCURRENCY}\`, backend 20 ms + 0.5 ms per item. Figures are backend items`,
      'executed per request. The *oracle* deduplicates each tumbling window of `windowMs` perfectly (distinct keys per',
      'window); batches are not windows (a batch may span the end of one and, while every slot is busy, grow past it),',
      'so the pipeline can land either side of it. *In-flight* dedup also joins requests equal to one already',
      'executing. The *perfect cache* (distinct keys overall) is the floor for any strategy that never reuses an',
      'answer across time; only `resultCache` goes below per-window figures.',
      '',
      markdownTable(header, rows),
      '',
      '![items per request](benchmarks-savings.svg)',
    ].join('\n'),
    plots: { 'benchmarks-savings.svg': plot },
  };
}
