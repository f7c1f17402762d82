/**
 * The built package, as a user's project sees it: ESM import and CommonJS require of every entry point, resolved
 * through the `exports` map from a scratch project.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
}, 60_000);

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
});
