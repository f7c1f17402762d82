/**
 * The lean browser smoke page (test/browser.test.ts): `createBatcher` from `rxjs-batch-dedup/lite` with exact dedup,
 * a burst and a trickle, then in front of `fetch`. It runs in headless Chromium, bundled by ./bundle.ts, and posts
 * what it saw to `/result` on the server that served it; its bundle must hold no similarity dedup.
 *
 * It imports the source so that `npm test`'s type check sees it; the bundler swaps the import for the built
 * package's `rxjs-batch-dedup/lite` export, so the page runs what a user's bundler would give it.
 */
import { createBatcher } from '../../src/lite/index.js';
import { exactScenario, httpScenario, pageBasics, report, type LitePageReport } from './scenarios.js';

void report(async (): Promise<LitePageReport> => ({
  ...pageBasics(),
  exact: await exactScenario(createBatcher),
  http: await httpScenario(createBatcher),
}));
