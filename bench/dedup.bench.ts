/**
 * Semantic dedup of one batch: the library's greedy leader assignment (cosine with exact bounds that skip most
 * pairs, see docs/decisions.md "Exact pruning of semantic dedup") against a naive all-pairs loop over ml-distance's `cosine`, on 384-dimensional vectors (the size
 * of all-MiniLM-L6-v2 and similar sentence models), for a 32-request and a 4096-request batch.
 *
 *   npx tsx bench/dedup.bench.ts        # alone, on the dist/ that `npm run build` made
 *   npm run bench -- dedup               # through bench/run.ts
 *
 * Timings are ratios from one run on one machine; nothing here asserts a time. What it does assert, on every run:
 * the library's leaders are those of the naive loop, at both sizes (the last line says so, or the bench fails).
 */
// First: refuses a dist/ older than src/ (these benches measure the built package, see the module).
import './lib/builtPackage.js';
import { fileURLToPath } from 'node:url';
import { similarity } from 'ml-distance';
import { firstValueFrom, of } from 'rxjs';
import { dedupBy, type DedupedBatch, type Embedder } from 'rxjs-batch-dedup';
import { seededRandom } from './lib/random.js';
import { consoleTable, markdownTable, type BenchSection } from './lib/report.js';

const DIMENSIONS = 384;
const THRESHOLD = 0.98;
/** One request in four repeats the meaning of an earlier one, with a little noise on its vector. */
const NEAR_DUPLICATE_SHARE = 0.25;

interface Workload {
  readonly texts: string[];
  readonly vectors: Map<string, Float32Array>;
}

/** Texts without digits or polar words, so the merge guard puts them all in one group: the worst case. */
function textOf(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor(n / 26)) s += String.fromCharCode(97 + (n % 26));
  return `request${s}`;
}

function workload(size: number, seed: number): Workload {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const texts: string[] = [];
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < size; i++) {
    const text = textOf(i);
    const vector = new Float32Array(DIMENSIONS);
    if (i > 0 && random() < NEAR_DUPLICATE_SHARE) {
      const original = vectors.get(texts[Math.floor(random() * i)]!)!;
      for (let d = 0; d < DIMENSIONS; d++) vector[d] = original[d]! + 0.005 * gaussian();
    } else {
      for (let d = 0; d < DIMENSIONS; d++) vector[d] = gaussian();
    }
    texts.push(text);
    vectors.set(text, vector);
  }
  return { texts, vectors };
}

/**
 * The library, through the public operator (created once, as in a pipeline), with the embedding cache off so
 * every batch pays for validating and copying its vectors.
 */
function libraryDedup(work: Workload): () => Promise<DedupedBatch<string>> {
  const embed: Embedder = (texts) => texts.map((t) => work.vectors.get(t)!);
  const operator = dedupBy<string>({ dedupStrategy: 'embedding', dedupThreshold: THRESHOLD, embed, embedCacheSize: 0 });
  return () => firstValueFrom(of(work.texts).pipe(operator));
}

/** What one writes first: the full similarity matrix with ml-distance, then the same greedy assignment. */
function naiveDedup(work: Workload): number[] {
  const vectors = work.texts.map((t) => work.vectors.get(t)!);
  const n = vectors.length;
  const scores = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) scores[i * n + j] = similarity.cosine(vectors[i]!, vectors[j]!);
  const leaderOf: number[] = [];
  const leaders: number[] = [];
  for (let i = 0; i < n; i++) {
    let best = -1;
    for (const l of leaders) if (scores[i * n + l]! >= THRESHOLD && (best === -1 || scores[i * n + l]! > scores[i * n + best]!)) best = l;
    if (best === -1) leaders.push(i);
    leaderOf.push(best === -1 ? leaders.length - 1 : leaderOf[best]!);
  }
  return leaderOf;
}

/**
 * Mean milliseconds per call over `runs` calls after `warmUp` calls. The batch of 32 is warmed up with 500 calls
 * (a quarter of its timed ones): with one, much of its mean was the JIT compiling the pipeline (the mean of the
 * first 2,000 calls was 1.3x to 2x that of the next 2,000, measured on a loaded machine), not the dedup a running
 * service pays.
 */
async function time(runs: number, fn: () => unknown, warmUp = 1): Promise<number> {
  for (let i = 0; i < warmUp; i++) await fn();
  const started = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  return (performance.now() - started) / runs;
}

const format = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(ms < 100 ? 2 : 0)} ms`);

/** Runs the benchmark and prints its figures; returns a section for docs/benchmarks.md. */
export default async function dedupBench(): Promise<BenchSection> {
  const rows: string[][] = [];
  const speedUps: string[] = [];
  const perSize = new Map<number, number>();
  let identical = true;
  for (const [size, runs, warmUp] of [
    [32, 2000, 500],
    [4096, 20, 1],
  ] as const) {
    const work = workload(size, size);
    const dedup = libraryDedup(work);
    const batch = await dedup();
    // Both must agree, or the comparison means nothing: checked on every run, at both sizes.
    const started = performance.now();
    const naive = naiveDedup(work);
    const naiveOnce = performance.now() - started;
    const agrees = naive.length === batch.leaderOf.length && naive.every((leader, i) => leader === batch.leaderOf[i]);
    if (!agrees) {
      identical = false;
      console.error(`library and naive loop disagree at size ${size}`);
    }
    const library = await time(runs, dedup, warmUp);
    // The naive loop is timed over as many runs as fit in about a second (one at 4096: about 20 s).
    const naiveRuns = Math.max(1, Math.min(runs, Math.floor(1000 / Math.max(naiveOnce, 1e-3))));
    const allPairs = naiveRuns === 1 ? naiveOnce : await time(naiveRuns, () => naiveDedup(work));
    perSize.set(size, library);
    rows.push([
      String(size),
      String(batch.unique.length),
      format(library),
      format(allPairs),
      `${(allPairs / library).toFixed(1)}x`,
    ]);
    speedUps.push(`${format(library)} per batch of ${size} (${(allPairs / library).toFixed(1)}x faster than the naive all-pairs loop)`);
  }
  const header = ['batch', 'unique after dedup', 'library (dedupBy, embedding)', 'naive all-pairs ml-distance', 'speed-up'];
  const table = markdownTable(header, rows);
  const markdown = [
    `${DIMENSIONS}-dimensional vectors, threshold ${THRESHOLD}, ${NEAR_DUPLICATE_SHARE * 100}% near-duplicates, every request`,
    'in one group (the worst case: no scope, no guard split). Time per batch, including validation and copying of the',
    'vectors; embedding itself is not timed (a precomputed table). Mean over 2,000 batches of 32 after 500 warm-up batches,',
    'over 20 batches of 4096 after one (with 5, the mean ranged from 30 to 58 ms between runs on a quiet machine).',
    '',
    table,
  ];
  console.log(consoleTable(header, rows));
  const line = `semantic dedup: 32 in ${(perSize.get(32)! * 1000).toFixed(0)} us, 4096 in ${perSize.get(4096)!.toFixed(1)} ms, identical to naive: ${identical ? 'yes' : 'NO'}`;
  console.log(`\n${line}`);
  if (!identical) throw new Error('semantic dedup: the library and the naive loop disagree (see above)');
  markdown.push('', `Reproduce with \`npm run bench -- dedup\`; it ends with: \`${line}\` (the leaders of both are compared on every run).`);
  return {
    title: 'Semantic dedup of one batch',
    summary: `Semantic dedup of one batch (embedding strategy, every request in one group): ${speedUps.join('; ')}.`,
    markdown: markdown.join('\n'),
    lastLine: line,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await dedupBench();
