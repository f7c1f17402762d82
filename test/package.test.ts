/**
 * The built package, as a user's project sees it: ESM import and CommonJS require of every entry point, resolved
 * through the `exports` map from a scratch project.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '..');
let scratch: string;

beforeAll(() => {
  execFileSync(process.execPath, [join(root, 'node_modules/tsup/dist/cli-default.js'), '--silent'], { cwd: root, stdio: 'pipe' });
  scratch = mkdtempSync(join(tmpdir(), 'rxjs-batch-dedup-scratch-'));
  mkdirSync(join(scratch, 'node_modules'));
  symlinkSync(root, join(scratch, 'node_modules/rxjs-batch-dedup'), 'dir');
  symlinkSync(join(root, 'node_modules/rxjs'), join(scratch, 'node_modules/rxjs'), 'dir');
  writeFileSync(join(scratch, 'package.json'), '{ "name": "scratch", "private": true }');
}, 180_000); // the build with type declarations takes over a minute on a loaded 2-core machine

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(file: string, code: string): string {
  writeFileSync(join(scratch, file), code);
  return execFileSync(process.execPath, [join(scratch, file)], { cwd: scratch, encoding: 'utf8' }).trim();
}

describe('the built package', () => {
  it('imports every entry point as ESM and runs a batcher', () => {
    const out = run(
      'esm.mjs',
      `import { createBatcher, batchDedup, QueueFullError } from 'rxjs-batch-dedup';
       import { bufferWindow, fanOut } from 'rxjs-batch-dedup/operators';
       import { createTestScheduler } from 'rxjs-batch-dedup/testing';
       const b = createBatcher({ execute: async (xs) => xs.map((x) => x * 2), windowMs: 1 });
       const r = await b.processAll([1, 2, 1]);
       await b.close();
       console.log(JSON.stringify([r, typeof batchDedup, typeof bufferWindow, typeof fanOut, typeof createTestScheduler, new QueueFullError(1).name]));`,
    );
    expect(JSON.parse(out)).toEqual([[2, 4, 2], 'function', 'function', 'function', 'function', 'QueueFullError']);
  });

  it('requires every entry point as CommonJS and runs a batcher', () => {
    const out = run(
      'cjs.cjs',
      `const { bufferWindow, batchDedup } = require('rxjs-batch-dedup/operators');
       const { createBatcher } = require('rxjs-batch-dedup');
       const { simulatedBackend } = require('rxjs-batch-dedup/testing');
       const b = createBatcher({ execute: async (xs) => xs.map((x) => x + '!'), windowMs: 1 });
       b.processAll(['a', 'b', 'a']).then(async (r) => {
         await b.close();
         console.log(JSON.stringify([r, typeof bufferWindow, typeof batchDedup, typeof simulatedBackend]));
       });`,
    );
    expect(JSON.parse(out)).toEqual([['a!', 'b!', 'a!'], 'function', 'function', 'function']);
  });

  it('imports and requires the lite entry point: exact dedup runs, a similarity strategy is refused naming the fix', () => {
    const code = (load: string) => `${load}
       const b = createBatcher({ execute: async (xs) => xs.map((x) => x * 2), windowMs: 1 });
       let refused = '';
       try { createBatcher({ execute: async (xs) => xs, dedupStrategy: 'hybrid' }); } catch (e) { refused = e.message; }
       b.processAll([1, 2, 1]).then(async (r) => {
         await b.close();
         console.log(JSON.stringify([r, typeof batchDedup, typeof bufferWindow, refused]));
       });`;
    const expected = [[2, 4, 2], 'function', 'function', expect.stringMatching(/dedupStrategy 'hybrid' is similarity dedup: import from 'rxjs-batch-dedup'/)];
    const esm = run('lite.mjs', code(`import { createBatcher, batchDedup, bufferWindow } from 'rxjs-batch-dedup/lite';`));
    expect(JSON.parse(esm)).toEqual(expected);
    const cjs = run('lite.cjs', code(`const { createBatcher, batchDedup, bufferWindow } = require('rxjs-batch-dedup/lite');`));
    expect(JSON.parse(cjs)).toEqual(expected);
  });

  it('the lite entry point (ESM, what bundlers read) reaches no similarity dedup: no ml-distance, embedder or guard', () => {
    const reach = (entry: string): string[] => {
      const seen = new Map<string, string>();
      const visit = (file: string): void => {
        if (seen.has(file)) return;
        const code = readFileSync(join(root, 'dist', file), 'utf8');
        seen.set(file, code);
        for (const [, local] of code.matchAll(/(?:from|import)\s*['"]\.\/([^'"]+)['"]/g)) visit(local!);
      };
      visit(entry);
      return [...seen.values()];
    };
    const similarity = /ml-distance|createLexicalEmbedder|salientTokens|createSemanticDeduper/;
    const lite = reach('lite.js');
    expect(lite.length).toBeGreaterThan(1); // followed the shared chunks
    expect(lite.join('\n')).not.toMatch(similarity);
    // The check can fail: the main entry reaches all of it.
    expect(reach('index.js').join('\n')).toMatch(similarity);
  });

  it('imports and requires the nestjs and otel entry points', () => {
    const esm = run(
      'integrations.mjs',
      `import { BatchDedupModule, InjectBatcher, sendBatch } from 'rxjs-batch-dedup/nestjs';
       import { publishBatchStats } from 'rxjs-batch-dedup/otel';
       console.log(JSON.stringify([typeof BatchDedupModule.forRoot, typeof BatchDedupModule.forRootAsync, typeof InjectBatcher, typeof sendBatch, typeof publishBatchStats]));`,
    );
    expect(JSON.parse(esm)).toEqual(['function', 'function', 'function', 'function', 'function']);
    const cjs = run(
      'integrations.cjs',
      `const { BatchDedupModule } = require('rxjs-batch-dedup/nestjs');
       const { publishBatchStats } = require('rxjs-batch-dedup/otel');
       console.log(JSON.stringify([typeof BatchDedupModule.forRoot, typeof publishBatchStats]));`,
    );
    expect(JSON.parse(cjs)).toEqual(['function', 'function']);
  });

  it('the core entry points load no Nest or OpenTelemetry module', () => {
    const dist = join(root, 'dist');
    const entries = ['index.js', 'lite.js', 'operators.js', 'testing.js', 'index.cjs', 'lite.cjs', 'operators.cjs', 'testing.cjs'];
    const seen = new Set<string>();
    for (const entry of entries) {
      const visit = (file: string): void => {
        if (seen.has(file)) return;
        seen.add(file);
        const code = readFileSync(join(dist, file), 'utf8');
        expect(code, `${entry} -> ${file}`).not.toMatch(/@nestjs\/|@opentelemetry\//);
        for (const [, local] of code.matchAll(/(?:from|import|require\()\s*['"]\.\/([^'"]+)['"]/g)) visit(local!);
      };
      visit(entry);
    }
    expect(seen.size).toBeGreaterThan(entries.length); // followed the shared chunks too
  });
});
