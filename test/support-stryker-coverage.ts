/**
 * Gives Stryker back its per-test coverage under vitest 4.1 (vitest.stryker.config.ts adds this setup file).
 *
 * StrykerJS 9.5.1's vitest runner hands the coverage it records to Stryker in an `afterAll(({ meta }) => ...)`
 * hook of its own setup file. Vitest 4 calls an `afterAll` hook with the file's fixture context first and the
 * suite second, so that hook throws (FixtureAccessError) and no coverage reaches Stryker: it then runs every test
 * of the run against every mutant, with the mutant switched on from the start (upstream stryker-js#5928; the fix
 * came in a line that needs Node 22). The coverage itself is recorded (its `beforeEach` gets the test context
 * right); this hook puts it, and the hit count that detects endless loops, where the runner reads them: on the
 * test file's `meta`. Hooks of one suite run last-registered first, and Stryker's setup file is registered before
 * this one, so this hook runs before Stryker's, which then fails harmlessly on a file whose tests have all run.
 */
import { afterAll, inject } from 'vitest';

type HitCounts = Record<string, number>;
interface StrykerGlobal {
  mutantCoverage?: { static: HitCounts; perTest: Record<string, HitCounts> };
  hitCount?: number;
}

// Outside Stryker nothing is provided and this file does nothing.
const namespace = (inject as (key: string) => unknown)('globalNamespace');
if (typeof namespace === 'string') {
  afterAll(({}, suite) => {
    const recorded = (globalThis as unknown as Record<string, StrykerGlobal | undefined>)[namespace];
    const meta = suite.meta as Record<string, unknown>;
    const coverage = recorded?.mutantCoverage;
    if (coverage !== undefined) {
      // What this file recorded, and then the record emptied in place: the test files share one module graph
      // (isolate: false), so the record grows over the run, and a copy of it on each file's meta ran the runner
      // out of memory in the whole core's initial run. Emptied in place because each instrumented module holds
      // the record itself; Stryker adds up the files' parts.
      meta.mutantCoverage = { static: { ...coverage.static }, perTest: { ...coverage.perTest } };
      for (const id of Object.keys(coverage.static)) delete coverage.static[id];
      for (const test of Object.keys(coverage.perTest)) delete coverage.perTest[test];
    }
    if (recorded?.hitCount !== undefined) meta.hitCount = recorded.hitCount;
  });
}
