/**
 * Every ```ts / ```typescript block of README.md and docs/**\/*.md compiles, so what a reader copies works.
 *
 * Each block is a module of its own, type-checked with the options of tsconfig.tools.json, 'rxjs-batch-dedup' and
 * its subpaths mapped to src/ (docs/nestjs.md, and any block importing NestJS: with experimentalDecorators and
 * emitDecoratorMetadata, as Nest projects compile). An HTML comment right before the fence, invisible on GitHub and npm, says how to read it:
 *
 *   <!-- snippet
 *   declare const llm: { completeMany(batch: string[]): Promise<string[]> };
 *   -->                                   hidden code compiled before the block: the free names it uses
 *   <!-- snippet: signature -->           a signature as the reference writes it (`name<T>(options): Type`):
 *                                         compiled as `declare function name<T>(options): Type`
 *   <!-- snippet: examples/express.ts --> the block is that file, with its `../src/...` imports written as the
 *                                         package's ('rxjs-batch-dedup', 'rxjs-batch-dedup/nestjs', ...)
 *   <!-- snippet: fragment <why> -->      not compiled; keep these few (MAX_FRAGMENTS)
 *
 * A directive line may be followed by hidden code too (`<!-- snippet: signature` then lines, then `-->`). Hidden
 * code cannot contain "--" (it would end the comment); its relative imports are relative to the page. A block
 * that is, verbatim, a file under examples/ or docs/snippets/ compiles as that file (its relative imports work).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { fencesOf, markdownPages, root } from './markdown.support.js';
/** Blocks exempt from compilation: raising this needs a reason in review. */
const MAX_FRAGMENTS = 2;
/** Pages whose blocks are written with decorators; so is any block that imports NestJS. */
const DECORATOR_PAGES = new Set(['docs/nestjs.md']);
const NEST_IMPORT = /from '(@nestjs\/|rxjs-batch-dedup\/nestjs')/;
/** Folders whose files pages may show verbatim. */
const SHOWN_FILE_DIRS = ['examples', 'docs/snippets'];

type Kind = 'module' | 'signature' | 'fragment' | { file: string };

interface Block {
  page: string;
  /** 1-based line of the block's first code line in the page. */
  line: number;
  code: string;
  kind: Kind;
  /** Hidden code compiled before the block. */
  prelude: string;
}

/** The ts blocks of a Markdown page, with the snippet comment that precedes each, if any. */
function blocksOf(page: string, markdown: string): Block[] {
  const lines = markdown.split('\n');
  return fencesOf(page, lines)
    .filter(({ lang }) => lang === 'ts' || lang === 'typescript')
    .map(({ open, close }) => ({
      page,
      line: open + 2,
      code: lines.slice(open + 1, close).join('\n') + '\n',
      ...commentBefore(lines, open, page),
    }));
}

function commentBefore(lines: string[], fence: number, page: string): { kind: Kind; prelude: string } {
  let last = fence - 1;
  while (last >= 0 && lines[last]!.trim() === '') last--;
  if (last < 0 || !lines[last]!.trimEnd().endsWith('-->')) return { kind: 'module', prelude: '' };
  let first = last;
  while (first > 0 && !lines[first]!.includes('<!--')) first--;
  const comment = lines.slice(first, last + 1).join('\n');
  const parsed = /^<!-- snippet(?::[ \t]*([^\n]*?))?[ \t]*(?:\n([\s\S]*?))?\s*-->$/.exec(comment.trim());
  if (!parsed) return { kind: 'module', prelude: '' };
  const [, directive = '', prelude = ''] = parsed;
  const where = `${page}:${first + 1}`;
  if (prelude.includes('--')) throw new Error(`${where}: "--" cannot appear inside an HTML comment`);
  const word = directive.split(/\s+/)[0] ?? '';
  if (word === '') return { kind: 'module', prelude };
  if (word === 'fragment') return { kind: 'fragment', prelude };
  if (word === 'signature') return { kind: 'signature', prelude };
  if (/^[\w./-]+\.ts$/.test(word)) return { kind: { file: word }, prelude };
  throw new Error(`${where}: unknown snippet directive "${directive}" (fragment, signature, or a .ts file path)`);
}

