/**
 * The wall-clock benches (dedup, overhead, memory) import the library as a user does, by its package name
 * (`rxjs-batch-dedup`, Node's self-reference through the `exports` map): the built files in dist/, not src/
 * through tsx. tsx's esbuild transform keeps function names by wrapping every named inner function in a
 * `__name(fn, "name")` call, an `Object.defineProperty` each time the function is created, which the built
 * package does not have (tsup does not keep names); semantic dedup of 32 requests measured 79-97 us from src and
 * 66-71 us from dist in alternating runs (docs/decisions.md, "The benches measure the built package").
 * DataLoader and the other peers are measured as their packages ship, so the comparison is like for like.
 *
 * Imported first by those benches: it refuses to measure a dist/ older than src/ (`npm run bench` builds first;
 * a bench run alone with tsx needs `npm run build` after a change).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const built = join(root, 'dist', 'index.js');
if (!existsSync(built)) throw new Error('bench: dist/ is missing; run `npm run build` (npm run bench does it first)');
if (newestIn(join(root, 'src')) > statSync(built).mtimeMs) {
  throw new Error('bench: src/ changed after dist/ was built; run `npm run build` (npm run bench does it first)');
}
