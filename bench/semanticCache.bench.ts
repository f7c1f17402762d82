/**
 * The semantic result cache (`resultCache: { semantic: true }`, issue 13 part 1) on a request stream built from the
 * labelled QQP pairs of ../shared/data (qqp-pairs.csv; no other file): how many requests it answers from a cached
 * result of another text (hit rate), and how many of those answers were right (hit precision).
 *
 *   npx tsx bench/semanticCache.bench.ts     # alone
 *   npm run bench -- semantic-cache          # through bench/run.ts
 *
 * The stream: the 9,042 pairs in a seeded random order, cut into rounds of 16 pairs. Round k sends the first
 * question of each of its 16 pairs, then the second question of each pair of round k - 1, the 32 in a seeded
 * shuffled order, one request per ms of virtual time. So every second question arrives 16 to 48 ms after its
 * first, by which time the first has been executed and cached (window 5 ms, execution 5 ms), among about a
 * thousand other cached questions: the cache has the default bound (1000 entries) and a TTL of 60 s, longer than
 * the run. The backend answers each question with its own text, so an answer from the cache names the question
 * it was cached for. Pipeline: `batchDedup`, `'hybrid'`, the built-in lexical embedder, the built-in merge guard,
 * `dedupThreshold` 0.94 (recommended for it in docs/dedup-quality.md).
 *
 * A semantic hit (answered with `batchId` 0 from the cached result of a different text) is correct when the two
 * questions are a pair labelled duplicate. A hit on a question of another pair, or of a pair labelled not
 * duplicate, counts as wrong: nobody said those mean the same. Exact hits (a question asked again word for word:
 * QQP repeats a few) are counted apart, and are right by construction.
 *
 * Also measured: the wall time of the same run with the exact cache only, so the difference is what the semantic
 * lookups (one per batch leader, against up to 1000 cached vectors) and the embedding of every text cost.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { map, Subject, timer } from 'rxjs';
import { batchDedup, createBatchStats, type BatchResult, type BatchStats } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { dataDir, parseQqp, type LabelledPair } from '../eval/data.js';
import { seededRandom } from './lib/random.js';
import { consoleTable, formatInteger, markdownTable, type BenchSection } from './lib/report.js';

const THRESHOLD = 0.94;
const PAIRS_PER_ROUND = 16;
const WINDOW_MS = 5;
const EXECUTE_MS = 5;
const TTL_MS = 60_000;
const SEED = 13;

interface Figures {
  readonly requests: number;
  readonly semanticHits: number;
  readonly correctHits: number;
  /** Of the wrong hits: on a pair labelled not duplicate (the rest are on questions of another pair). */
  readonly wrongOnLabelledPair: number;
  readonly exactHits: number;
  readonly executedItems: number;
  readonly batches: number;
  readonly wallMs: number;
  readonly examples: readonly (readonly [asked: string, answeredFor: string])[];
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** The requests in arrival order (see the header). */
export function buildStream(pairs: readonly LabelledPair[], seed = SEED): string[] {
  const random = seededRandom(seed);
  const order = shuffle([...pairs], random);
  const stream: string[] = [];
  for (let start = 0; start <= order.length; start += PAIRS_PER_ROUND) {
    const round = order.slice(start, start + PAIRS_PER_ROUND).map((pair) => pair.a);
    const previous = start === 0 ? [] : order.slice(start - PAIRS_PER_ROUND, start).map((pair) => pair.b);
    stream.push(...shuffle([...round, ...previous], random));
  }
  return stream;
}

