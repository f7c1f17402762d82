/**
 * Builds the browser smoke pages' bundles the way a user's browser bundler would see the package: the package is
 * built with the project's own tsup config (its ESM build, without the type declarations the browser does not
 * need) into a scratch `node_modules/rxjs-batch-dedup`, and esbuild bundles ./page.ts (the lean page, on
 * `rxjs-batch-dedup/lite`) or ./fullPage.ts (on `rxjs-batch-dedup` and `rxjs-batch-dedup/operators`) for
 * `platform: 'browser'`, resolving them through the package's `exports` map, with rxjs and the package's
 * dependencies bundled in.
 *
 * Why the built package and not src: that is what users get (the published files, the exports conditions a
 * bundler picks, the dependencies tsup leaves external), so a problem in any of them shows here too. It is built
 * into a scratch folder, not ./dist, so it never races test/package.test.ts, which builds ./dist.
 *
 * Run alone to look at a bundle: `npx tsx test/browser/bundle.ts [outfile] [page|fullPage]`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { build as tsup, type Options } from 'tsup';
import tsupConfig from '../../tsup.config.js';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '../..');
/** The pages: `page` runs the lean entry point, `fullPage` the similarity dedup it leaves out. */
export type PageName = 'page' | 'fullPage';
const pagePath = (page: PageName) => join(here, `${page}.ts`);
const PAGE_PATHS = new Set([pagePath('page'), pagePath('fullPage'), join(here, 'scenarios.ts')]);

/**
 * Node's globals and what a free reference to each becomes in the marked builds: esbuild's `define` replaces an
 * identifier only where it is not declared in scope, so the marker shows exactly the references that would reach
 * Node's global in a browser (a local or a property named `process` is left alone).
 */
const NODE_GLOBALS = ['process', 'Buffer', 'require', 'global', '__dirname', '__filename', 'setImmediate', 'clearImmediate'];
const MARKER = '__NODE_ONLY_GLOBAL__';
const markers = Object.fromEntries(NODE_GLOBALS.map((name) => [name, `${MARKER}${name}`]));

export interface BrowserBundle {
  /** The page script, ESM, as served to the browser. */
  code: string;
  /** Every file that went into it, relative to the project root. */
  inputs: string[];
  /** esbuild's warnings, formatted. */
  warnings: string[];
  /** Node globals referenced anywhere in the bundle (the package, rxjs and the dependencies): must be empty. */
  nodeGlobals: string[];
}

/** Builds the package with the project's tsup config into `<scratch>/node_modules/rxjs-batch-dedup`. */
export async function buildPackage(scratch: string): Promise<string> {
  const packageDir = join(scratch, 'node_modules', 'rxjs-batch-dedup');
  mkdirSync(packageDir, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(packageDir, 'package.json'));
  const configs = typeof tsupConfig === 'function' ? await tsupConfig({}) : tsupConfig;
  const esm = (Array.isArray(configs) ? configs : [configs]).find((options) => options.format === 'esm');
  if (!esm) throw new Error('tsup.config.ts has no ESM build');
  const entry = Object.fromEntries(Object.entries(esm.entry as Record<string, string>).map(([name, file]) => [name, join(root, file)]));
  const options: Options = { ...esm, entry, outDir: join(packageDir, 'dist'), dts: false, sourcemap: false, silent: true, config: false };
  await tsup(options);
  return packageDir;
}

/** The page's imports of the source, swapped for the package's exports as a user imports them. */
function packageImports(scratch: string): esbuild.Plugin {
  const specifiers: Record<string, string> = {
    '../../src/index.js': 'rxjs-batch-dedup',
    '../../src/lite/index.js': 'rxjs-batch-dedup/lite',
    '../../src/operators/index.js': 'rxjs-batch-dedup/operators',
  };
  return {
    name: 'package-imports',
    setup(build) {
      build.onResolve({ filter: /\/src\// }, async (args) => {
        const specifier = specifiers[args.path];
        if (!PAGE_PATHS.has(args.importer) || specifier === undefined) {
          return { errors: [{ text: `${args.importer} imports ${args.path}: the page may import the source only as ${Object.keys(specifiers).join(' or ')}` }] };
        }
        const resolved = await build.resolve(specifier, { kind: args.kind, resolveDir: scratch });
        return resolved.errors.length > 0 ? { errors: resolved.errors } : { path: resolved.path };
      });
    },
  };
}

