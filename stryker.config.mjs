// @ts-check
/**
 * Mutation testing (StrykerJS): which behaviour of the code no test guards. `npm run test:mutation` runs it on
 * the request path; `npm run test:mutation -- --mutate src/x.ts` on a file you changed. See docs/testing.md.
 */

/** The request path of issue 17: what every request goes through. */
const REQUEST_PATH = [
  'src/operators/**/*.ts',
  '!src/operators/index.ts',
  'src/batcher/**/*.ts',
  'src/internal/engine.ts',
  'src/internal/batchRun.ts',
  'src/internal/inFlight.ts',
  'src/internal/executor.ts',
  'src/internal/pipelineConfig.ts',
  'src/dedup/exact.ts',
];

/**
 * One mutant at a time by default: the machine it was set up on has 2 cores shared with other work. Raise it
 * with STRYKER_CONCURRENCY=n or `-- --concurrency n`.
 */
const concurrency = Number(process.env.STRYKER_CONCURRENCY ?? 1);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  mutate: REQUEST_PATH,
  coverageAnalysis: 'perTest',
  // Mutants of module-level constants would rerun the whole suite each; their behaviour shows in the others.
  ignoreStatic: true,
  concurrency,
  // A mutant counts as a timeout (detected) when its tests run past timeoutFactor x their time in the initial run
  // + timeoutMS. With the default 5 s, a mutant tested while the shared machine's load rose (the initial run at
  // load 2, the mutants at load 10: the property tests 3x slower) ran past it with no hang at all: in a run on
  // batchRun.ts, 35 of the first 68 mutants "timed out", among them edits to an error message and to a cache of
  // index arrays, and only 2 survived. 40 s covers that; a mutant that truly hangs a promise runs into vitest's
  // 30 s test limit first (vitest.stryker.config.ts) and counts as killed, one that loops forever costs 40 s.
  timeoutMS: Number(process.env.STRYKER_TIMEOUT_MS ?? 40_000),
  // Reruns test only the mutants whose code or covering tests changed since the last run (reports/, not committed).
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // event-recorder writes each mutant's result as it is tested (reports/mutation/events/*-onMutantTested.json),
  // so a run stopped before its end still tells what it found; the other reports are written at the end only.
  reporters: ['clear-text', 'progress', 'html', 'json', 'event-recorder'],
  eventReporter: { baseDir: 'reports/mutation/events' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, reportTests: false, reportScoreTable: true },
  // Nothing type-checks under vitest, and a `// @ts-nocheck` added to the sandbox's files would break the tests
  // that compare docs with the files they show verbatim.
  disableTypeChecks: false,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
