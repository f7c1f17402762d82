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
