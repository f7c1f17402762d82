/**
 * "Runs anywhere RxJS runs": the core entry points (`rxjs-batch-dedup/lite`, `rxjs-batch-dedup`,
 * `rxjs-batch-dedup/operators`), built and bundled for the browser as a user's bundler would, batch, deduplicate and
 * answer requests in a real headless Chromium, and reference no Node-only API. The lean page (exact dedup, fetch)
 * runs the lite bundle, which must hold no similarity dedup; the full page runs `'hybrid'` dedup. See
 * docs/browser.md.
 *
 * Without Chromium the browser run is skipped with a message, except in CI (CI=true), where .ci/run installs it and
 * a missing browser fails the test.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundlePage, buildPackage, nodeOnlyInSource, scratchDir, type BrowserBundle } from './browser/bundle.js';
import { findChromium, runInChromium } from './browser/chromium.js';
import type { FullPageReport, LitePageReport } from './browser/scenarios.js';

const chromium = findChromium();
const inCI = process.env['CI'] === 'true';
const MISSING = 'chromium is not installed (`apt-get install -y chromium`; .ci/run installs it)';

let scratch: string;
let bundles: { lean: BrowserBundle; full: BrowserBundle } | undefined;
let bundleFailure: unknown;

beforeAll(async () => {
  scratch = scratchDir();
  try {
    await buildPackage(scratch);
    bundles = { lean: await bundlePage(scratch, 'page'), full: await bundlePage(scratch, 'fullPage') };
  } catch (error) {
    // Reported by the tests below, so that the source check still runs and names the file and line.
    bundleFailure = error;
  }
}, 60_000);

function built(): { lean: BrowserBundle; full: BrowserBundle } {
  if (bundles === undefined) throw bundleFailure;
  return bundles;
}

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('the core in a browser', () => {
  it('source reachable from src/index.ts, src/lite/index.ts and src/operators/index.ts imports no Node built-in and uses none of Node\u2019s globals', async () => {
    // file:line: global, for each free reference to process, Buffer, require, global, __dirname, setImmediate...
    expect(await nodeOnlyInSource()).toEqual([]);
  });

  it.each(['lean', 'full'] as const)('bundles the %s page for platform browser from the package exports, without Node globals, node: imports or warnings', (page) => {
    const bundle = built()[page];
    // The library came from the built package through its exports map, not from src.
    expect(bundle.inputs.filter((input) => input.startsWith('src/'))).toEqual([]);
    expect(bundle.inputs.some((input) => /node_modules\/rxjs\//.test(input))).toBe(true);
    expect(bundle.warnings).toEqual([]);
    expect(bundle.nodeGlobals).toEqual([]);
    expect(bundle.code).not.toMatch(/["']node:/);
  });

  it('the lean page is bundled from rxjs-batch-dedup/lite alone and holds no similarity dedup; the full page does', () => {
    const { lean, full } = built();
    const similarity = /ml-distance|createLexicalEmbedder|salientTokens|createSemanticDeduper/;
    expect(lean.inputs).toEqual(expect.arrayContaining([expect.stringMatching(/node_modules\/rxjs-batch-dedup\/dist\/lite\.js$/)]));
    expect(lean.inputs.filter((input) => /dist\/(index|operators)\.js$|ml-distance/.test(input))).toEqual([]);
    expect(lean.code).not.toMatch(similarity);
    expect(full.inputs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/node_modules\/rxjs-batch-dedup\/dist\/index\.js$/),
        expect.stringMatching(/node_modules\/rxjs-batch-dedup\/dist\/operators\.js$/),
        expect.stringMatching(/node_modules\/ml-distance\//),
      ]),
    );
    expect(full.code).toMatch(similarity);
  });

  it("the lean page runs /lite's lean core: its bundle holds no fused engine (issue 18, the switch of stop 18)", () => {
    const { lean, full } = built();
    const engine = /\b(BatchEngine|PipelineConfig|BatchRun)\b/;
    expect(lean.code).toMatch(/function leanCore\(/);
    expect(lean.code).toMatch(/function slotQueue\(/);
    expect(lean.code).not.toMatch(engine);
    expect(full.code).toMatch(engine);
  });

  const browserTest = chromium !== undefined || inCI ? it : it.skip;
  if (chromium === undefined) {
    console.warn(`test/browser.test.ts: ${MISSING}; ${inCI ? 'CI=true, so the browser test fails' : 'the browser test is skipped'}`);
  }
  const skipNote = chromium === undefined ? ` [${MISSING}]` : '';

  browserTest(
    `lean bundle: batches, deduplicates exactly and answers in headless Chromium, fetch included${skipNote}`,
    async () => {
      if (chromium === undefined) throw new Error(`CI=true but ${MISSING}`);
      const served: string[][] = [];
      const api = (url: URL) => {
        const ids = (url.searchParams.get('ids') ?? '').split(',');
        served.push(ids);
        return ids.filter((id) => id !== 'missing').map((id) => ({ id, name: `user ${id}` }));
      };
      const report = (await runInChromium(chromium, built().lean.code, 15_000, api)) as { report: LitePageReport };
      const { userAgent, nodeGlobals, exact, http } = report.report;

      expect(userAgent).toContain('HeadlessChrome');
      expect(nodeGlobals).toEqual({ process: 'undefined', Buffer: 'undefined', require: 'undefined', setImmediate: 'undefined' });

      // createBatcher, exact dedup: 24 requests of 8 words at once, then 16 of 2 words over ~16 ms.
      expect(exact.wrongAnswers).toEqual([]);
      expect(exact.requests).toBe(40);
      expect(exact.backendItems, JSON.stringify(exact)).toBeGreaterThanOrEqual(10); // every distinct request reached the backend
      expect(exact.backendItems, JSON.stringify(exact)).toBeLessThan(exact.requests);
      expect(exact.executedItems).toBe(exact.backendItems);

      // createBatcher in front of fetch: 31 lookups of 7 ids, each answered with its own user (or null); the
      // server saw each id at most once per request, and fewer ids in all than lookups.
      expect(http.wrongAnswers).toEqual([]);
      expect(served.map((ids) => JSON.stringify(ids)).sort()).toEqual([...http.backendBatches].sort());
      for (const ids of served) expect(new Set(ids).size, JSON.stringify(served)).toBe(ids.length);
      expect(http.backendItems, JSON.stringify(http)).toBeGreaterThanOrEqual(7);
      expect(http.backendItems, JSON.stringify(http)).toBeLessThan(http.requests);
    },
    30_000,
  );

  browserTest(
    `full bundle: 'hybrid' dedup with the built-in embedder merges near-duplicates in headless Chromium${skipNote}`,
    async () => {
      if (chromium === undefined) throw new Error(`CI=true but ${MISSING}`);
      const report = (await runInChromium(chromium, built().full.code, 15_000)) as { report: FullPageReport };
      const { userAgent, nodeGlobals, hybrid } = report.report;

      expect(userAgent).toContain('HeadlessChrome');
      expect(nodeGlobals).toEqual({ process: 'undefined', Buffer: 'undefined', require: 'undefined', setImmediate: 'undefined' });

      // batchDedup, 'hybrid' with the built-in lexical embedder: 8 questions, 4 once near-duplicates merge
      // (exact dedup alone would send 7; the merge guard keeps "Enable 2FA" and "Disable 2FA" apart).
      expect(hybrid.wrongAnswers).toEqual([]);
      expect(hybrid.embedFallbacks, 'the built-in embedder failed in the browser').toBe(0);
      expect(hybrid.requests).toBe(8);
      expect(hybrid.backendItems, JSON.stringify(hybrid)).toBe(4);
      expect(hybrid.executedItems).toBe(4);
    },
    30_000,
  );
});
