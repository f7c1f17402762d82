/**
 * docs/architecture.md stays true: its layers hold on every import of src/, the core uses no Node-only API, and
 * its file table lists every source file (and no file that is gone).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function sourceFiles(dir = 'src'): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The layer of a source file: a file may import from its own layer or below. */
function layerOf(file: string): { rank: number; name: string } {
  if (file === 'src/types.ts' || file === 'src/errors.ts') return { rank: 0, name: file };
  const dir = /^src\/(\w+)\//.exec(file)?.[1];
  if (dir === 'internal' || dir === 'dedup' || dir === 'stats') return { rank: 1, name: `src/${dir}` };
  if (dir === 'operators' || dir === 'batcher') return { rank: 2, name: `src/${dir}` };
  if (file === 'src/index.ts') return { rank: 3, name: 'src/index.ts' };
  if (dir === 'nestjs' || dir === 'otel' || dir === 'testing') return { rank: 4, name: `src/${dir}` };
  throw new Error(`${file} is in no layer of docs/architecture.md: add its folder there and here`);
}

/** Imports that go up today, each written down in docs/architecture.md; remove an entry once it is moved. */
const KNOWN_UPWARD = new Set(['src/internal/pipelineConfig.ts -> src/operators/fanOut.ts']);

function importsOf(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)].map(
    (m) => m[1] ?? m[2]!,
  );
}

const files = sourceFiles();
const resolve = (from: string, spec: string) => normalize(join(dirname(from), spec)).replace(/\.js$/, '.ts');

describe('docs/architecture.md: layers', () => {
  it('finds the sources and their imports', () => {
    expect(files).toContain('src/internal/engine.ts');
    expect(importsOf('src/internal/engine.ts')).toContain('./collector.js');
  });

  it('no file imports from a layer above its own, nor operators and batcher from each other', () => {
    const upward: string[] = [];
    for (const file of files) {
      const own = layerOf(file);
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = resolve(file, spec);
        const theirs = layerOf(target);
        const sideways = own.rank === 2 && theirs.rank === 2 && own.name !== theirs.name;
        const sideOnTop = own.rank === 4 && theirs.rank === 4 && own.name !== theirs.name;
        if (theirs.rank > own.rank || sideways || sideOnTop) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward.filter((edge) => !KNOWN_UPWARD.has(edge))).toEqual([]);
    // A known exception that is gone must leave the list (and the page).
    expect([...KNOWN_UPWARD].filter((edge) => !upward.includes(edge))).toEqual([]);
  });

  it('the core (all but src/nestjs and src/otel) imports no Node module and uses no Buffer or process', () => {
    const node = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const offending = files
      .filter((f) => !/^src\/(nestjs|otel)\//.test(f))
      .flatMap((file) => {
        const text = readFileSync(join(root, file), 'utf8');
        const uses = importsOf(file).filter((spec) => node.has(spec) || spec.startsWith('node:'));
        if (/\bBuffer\b|(^|[^.\w])process\./.test(text)) uses.push('Buffer or process');
        return uses.map((use) => `${file}: ${use}`);
      });
    expect(offending).toEqual([]);
  });

  it('the page lists every source file, and only files that exist', () => {
    const page = readFileSync(join(root, 'docs/architecture.md'), 'utf8');
    const listed = [...page.matchAll(/^\| `(src\/[^`]+\.ts)` \|/gm)].map((m) => m[1]!);
    expect(files.filter((f) => !listed.includes(f)), 'files without a row in "Which file does what"').toEqual([]);
    expect(listed.filter((f) => !files.includes(f)), 'rows for files that do not exist').toEqual([]);
  });
});
