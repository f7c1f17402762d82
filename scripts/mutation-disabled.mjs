// @ts-check
/**
 * The share of mutants turned off by `// Stryker disable` comments (issue 17: at most a tenth), counted with
 * Stryker's own instrumenter, no test run: `node scripts/mutation-disabled.mjs [request|core] [--files]`.
 * The scopes are stryker.config.mjs's. Static mutants (code run at import, left out by `ignoreStatic` during a run)
 * are in the total here, as the instrumenter cannot tell them: a run's own share is a little higher.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Instrumenter } from '@stryker-mutator/instrumenter';

const scope = process.argv[2] ?? 'request';
const perFile = process.argv.includes('--files');
process.env.STRYKER_SCOPE = scope;
const config = (await import('../stryker.config.mjs')).default;
const patterns = /** @type {string[]} */ (config.mutate);
/** The glob shapes stryker.config.mjs uses (`**`, `*`), as a regular expression (fs.globSync needs Node 22). */
const globRegExp = (glob) =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*\//g, '\0').replace(/\*\*/g, '.*').replace(/\*/g, '[^/]*').replace(/\0/g, '(?:.*/)?')}$`);
const take = patterns.filter((p) => !p.startsWith('!')).map(globRegExp);
const leave = patterns.filter((p) => p.startsWith('!')).map((p) => globRegExp(p.slice(1)));
const files = execFileSync('git', ['ls-files', 'src'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && take.some((r) => r.test(f)) && !leave.some((r) => r.test(f)));

const quiet = { debug() {}, info() {}, warn() {}, error() {}, trace() {}, fatal() {}, isDebugEnabled: () => false, isTraceEnabled: () => false, isInfoEnabled: () => false, isWarnEnabled: () => false, isErrorEnabled: () => false, isFatalEnabled: () => false };
const instrumenter = new Instrumenter(/** @type {any} */ (quiet));
const { mutants } = await instrumenter.instrument(
  files.map((name) => ({ name, content: readFileSync(name, 'utf8'), mutate: true })),
  { plugins: null, excludedMutations: [], ignorers: [] },
);
const disabled = mutants.filter((m) => m.status === 'Ignored');
if (perFile) {
  for (const file of files) {
    const all = mutants.filter((m) => m.fileName.endsWith(file)).length;
    const off = disabled.filter((m) => m.fileName.endsWith(file)).length;
    if (off > 0) console.log(`${String(off).padStart(4)} of ${String(all).padStart(4)}  ${file}`);
  }
}
console.log(`${scope}: ${disabled.length} of ${mutants.length} mutants disabled (${((100 * disabled.length) / mutants.length).toFixed(1)} %) in ${files.length} files`);