/** A source file as a page shows it: imports of the sources written as imports of the package. */
function asThePackage(source: string): string {
  return source.replace(
    /(from |import\()'(?:\.\.\/)+src\/(?:index|(\w+)\/index)\.js'/g,
    (_, lead: string, entry?: string) => `${lead}'rxjs-batch-dedup${entry ? `/${entry}` : ''}'`,
  );
}

function shownFiles(): Map<string, string> {
  const byContent = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) byContent.set(readFileSync(join(root, path), 'utf8'), path);
    }
  };
  SHOWN_FILE_DIRS.forEach(walk);
  return byContent;
}

/** What gets compiled for a block: a file name and its text; `offset` lines of hidden code come before the block. */
interface Unit {
  block: Block;
  fileName: string;
  text: string;
  offset: number;
  decorators: boolean;
}

function unitOf(block: Block, index: number, files: Map<string, string>): Unit | undefined {
  const decorators = DECORATOR_PAGES.has(block.page) || NEST_IMPORT.test(block.prelude + block.code);
  if (block.kind === 'fragment') return undefined;
  const shown = files.get(block.code);
  if (shown !== undefined && block.prelude === '') {
    return { block, fileName: join(root, shown), text: block.code, offset: 0, decorators };
  }
  const prelude = block.prelude === '' ? '' : block.prelude.replace(/\n?$/, '\n');
  const code = block.kind === 'signature' ? signature(block) : block.code;
  // Next to its page, so relative imports in hidden code read as links do: './snippets/x.js' from docs/.
  const fileName = join(root, dirname(block.page), `.snippet-${basename(block.page, '.md')}-${block.line}-${index}.ts`);
  const offset = prelude === '' ? 0 : prelude.split('\n').length - 1;
  return { block, fileName, text: `${prelude}${code}\nexport {};\n`, offset, decorators };
}

/**
 * A signature block as a declaration, and a check that the package's function can stand where the documented one
 * is used: every documented option is accepted, with the documented type, and the result is what the page says.
 */
function signature(block: Block): string {
  const name = /^\w+/.exec(block.code)?.[0];
  if (!name) throw new Error(`${block.page}:${block.line}: a signature block starts with the function's name`);
  const options = (f: string) => `keyof NonNullable<Parameters<typeof ${f}>[0]>`;
  return [
    `declare function ${block.code}`,
    `import { ${name} as __exported } from 'rxjs-batch-dedup';`,
    `const __asDocumented: typeof ${name} = __exported;`,
    `type __NotAnOption = Exclude<${options(name)}, ${options('__exported')}>;`,
    `const __everyOptionExists: [__NotAnOption] extends [never] ? true : __NotAnOption = true;`,
    '',
  ].join('\n');
}

function compilerOptions(decorators: boolean): ts.CompilerOptions {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.tools.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  })!;
  const entries = ['lite', 'operators', 'testing', 'nestjs', 'otel', 'redis'];
  return {
    ...config.options,
    noEmit: true,
    baseUrl: root,
    paths: {
      'rxjs-batch-dedup': ['src/index.ts'],
      ...Object.fromEntries(entries.map((e) => [`rxjs-batch-dedup/${e}`, [`src/${e}/index.ts`]])),
    },
    ...(decorators ? { experimentalDecorators: true, emitDecoratorMetadata: true } : {}),
  };
}

