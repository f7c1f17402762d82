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

/**
 * The layer of a source file, bottom first: a file may import from its own folder or from a layer below, never
 * from a layer above nor from another folder of its own layer. `.dependency-cruiser.cjs` (`npm run lint:deps`)
 * holds the same rules and finds cycles; this test keeps the page and the code in step with a few lines of its own.
 */
function layerOf(file: string): { rank: number; name: string } {
  if (file === 'src/types.ts' || file === 'src/errors.ts') return { rank: 0, name: file };
  if (file === 'src/index.ts') return { rank: 5, name: 'src/index.ts' };
  const dir = /^src\/(\w+)\//.exec(file)?.[1];
  const rank = dir === undefined ? undefined : RANKS[dir];
  if (rank === undefined) throw new Error(`${file} is in no layer of docs/architecture.md: add its folder there, here and in .dependency-cruiser.cjs`);
  return { rank, name: `src/${dir}` };
}

const RANKS: Readonly<Record<string, number>> = {
  base: 1,
  dedup: 2,
  stats: 2,
  internal: 3,
  operators: 4,
  batcher: 4,
  store: 4,
  lite: 5,
  nestjs: 6,
  otel: 6,
  testing: 6,
  redis: 6,
};

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

  it('no file imports from a layer above its own, nor from another folder of its own layer', () => {
    const wrong: string[] = [];
    for (const file of files) {
      const own = layerOf(file);
      for (const spec of importsOf(file).filter((s) => s.startsWith('.'))) {
        const target = resolve(file, spec);
        const theirs = layerOf(target);
        const sideways = own.rank === theirs.rank && own.name !== theirs.name && own.rank > 0;
        if (theirs.rank > own.rank || sideways) wrong.push(`${file} -> ${target}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('flags an upward and a sideways import (the check can fail)', () => {
    expect(layerOf('src/dedup/keys.ts').rank).toBeGreaterThan(layerOf('src/base/validate.ts').rank);
    expect(layerOf('src/internal/engine.ts').rank).toBeGreaterThan(layerOf('src/stats/batchStats.ts').rank);
    expect(layerOf('src/operators/fanOut.ts').rank).toBe(layerOf('src/batcher/createBatcher.ts').rank);
    expect(() => layerOf('src/nowhere/x.ts')).toThrow(/in no layer/);
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
