/**
 * Runs the benchmarks: every `bench/*.bench.ts`, in file-name order, in one process.
 *
 *   npm run bench                 # all of them; rewrites docs/benchmarks.md and its plots
 *   npm run bench -- overhead     # only files whose name contains "overhead" (several filters: any of them)
 *
 * Contract for a bench file: its default export is
 *
 *   export default async function (): Promise<void | BenchSection>
 *
 * It prints its own figures to the console. It may return a `BenchSection` (bench/lib/report.ts): a title, a
 * markdown body, optionally a one-line summary and SVG plots, which go into docs/benchmarks.md. A file that only
 * prints returns nothing.
 * Benchmarks import the library through its public API and never assert timings. The wall-clock ones (dedup,
 * overhead, memory) import it by its package name, so they run the built dist/ as users do (`npm run bench` builds
 * first; bench/lib/builtPackage.ts says why); the virtual-time ones import src/, which the tests share with them.
 *
 * docs/benchmarks.md is written only by a full run (no filter), so a partial run never drops other sections.
 * `npm run bench` passes `--expose-gc`, which the memory figures need; without it they are skipped.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describeMachine } from './lib/machine.js';
import type { BenchSection } from './lib/report.js';

type BenchFunction = () => Promise<void | BenchSection>;

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const docsDir = fileURLToPath(new URL('../docs/', import.meta.url));

/** Benches known by a name other than their file's (the name an issue gives them): `npm run bench -- embed-ahead`. */
const NAMES: Readonly<Record<string, string>> = { embedAhead: 'embed-ahead', semanticCache: 'semantic-cache' };
const nameOf = (file: string) => NAMES[basename(file, '.bench.ts')] ?? basename(file, '.bench.ts');

const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const files = readdirSync(benchDir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter) || nameOf(file).includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(`no bench/*.bench.ts matches ${filters.join(', ')}`);
  process.exit(1);
}

const machine = describeMachine();
/**
 * A full run (more than one bench) runs each bench in a child process of its own, so that none measures in a heap
 * or an event loop another left behind: run in one process after the memory bench, DataLoader's throughput fell
 * to a fifth of its own, and the overhead ratios came out 3x to 5x in the library's favour. The child writes its
 * section (plain data) as JSON to the file named by `--section-to`.
 */
const sectionTo = process.argv.find((arg) => arg.startsWith('--section-to='))?.slice('--section-to='.length);
const isolated = files.length > 1 && sectionTo === undefined;
if (sectionTo === undefined) console.log(`machine: ${machine}\n`);
const sections: BenchSection[] = [];
let failed = 0;
for (const file of files) {
  const name = nameOf(file);
  if (sectionTo === undefined) console.log(`=== ${name} ${'='.repeat(Math.max(0, 70 - name.length))}`);
  const started = performance.now();
  try {
    const section = isolated ? await runIsolated(file) : await runHere(file);
    if (section) sections.push(section);
    if (sectionTo !== undefined) writeFileSync(sectionTo, JSON.stringify(section ?? null));
  } catch (error) {
    // One broken bench must not hide the figures of the others.
    failed++;
    console.error(`${file} failed:`, error);
  }
  if (sectionTo === undefined) console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}

async function runHere(file: string): Promise<void | BenchSection> {
  const module = (await import(pathToFileURL(`${benchDir}${file}`).href)) as { default?: unknown };
  if (typeof module.default !== 'function') throw new TypeError(`${file} has no default export function`);
  return (module.default as BenchFunction)();
}

/** The bench in a child process (this script, on that file alone), its output shown as it comes. */
async function runIsolated(file: string): Promise<BenchSection | undefined> {
  const out = join(mkdtempSync(join(tmpdir(), 'bench-')), 'section.json');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), file, `--section-to=${out}`], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) throw new Error(`${file} exited with ${code}`);
  const section = JSON.parse(readFileSync(out, 'utf8')) as BenchSection | null;
  return section ?? undefined;
}

// Each bench's verdict last, after the timing lines, so a run ends with the lines the issues ask for.
if (sectionTo === undefined) for (const section of sections) if (section.lastLine) console.log(section.lastLine);

if (filters.length === 0 && failed === 0) {
  writeDocs(sections);
  console.log('wrote docs/benchmarks.md');
}
if (failed > 0) process.exitCode = 1;

// A bench that leaves a timer running must not keep `npm run bench` alive forever: count them, then exit.
// Short timers still running out (a peer's 1 ms window timers) get a moment first, so only real leftovers count.
await new Promise((resolve) => setTimeout(resolve, 100));
const leftover = process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout' || kind === 'Immediate');
if (leftover.length > 0) {
  const byKind = [...new Set(leftover)].map((kind) => `${leftover.filter((k) => k === kind).length} ${kind}`);
  console.warn(`note: a bench left timers running (${byKind.join(', ')}); exiting anyway`);
}
process.exit();

function writeDocs(parts: readonly BenchSection[]): void {
  for (const part of parts) {
    for (const [file, svg] of Object.entries(part.plots ?? {})) writeFileSync(`${docsDir}${file}`, svg);
  }
  const body = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench` (bench/run.ts); edit the benches, not this file. -->',
    '',
    `Machine: ${machine}. Run on ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Wall-clock figures come from one run and vary from run to run and machine to machine: read the ratios, not',
    'the absolute numbers. Throughput and dedup figures run on virtual time and are exact and repeatable.',
    'Reproduce with `npm run bench` (all) or `npm run bench -- <name>` (one file, docs untouched).',
    '',
    ...parts.filter((part) => part.summary).map((part) => `- ${part.summary}`),
    '',
    ...parts.flatMap((part) => [`## ${part.title}`, '', part.markdown.trim(), '']),
  ];
  writeFileSync(`${docsDir}benchmarks.md`, body.join('\n'));
}
