// @ts-check
/**
 * Applies mutants to a source file one at a time and runs the tests you name against each: what Stryker would
 * say of them, for a handful, in seconds, and with the tests you just wrote. The file is restored at the end
 * (and on Ctrl-C).
 *
 *   node scripts/mutation-check.mjs <file> --survivors reports/mutation/mutants.jsonl -- <test files...>
 *   node scripts/mutation-check.mjs <file> --lines 74,81 -- <test files...>   # every mutant on those lines,
 *                                                                              # disabled ones included
 *
 * Survivors are matched to the file's mutants by line, column, mutator and replacement, so the file must be as
 * the run saw it. Prints `killed` or `SURVIVES` per mutant, with the code it replaced.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { Instrumenter } from '@stryker-mutator/instrumenter';

const args = process.argv.slice(2);
const dashes = args.indexOf('--');
const tests = dashes < 0 ? [] : args.slice(dashes + 1);
const [file, how, what] = dashes < 0 ? args : args.slice(0, dashes);
if (!file || !['--survivors', '--lines'].includes(how ?? '') || !what || tests.length === 0) {
  console.error('usage: node scripts/mutation-check.mjs <file> (--survivors <mutants.jsonl> | --lines a,b,c) -- <test files...>');
  process.exit(2);
}

const original = readFileSync(file, 'utf8');
const quiet = { debug() {}, info() {}, warn() {}, error() {}, trace() {}, fatal() {}, isDebugEnabled: () => false, isTraceEnabled: () => false, isInfoEnabled: () => false, isWarnEnabled: () => false, isErrorEnabled: () => false, isFatalEnabled: () => false };
const { mutants } = await new Instrumenter(/** @type {any} */ (quiet)).instrument([{ name: file, content: original, mutate: true }], {
  plugins: null,
  excludedMutations: [],
  ignorers: [],
});
// The instrumenter's positions are 0-based lines and columns; the mutant log's (Stryker's reports) 1-based.
const lineStarts = [0];
for (let i = 0; i < original.length; i++) if (original[i] === '\n') lineStarts.push(i + 1);
const offset = (/** @type {{ line: number, column: number }} */ p) => lineStarts[p.line] + p.column;
const at = (/** @type {any} */ m) => `${m.location.start.line + 1}:${m.location.start.column + 1}`;

let chosen;
if (how === '--lines') {
  const lines = new Set(what.split(',').map(Number));
  chosen = mutants.filter((m) => lines.has(m.location.start.line + 1));
} else {
  const logged = readFileSync(what, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const wanted = logged.filter((m) => m.file === file && (m.status === 'Survived' || m.status === 'NoCoverage'));
  chosen = wanted.map((w) => {
    const m = mutants.find((c) => at(c) === `${w.line}:${w.column}` && c.mutatorName === w.mutator && c.replacement === w.replacement);
    if (!m) console.log(`??       ${w.line}:${w.column} ${w.mutator}: not in the file as it is now`);
    return m;
  }).filter(Boolean);
}

const restore = () => writeFileSync(file, original);
process.on('SIGINT', () => (restore(), process.exit(130)));
try {
  for (const m of chosen) {
    const start = offset(m.location.start);
    const end = offset(m.location.end);
    writeFileSync(file, original.slice(0, start) + m.replacement + original.slice(end));
    const run = spawnSync('npx', ['vitest', 'run', ...tests], { encoding: 'utf8' });
    const short = (/** @type {string} */ s) => s.replace(/\s+/g, ' ').slice(0, 60);
    console.log(`${(run.status === 0 ? 'SURVIVES' : 'killed').padEnd(8)} ${at(m)} ${m.mutatorName}: ${short(original.slice(start, end))} -> ${short(m.replacement)}`);
  }
} finally {
  restore();
}