const pairKey = (a: string, b: string) => (a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`);

function run(stream: readonly string[], labels: ReadonlyMap<string, boolean>, semantic: boolean): Figures {
  const clock = virtualClock();
  const stats = createBatchStats({ scheduler: clock.scheduler });
  const requests = new Subject<string>();
  let semanticHits = 0;
  let correctHits = 0;
  let wrongOnLabelledPair = 0;
  const examples: [string, string][] = [];
  const started = performance.now();
  requests
    .pipe(
      batchDedup<string, string>({
        execute: (texts) => timer(EXECUTE_MS, clock.scheduler).pipe(map(() => texts.slice())),
        windowMs: WINDOW_MS,
        concurrency: 4,
        dedupStrategy: 'hybrid',
        dedupThreshold: THRESHOLD,
        resultCache: { ttlMs: TTL_MS, semantic },
        stats,
        scheduler: clock.scheduler,
      }),
    )
    .subscribe((result: BatchResult<string, string>) => {
      if (result.status !== 'fulfilled') throw new Error(`${result.request}: ${String(result.error)}`);
      if (result.batchId !== 0 || result.value === result.request) return;
      semanticHits++;
      const label = labels.get(pairKey(result.request, result.value));
      if (label === true) correctHits++;
      else {
        if (label === false) wrongOnLabelledPair++;
        if (examples.length < 5) examples.push([result.request, result.value]);
      }
    });
  // One arrival per ms, each scheduling the next: the virtual scheduler sorts its queue on every insertion, so
  // 18,000 arrivals scheduled up front would cost more than everything measured here.
  let next = 0;
  const arrive = () => {
    requests.next(stream[next++]!);
    if (next < stream.length) clock.scheduler.schedule(arrive, 1);
    else requests.complete();
  };
  clock.scheduler.schedule(arrive, 0);
  clock.runAll();
  const wallMs = performance.now() - started;
  const s: BatchStats = stats.snapshot();
  if (s.completed !== stream.length) throw new Error(`${s.completed} answers for ${stream.length} requests`);
  if (s.semanticCacheHits !== semanticHits) {
    throw new Error(`stats count ${s.semanticCacheHits} semantic hits, the answers show ${semanticHits}`);
  }
  return {
    requests: stream.length,
    semanticHits,
    correctHits,
    wrongOnLabelledPair,
    exactHits: s.cacheHits - s.semanticCacheHits,
    executedItems: s.executedItems,
    batches: s.totalBatches,
    wallMs,
    examples,
  };
}

const percent = (part: number, whole: number) => (whole === 0 ? '—' : ((100 * part) / whole).toFixed(1));

export default async function semanticCacheBench(): Promise<BenchSection> {
  const pairs = parseQqp(readFileSync(join(dataDir, 'qqp-pairs.csv'), 'utf8'));
  const labels = new Map<string, boolean>();
  for (const { a, b, duplicate } of pairs) labels.set(pairKey(a, b), duplicate || labels.get(pairKey(a, b)) === true);
  const stream = buildStream(pairs);
  const duplicates = pairs.filter((pair) => pair.duplicate).length;
  const exact = run(stream, labels, false);
  const semantic = run(stream, labels, true);

  const hitRate = percent(semantic.semanticHits, semantic.requests);
  const precision = percent(semantic.correctHits, semantic.semanticHits);
  const ceiling = percent(duplicates, semantic.requests);
  const header = ['result cache', 'requests', 'semantic hits', 'hit rate %', 'hit precision %', 'right / wrong (labelled not duplicate)', 'exact hits', 'items executed', 'batches', 'wall ms', 'wall µs per batch'];
  const row = (name: string, f: Figures) => [
    name,
    formatInteger(f.requests),
    formatInteger(f.semanticHits),
    percent(f.semanticHits, f.requests),
    percent(f.correctHits, f.semanticHits),
    `${f.correctHits} / ${f.semanticHits - f.correctHits} (${f.wrongOnLabelledPair})`,
    formatInteger(f.exactHits),
    formatInteger(f.executedItems),
    formatInteger(f.batches),
    f.wallMs.toFixed(0),
    ((1000 * f.wallMs) / f.batches).toFixed(0),
  ];
  const rows = [row('exact only', exact), row('semantic', semantic)];
  console.log(consoleTable(header, rows));
  if (semantic.examples.length > 0) {
    console.log('\nwrong hits (asked / answered from the cached result of):');
    for (const [asked, cachedFor] of semantic.examples) console.log(`  ${JSON.stringify(asked)} / ${JSON.stringify(cachedFor)}`);
  }
  const line = `semantic cache: hit rate ${hitRate} %, hit precision ${precision} %`;
  console.log(`\n${line}`);

  const markdown = [
    `\`npm run bench -- semantic-cache\` (bench/semanticCache.bench.ts). A stream of ${formatInteger(semantic.requests)} requests`,
    `built from the ${formatInteger(pairs.length)} labelled QQP pairs of \`../shared/data\`: the pairs in a seeded order, in rounds of`,
    `${PAIRS_PER_ROUND}; each round sends its pairs' first questions and the previous round's second questions, shuffled, one`,
    `request per ms, so every second question comes 16 to 48 ms after its first, once that one is cached. \`batchDedup\`,`,
    `\`'hybrid'\`, built-in lexical embedder and merge guard, \`dedupThreshold\` ${THRESHOLD} (the recommended one), \`resultCache:`,
    `{ ttlMs: ${TTL_MS}, semantic: true }\` (1000 entries). A semantic hit is right when the asked question and the one whose`,
    `cached result answered it are a pair labelled duplicate; any other hit counts as wrong. The ceiling of the hit rate is`,
    `the labelled duplicates' share of the stream, ${ceiling} %. Wall time is of the whole virtual-time run (embedding,`,
    `dedup, cache, bookkeeping); the difference between the rows is what the semantic cache costs.`,
    '',
    markdownTable(header, rows),
  ].join('\n');
  return {
    title: 'Semantic result cache (QQP stream)',
    summary: `Semantic result cache on a QQP stream (built-in embedder, threshold ${THRESHOLD}): hit rate ${hitRate} %, hit precision ${precision} % (ceiling of the hit rate ${ceiling} %).`,
    markdown,
    lastLine: line,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await semanticCacheBench();
