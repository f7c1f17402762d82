// @ts-check
/**
 * Scores by folder, for the request path and for the whole core, from a Stryker run's mutant log
 * (reports/mutation/mutants.jsonl, written by scripts/stryker-mutant-log.mjs; a run still going or stopped early
 * gives the scores of what it tested). Score = (killed + timeout) / (killed + timeout + survived + no coverage), as
 * Stryker counts it; ignored (disabled), static and erroring mutants are not counted.
 *
 *   node scripts/mutation-summary.mjs [reports/mutation/mutants.jsonl] [--files] [--survivors <path prefix>]
 */
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const logFile = args.find((a) => !a.startsWith('--') && args[args.indexOf(a) - 1] !== '--survivors') ?? 'reports/mutation/mutants.jsonl';
const byFile = args.includes('--files');
const survivorsOf = args.includes('--survivors') ? args[args.indexOf('--survivors') + 1] : undefined;

/** The request path of issue 17 (REQUEST_PATH in stryker.config.mjs). */
const REQUEST_PATH = [
  /^src\/operators\/(?!index\.ts$)/,
  /^src\/batcher\//,
  /^src\/internal\/(engine|batchRun|inFlight|resultCache|executor|pipelineConfig)\.ts$/,
  /^src\/dedup\/exact\.ts$/,
];

const mutants = readFileSync(logFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));

function tally(list) {
  const t = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0, other: 0 };
  for (const m of list) {
    if (m.status in t) t[m.status]++;
    else t.other++;
  }
  const detected = t.Killed + t.Timeout;
  const counted = detected + t.Survived + t.NoCoverage;
  return { ...t, counted, score: counted === 0 ? NaN : (100 * detected) / counted };
}

function row(name, list) {
  const t = tally(list);
  return `| ${name} | ${t.score.toFixed(1)} % | ${t.Killed} | ${t.Timeout} | ${t.Survived} | ${t.NoCoverage} | ${t.Ignored} | ${t.other} |`;
}

const header = '| | score | killed | timeout | survived | no coverage | ignored | static/error |\n|---|---:|---:|---:|---:|---:|---:|---:|';
const groups = new Map();
for (const m of mutants) {
  const key = byFile ? m.file : m.file.split('/').slice(0, m.file.split('/').length > 2 ? 2 : 1).join('/');
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(m);
}
console.log(`${mutants.length} mutants tested (${logFile})\n`);
console.log(header);
for (const [name, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) console.log(row(name, list));
const requestPath = mutants.filter((m) => REQUEST_PATH.some((r) => r.test(m.file)));
console.log(row('**request path**', requestPath));
console.log(row('**whole core**', mutants));

if (survivorsOf !== undefined) {
  console.log('');
  for (const m of mutants) {
    if ((m.status === 'Survived' || m.status === 'NoCoverage') && m.file.startsWith(survivorsOf)) {
      console.log(`${m.file}:${m.line}:${m.column} ${m.status} ${m.mutator} -> ${JSON.stringify(m.replacement).slice(0, 100)} (${m.tests ?? 0} tests)`);
    }
  }
}