/** Type-checks the units in one program per option set; returns the messages of each unit, located in its page. */
function compile(units: Unit[]): Map<Unit, string[]> {
  const messages = new Map<Unit, string[]>(units.map((u) => [u, []]));
  const parsed = new Map<string, ts.SourceFile>();
  for (const decorators of [false, true]) {
    const group = units.filter((u) => u.decorators === decorators);
    if (group.length === 0) continue;
    const options = compilerOptions(decorators);
    const virtual = new Map(group.map((u) => [u.fileName, u]));
    const host = ts.createCompilerHost(options);
    const read = host.getSourceFile.bind(host);
    host.getSourceFile = (fileName, language, onError, fresh) => {
      const unit = virtual.get(fileName);
      if (unit) return ts.createSourceFile(fileName, unit.text, language, true);
      // Libraries are parsed once for both programs.
      let file = parsed.get(fileName);
      if (!file || fresh) {
        file = read(fileName, language, onError, fresh);
        if (file && fileName.includes('/node_modules/')) parsed.set(fileName, file);
      }
      return file;
    };
    host.fileExists = (fileName) => virtual.has(fileName) || ts.sys.fileExists(fileName);
    host.readFile = (fileName) => virtual.get(fileName)?.text ?? ts.sys.readFile(fileName);
    const program = ts.createProgram([...virtual.keys()], options, host);
    for (const unit of group) {
      const file = program.getSourceFile(unit.fileName)!;
      const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
      for (const d of diagnostics) messages.get(unit)!.push(locate(unit, d));
    }
  }
  return messages;
}

function locate(unit: Unit, d: ts.Diagnostic): string {
  const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
  if (!d.file || d.start === undefined) return `${unit.block.page}:${unit.block.line}: ${text}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const inBlock = line - unit.offset;
  if (inBlock < 0) return `${unit.block.page}:${unit.block.line}: in the hidden code (line ${line + 1}): ${text}`;
  if (inBlock >= unit.block.code.split('\n').length - 1) {
    const name = /^\w+/.exec(unit.block.code)?.[0];
    return `${unit.block.page}:${unit.block.line}: the package's ${name} differs from this signature: ${text}`;
  }
  return `${unit.block.page}:${unit.block.line + inBlock}:${character + 1}: TS${d.code}: ${text}`;
}

const pages = markdownPages();
const blocks = pages.flatMap((page) => blocksOf(page, readFileSync(join(root, page), 'utf8')));
const files = shownFiles();
const units = blocks.map((block, i) => unitOf(block, i, files));

// A page that breaks a block, to prove the checker reports it at its line (it is compiled with the others).
const canaryPage = ['# canary', '', '```ts', "import { createBatcher } from 'rxjs-batch-dedup';", '']
  .concat(['createBatcher({ windowMs: "10" });', '```', ''])
  .join('\n');
const canary = unitOf(blocksOf('docs/canary.md', canaryPage)[0]!, -1, files)!;

let results: Map<Unit, string[]>;
beforeAll(() => {
  results = compile([...units.filter((u): u is Unit => u !== undefined), canary]);
}, 180_000);

describe('code blocks of README.md and docs/', () => {
  it('finds the pages and their blocks', () => {
    expect(pages).toContain('README.md');
    expect(pages).toContain('docs/http.md');
    expect(blocks.length).toBeGreaterThan(20);
  });

  it(`exempts at most ${MAX_FRAGMENTS} blocks as fragments`, () => {
    const fragments = blocks.filter((b) => b.kind === 'fragment').map((b) => `${b.page}:${b.line}`);
    expect(fragments.length, fragments.join(', ')).toBeLessThanOrEqual(MAX_FRAGMENTS);
  });

  it('reports a block that does not compile, at its line in the page', () => {
    expect(results.get(canary)!.join('\n')).toMatch(/^docs\/canary\.md:6:\d+: TS2\d+: /);
  });

  const compiled = blocks.flatMap((block, i) => (units[i] ? [[`${block.page}:${block.line}`, units[i]] as const] : []));
  it.each(compiled)('%s compiles', (_, unit) => {
    const hint =
      /Cannot find module '\.\.?\//.test(results.get(unit)!.join()) && typeof unit.block.kind !== 'object'
        ? '\n(a block with relative imports must be a verbatim copy of a file under examples/ or docs/snippets/)'
        : '';
    expect(results.get(unit)!.join('\n') + hint).toBe('');
  });

  const copies = blocks.filter((b): b is Block & { kind: { file: string } } => typeof b.kind === 'object');
  const named = copies.map((b) => [`${b.page}:${b.line}`, b] as const);
  it.each(named)('%s shows its file as the package imports it', (_, block) => {
    const source = readFileSync(join(root, block.kind.file), 'utf8');
    expect(block.code).toBe(asThePackage(source));
  });
});
