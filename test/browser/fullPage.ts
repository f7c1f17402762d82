/**
 * The full browser smoke page (test/browser.test.ts): `batchDedup` from the main entry point with `'hybrid'` dedup
 * and the built-in lexical embedder, the part the lean page (./page.ts) leaves out. Bundled by ./bundle.ts with the
 * imports swapped for the built package's `rxjs-batch-dedup` and `rxjs-batch-dedup/operators` exports.
 */
import { createBatchStats } from '../../src/index.js';
import { batchDedup } from '../../src/operators/index.js';
import { hybridScenario, pageBasics, report, type FullPageReport } from './scenarios.js';

void report(async (): Promise<FullPageReport> => ({
  ...pageBasics(),
  hybrid: await hybridScenario(batchDedup, createBatchStats),
}));