function browserOptions(scratch: string, page: PageName): esbuild.BuildOptions {
  return {
    entryPoints: [pagePath(page)],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    // The package's dependencies (rxjs, ml-distance) come from the project's install.
    nodePaths: [join(root, 'node_modules')],
    plugins: [packageImports(scratch)],
  };
}

/** Bundles ./page.ts (or ./fullPage.ts) for the browser against the package built in `scratch` (see `buildPackage`). */
export async function bundlePage(scratch: string, page: PageName = 'page'): Promise<BrowserBundle> {
  const plain = await esbuild.build(browserOptions(scratch, page));
  const marked = await esbuild.build({ ...browserOptions(scratch, page), define: markers });
  const markedCode = marked.outputFiles![0]!.text;
  const found = new Set<string>();
  for (const match of markedCode.matchAll(new RegExp(`${MARKER}(\\w+)`, 'g'))) found.add(match[1]!);
  return {
    code: plain.outputFiles![0]!.text,
    inputs: Object.keys(plain.metafile!.inputs).map((input) => relative(root, resolve(input))),
    warnings: (await esbuild.formatMessages(plain.warnings, { kind: 'warning' })).map((warning) => warning.trim()),
    nodeGlobals: [...found],
  };
}

/**
 * Node-only API in the core's source, as `file:line: what`: the files reachable from the browser entry points
 * (`src/index.ts`, `src/lite/index.ts`, `src/operators/index.ts`), each checked alone for imports of Node's built-in modules
 * (`node:fs`, `crypto`, ...) and for free references to Node's globals.
 */
export async function nodeOnlyInSource(): Promise<string[]> {
  const { metafile } = await esbuild.build({
    entryPoints: [join(root, 'src/index.ts'), join(root, 'src/lite/index.ts'), join(root, 'src/operators/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    outdir: join(root, '.tmp/browser-src-check'),
    packages: 'external', // the dependencies are checked in the bundle; built-in imports are reported below
  });
  const findings: string[] = [];
  for (const input of Object.keys(metafile.inputs)) {
    const file = resolve(root, input);
    if (!file.startsWith(join(root, 'src') + '/')) continue;
    const source = readFileSync(file, 'utf8');
    const lineOf = (pattern: RegExp) =>
      source.split('\n').flatMap((line, index) => (pattern.test(line) ? [index + 1] : [])).join(',') || '?';
    for (const { path } of metafile.inputs[input]!.imports) {
      if (isBuiltin(path)) findings.push(`${relative(root, file)}:${lineOf(new RegExp(`['"]${path}['"]`))}: import '${path}'`);
    }
    const { code } = await esbuild.transform(source, { loader: 'ts', format: 'esm', define: markers });
    for (const name of new Set([...code.matchAll(new RegExp(`${MARKER}(\\w+)`, 'g'))].map((match) => match[1]!))) {
      findings.push(`${relative(root, file)}:${lineOf(new RegExp(`(?<![\\w$.])${name}\\b`))}: ${name}`);
    }
  }
  return findings;
}

/** A scratch folder for `buildPackage`. */
export function scratchDir(): string {
  return mkdtempSync(join(tmpdir(), 'rxjs-batch-dedup-browser-'));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const page = (process.argv[3] ?? 'page') as PageName;
  const outfile = resolve(process.argv[2] ?? join(root, `.tmp/browser/${page}.js`));
  const scratch = scratchDir();
  const bundle = await buildPackage(scratch)
    .then(() => bundlePage(scratch, page))
    .finally(() => rmSync(scratch, { recursive: true, force: true }));
  mkdirSync(dirname(outfile), { recursive: true });
  writeFileSync(outfile, bundle.code);
  console.log(`${outfile}: ${bundle.code.length} bytes from ${bundle.inputs.length} files`);
  for (const warning of bundle.warnings) console.log(warning);
  if (bundle.nodeGlobals.length > 0) console.log(`Node globals referenced: ${bundle.nodeGlobals.join(', ')}`);
}
