/**
 * Bundle size: what each import costs a browser app, beside DataLoader and batshit measured the same way. It runs
 * `npm run build` and size-limit (the checks in package.json: esbuild bundles each import through the built files
 * the `exports` map points to, minified, peer dependencies such as rxjs external, then gzip) and turns its JSON into
 * the table of docs/benchmarks.md. The limits themselves are checked by `npm run size` in CI (.ci/run).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { consoleTable, markdownTable, type BenchSection } from './lib/report.js';

const root = fileURLToPath(new URL('..', import.meta.url));

interface SizeCheck {
  readonly name: string;
  readonly path: string;
  readonly import?: string;
  readonly limit?: string;
}

interface SizeResult {
  readonly name: string;
  readonly passed: boolean;
  readonly size: number;
}

const kB = (bytes: number) => `${(bytes / 1000).toFixed(2)} kB`;

export default async function sizeBench(): Promise<BenchSection> {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'pipe' });
  const out = execFileSync(process.execPath, [`${root}node_modules/size-limit/bin.js`, '--json'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const results = JSON.parse(out) as SizeResult[];
  const checks = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { 'size-limit': SizeCheck[] })['size-limit'];
  const rows = results.map((result) => {
    const check = checks.find((c) => c.name === result.name);
    return [result.name, `\`${check?.import ? `${check.import} from ` : ''}${check?.path ?? '?'}\``, kB(result.size), check?.limit ?? ''];
  });
  const header = ['import', 'bundled from', 'gzip', 'limit'];
  console.log(consoleTable(header, rows));
  const byName = (part: string) => results.find((r) => r.name.includes(part))?.size ?? NaN;
  return {
    title: 'Bundle size',
    summary:
      `Bundle size (minified, gzip, rxjs external): \`createBatcher\` from \`rxjs-batch-dedup/lite\` ${kB(byName('createBatcher, exact'))}, ` +
      `\`bufferWindow\` ${kB(byName('bufferWindow alone'))}, \`createBatcher\` with similarity dedup ${kB(byName('createBatcher with similarity'))}; ` +
      `DataLoader ${kB(byName('DataLoader'))}, batshit ${kB(byName('batshit'))}.`,
    markdown: [
      'What an import costs a browser app: size-limit (`npm run size`, the checks in `package.json`) bundles each',
      'import with esbuild through the built files the `exports` map points to, minified, with peer dependencies',
      '(rxjs, Nest, OpenTelemetry) external, and gzips it. DataLoader and batshit are measured the same way. CI fails',
      'when a figure goes over its limit. Why the lean path is an entry point of its own, and how far it is from',
      'the goal of issue 18 (9 kB, and 3 kB for `bufferWindow`), is in [decisions.md](decisions.md#pay-for-what-you-use).',
      '',
      markdownTable(header, rows),
      '',
      // What each feature merged on 2026-12-01 added (issue 18): measured at each merge, kept by hand.
      'On 2026-12-01 the limits of the main, operators and nestjs entries were raised to their size plus about 0.5 kB,',
      'for the three features merged that day; the lite limits were not raised (the features\' code was moved out of',
      'the lite path instead, see [decisions.md](decisions.md#pay-for-what-you-use)). What each feature added, gzip,',
      'measured by bundling the sources at each merge the same way (esbuild, minified, externals as above; the figures',
      'differ from size-limit\'s by up to 0.25 kB, the differences do not):',
      '',
      '| feature (merge) | `createBatcher` main | main, whole | operators, whole | nestjs, whole | `createBatcher` lite |',
      '| --- | --- | --- | --- | --- | --- |',
      '| embed-ahead (issue 14, 8853a3b) | +1.35 kB | +1.34 kB | +1.35 kB | +1.43 kB | +0.04 kB |',
      '| semantic result cache (issue 13 part 1, 51a0c8d) | +1.35 kB | +1.36 kB | +1.35 kB | +1.41 kB | +0.67 kB |',
      '| shared store, `keyvStore` / `sharedStore` (issue 13 part 2, 6ba1f42) | +0.62 kB | +2.78 kB | +0.62 kB | +0.53 kB | +0.58 kB |',
      '| issue 18\'s trim: their code moved to the plug-ins (w-size) | -0.30 kB | +0.06 kB | -0.24 kB | -0.21 kB | -0.80 kB |',
    ].join('\n'),
  };
}
