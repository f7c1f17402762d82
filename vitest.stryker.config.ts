/**
 * The vitest configuration Stryker runs each mutant under (see stryker.config.mjs and docs/testing.md).
 *
 * The same suite as `npm test`, less the tests that cannot kill a mutant of the core or take seconds per run:
 * - tests that run the library in another process (built package, browser bundle, Nest fixture projects,
 *   `npm pack`): the mutant lives in this process only, so they pass or fail regardless of it, and they spend
 *   seconds building;
 * - tests that read the source or docs as text (layers, links, snippets): Stryker instruments the sandbox's
 *   source, so they would check the instrumented text rather than the code;
 * - the integration tests over real sockets and wall-clock time (HTTP recipes, Nest over TCP, the soak, two
 *   replicas over a real Redis, the HTTP embedder against a local server; with per-test coverage, every mutant of
 *   the engine they reach cost their seconds):
 *   each takes up to seconds and, with a mutant that stalls, runs into the timeout instead of failing. A
 *   mutant only they could kill is a promise that a unit or marble test should guard.
 *
 * And the test files share one module graph (`isolate: false`): each mutant run then imports RxJS, fast-check
 * and NestJS once rather than once per file, which halves its time. The suite passes this way as it is; a test
 * that leaked state into the next file would show as a failed initial run.
 *
 * A mutant that stops a timer or a promise from settling makes a test hang. With the 20 s of `npm test` it runs
 * into Stryker's own timeout, which restarts the test process (seconds more), and counts as a timeout (detected).
 * Most tests of this set take well under 0.1 s, but the property tests take seconds, and on a loaded machine
 * (2 cores shared with other work, load ~13) 2 s and then 10 s limits failed Stryker's initial run: 30 s leaves
 * room for that. A mutant that hangs is still stopped by Stryker's own timeout, set from the initial run's times.
 */
import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    // The property tests run a quarter of their runs (test/support-stryker-fc.ts says why; STRYKER_FULL_RUNS=1 for all).
    resolve: {
      alias: [
        { find: /^fast-check$/, replacement: fileURLToPath(new URL('./test/support-stryker-fc.ts', import.meta.url)) },
        { find: /^fast-check-real$/, replacement: fileURLToPath(import.meta.resolve('fast-check')) },
      ],
    },
    test: {
      isolate: false,
      // Stryker's own setup file is put before these; this one hands its per-test coverage over (see the file).
      setupFiles: [fileURLToPath(new URL('./test/support-stryker-coverage.ts', import.meta.url))],
      testTimeout: 30_000,
      hookTimeout: 30_000,
      exclude: [
        ...configDefaults.exclude,
        'test/package.test.ts',
        'test/browser.test.ts',
        'test/nestjs.shutdown.test.ts',
        'test/nestjs.majors.test.ts',
        'test/links.test.ts',
        'test/architecture.test.ts',
        'test/snippets.test.ts',
        'test/recipes.*.test.ts',
        'test/http.test.ts',
        'test/nestjs.e2e.test.ts',
        'test/soak.test.ts',
        'test/redis.replicas.test.ts',
        'test/embed-http.test.ts',
      ],
    },
  }),
);
