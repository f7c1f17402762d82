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
  // the result cache, which was part of inFlight.ts when issue 17 named the request path (moved out in stop 16)
  'src/internal/resultCache.ts',
  'src/internal/executor.ts',
  'src/internal/pipelineConfig.ts',
  'src/dedup/exact.ts',
];

/** The whole core of issue 17: src/ less the NestJS, OpenTelemetry and test-helper entries and the re-export files. */
const CORE = [
  'src/**/*.ts',
  '!src/nestjs/**',
  '!src/otel/**',
  '!src/testing/**',
  '!src/**/index.ts',
];

/** What `STRYKER_SCOPE=<name> npm run test:mutation` mutates; `--mutate` on the command line overrides it. */
const SCOPES = { request: REQUEST_PATH, core: CORE };
const scope = process.env.STRYKER_SCOPE ?? 'request';
if (!(scope in SCOPES)) {
  throw new Error(`STRYKER_SCOPE must be one of ${Object.keys(SCOPES).join(', ')}, got ${scope}`);
}

/**
 * The tests that can kill the mutants of a file, by name: `STRYKER_TESTS=exact npm run test:mutation -- --mutate
 * src/dedup/exact.ts`. With StrykerJS 9.5.1 and vitest 4.1 the runner collects no per-test coverage (upstream
 * stryker-js#5928), so every mutant runs every test of the run: the whole suite, about a minute per mutant on the
 * shared machine, unless the run names its tests here (or with `-- --testFiles a,b`). A mutant only a test left
 * out would kill shows as survived: the score is, if anything, low. See docs/testing.md.
 */
const TEST_SETS = {
  exact: [
    'test/mutation-exact.test.ts', 'test/mutation-keys.test.ts', 'test/trust-keys.test.ts', 'test/trust-keys.properties.test.ts',
    'marbles/dedupBy.marble.test.ts', 'marbles/batchDedup.marble.test.ts', 'test/bad-input.test.ts', 'test/dedup-batcher.test.ts',
    'test/createBatcher.test.ts', 'test/dedup-leaders.test.ts', 'test/trust-inputs.test.ts', 'test/mutation-sharing.test.ts',
  ],
  // src/operators/dedupBy.ts, adaptiveBuffer.ts, fanOut.ts
  operators: [
    'test/mutation-dedupBy-stats.test.ts', 'test/mutation-dedupBy.test.ts', 'test/mutation-dedupBy-edges.test.ts',
    'test/dedup-semantic.test.ts', 'test/dedup-cache.test.ts', 'test/dedup-embedders.test.ts', 'test/embed-ahead.test.ts',
    'test/lite.test.ts', 'test/options.test.ts', 'test/bad-input.test.ts', 'test/trust-embed.test.ts', 'test/trust-exec.test.ts',
    'test/mutation-fanOut-batch.test.ts', 'test/mutation-fanOut-stream.test.ts', 'test/mutation-feedback.test.ts',
    'test/mutation-run.test.ts', 'marbles/adaptiveBuffer.marble.test.ts', 'marbles/adaptiveFeedback.marble.test.ts',
    'marbles/adaptiveSaturation.marble.test.ts', 'marbles/dedupBy.marble.test.ts', 'marbles/dedupBy.semantic.marble.test.ts',
    'marbles/embedTimeout.marble.test.ts', 'marbles/fanOut.marble.test.ts', 'marbles/feedback.marble.test.ts',
    'marbles/longTimers.marble.test.ts', 'test/mutation-adaptiveBuffer.test.ts',
  ],
  // src/dedup/mergeGuard.ts, lexicalEmbedder.ts, restKey.ts, metric.ts, embedder.ts, embeddingCache.ts, options.ts
  semantic: [
    'test/dedup-guard.test.ts', 'test/text-shapes.test.ts', 'test/dedup-semantic.test.ts', 'test/dedup-cache.test.ts',
    'test/dedup-embedders.test.ts', 'test/dedup-leaders.test.ts', 'test/trust-embed.test.ts', 'test/bad-input.test.ts',
    'test/options.test.ts', 'test/lite.test.ts', 'test/mutation-dedupBy-stats.test.ts', 'marbles/dedupBy.semantic.marble.test.ts',
    'test/mutation-keys.test.ts', 'test/mutation-semantic.test.ts', 'test/mutation-mergeGuard.test.ts', 'test/semantic-cache.test.ts',
    'marbles/embedTimeout.marble.test.ts', 'marbles/semanticCache.marble.test.ts', 'test/embed-ahead.test.ts',
  ],
  // src/store/*.ts and src/stats/percentiles.ts (the tests over a real Redis, test/redis.*, are left out: seconds each)
  store: ['test/mutation-store.test.ts', 'test/mutation-percentiles.test.ts', 'test/adaptiveWindow.test.ts', 'test/otel.test.ts'],
  // src/internal/batchRun.ts, executor.ts, inFlight.ts and src/batcher/createBatcher.ts: the unit and marble tests of
  // the batch run and the promise bridge (a mutant in 2 to 4 s at load 12). The property files of the request path
  // (reliability.properties, reliability.composed, trust-exec.properties, trust-inputs*) are left out: with them
  // every survivor cost 13 s and a file of 340 mutants over an hour; a survivor is checked against them by hand.
  run: [
    'test/mutation-batchRun.test.ts', 'test/mutation-run.test.ts', 'test/mutation-executor.test.ts', 'test/mutation-batcher.test.ts',
    'test/mutation-sharing.test.ts', 'test/mutation-fanOut-batch.test.ts', 'test/mutation-fanOut-stream.test.ts',
    'test/mutation-feedback.test.ts', 'test/createBatcher.test.ts', 'test/trust-exec.test.ts', 'test/trust-timers.test.ts',
    'test/unsubscribe-inside-result.test.ts', 'test/reliability.batcher.test.ts', 'test/bad-input.test.ts',
    'test/dedup-batcher.test.ts', 'test/request-path.test.ts', 'marbles/fanOut.marble.test.ts', 'marbles/batchDedup.marble.test.ts',
    'marbles/engine.marble.test.ts', 'marbles/resultCache.marble.test.ts', 'marbles/longTimers.marble.test.ts',
    'marbles/feedback.marble.test.ts', 'marbles/sharedTier.marble.test.ts', 'test/defect.test.ts',
    'test/mutation-batcher-calls.test.ts', 'test/mutation-batcher-close.test.ts', 'test/mutation-batcher-slots.test.ts',
    'test/mutation-run-batch.test.ts', 'test/mutation-run-cache.test.ts', 'marbles/mutation-run-batch.marble.test.ts',
    'marbles/mutation-run-executor.marble.test.ts',
  ],
  // src/internal/engine.ts and src/internal/subscribeSource.ts (about 10 s a mutant at load 2)
  engine: [
    'test/mutation-engine*.test.ts', 'marbles/mutation-engine*.marble.test.ts', 'marbles/engine.marble.test.ts', 'marbles/batchDedup.marble.test.ts',
    'marbles/formingBatch.marble.test.ts', 'marbles/priorityQueue.marble.test.ts', 'marbles/resultCache.marble.test.ts',
    'marbles/sharedTier.marble.test.ts', 'marbles/semanticCache.marble.test.ts', 'marbles/embedTimeout.marble.test.ts',
    'marbles/embedAhead.marble.test.ts', 'marbles/adaptiveFeedback.marble.test.ts', 'marbles/fanOut.marble.test.ts',
    'marbles/dedupBy.marble.test.ts', 'test/createBatcher.test.ts', 'test/dedup-batcher.test.ts', 'test/defect.test.ts',
    'test/mutation-sharing.test.ts', 'test/mutation-batcher.test.ts', 'test/mutation-executor.test.ts',
    'test/mutation-fanOut-stream.test.ts', 'test/reliability.batcher.test.ts', 'test/reliability.composed.test.ts',
    'test/reliability.properties.test.ts', 'test/request-path.test.ts', 'test/trust-exec.test.ts',
    'test/trust-exec.properties.test.ts', 'test/trust-timers.test.ts', 'test/trust-timers.properties.test.ts',
    'test/trust-inputs.test.ts', 'test/trust-inputs.properties.test.ts', 'test/properties.test.ts', 'test/options.test.ts',
    'test/unsubscribe-inside-result.test.ts', 'test/bad-input.test.ts', 'test/semantic-cache.test.ts',
    'test/formingBatch.test.ts',
  ],
  // src/internal/collector.ts, waitingQueue.ts, fifoQueue.ts: the window rules, the queues and their marbles (H-MUTC)
  queue: [
    'test/mutation-queue*.test.ts', 'marbles/mutation-queue*.marble.test.ts', 'test/fifoQueue.test.ts',
    'test/formingBatch.test.ts', 'marbles/formingBatch.marble.test.ts', 'marbles/priorityQueue.marble.test.ts',
    'marbles/bufferWindow.marble.test.ts', 'marbles/adaptiveBuffer.marble.test.ts', 'marbles/batchDedup.marble.test.ts',
    'marbles/engine.marble.test.ts', 'marbles/feedback.marble.test.ts', 'marbles/adaptiveFeedback.marble.test.ts',
    'marbles/adaptiveSaturation.marble.test.ts', 'marbles/longTimers.marble.test.ts', 'marbles/mutation-engine-plain.marble.test.ts',
    'test/trust-inputs.test.ts', 'test/trust-clock.test.ts', 'test/createBatcher.test.ts', 'test/mutation-batcher-calls.test.ts',
    'test/mutation-engine-deadlines.test.ts', 'test/mutation-engine-followers.test.ts',
    // stop 21 (H-COL): what killed survivors of a run with this set, by hand
    'marbles/attack-op-clock.marble.test.ts', 'test/mutation-collector-s2*.test.ts', 'marbles/mutation-collector-s2*.marble.test.ts',
  ],
  // src/internal/waitingQueue.ts alone: the queue's model test and the tests of what the engine does with it (H-MUTC)
  waiting: [
    'test/mutation-queue*.test.ts', 'marbles/priorityQueue.marble.test.ts',
    'marbles/formingBatch.marble.test.ts', 'test/formingBatch.test.ts', 'marbles/batchDedup.marble.test.ts', 'test/createBatcher.test.ts',
    // stop 21 (H-COL): what killed survivors of a run with this set, by hand (priorities() is in the lite tests)
    'test/mutation-waitingQueue-s2*.test.ts', 'test/lite.test.ts', 'test/lite-options.test.ts', 'test/bad-input.test.ts',
    'test/attack-endings-s17.test.ts',
  ],
  // src/stats/batchStats.ts (H-MUTC)
  stats: [
    'test/mutation-stats*.test.ts', 'test/mutation-percentiles.test.ts', 'test/trust-clock.test.ts', 'test/mutation-executor.test.ts',
    'test/mutation-dedupBy-stats.test.ts', 'test/mutation-run-batch.test.ts', 'test/otel.test.ts', 'test/types.test.ts',
    'marbles/engine.marble.test.ts', 'marbles/batchDedup.marble.test.ts', 'marbles/formingBatch.marble.test.ts',
    'test/bad-input.test.ts',
  ],
  // src/dedup/embedAhead.ts and semantic.ts: the embedder's calls, embed-ahead and similarity dedup (H-MUTC)
  embed: [
    'test/mutation-embed*.test.ts', 'test/embed-ahead.test.ts', 'marbles/embedAhead.marble.test.ts', 'test/embed-configure.test.ts',
    'marbles/embedTimeout.marble.test.ts', 'test/dedup-semantic.test.ts', 'test/dedup-embedders.test.ts', 'test/dedup-cache.test.ts',
    'test/trust-embed.test.ts', 'marbles/dedupBy.semantic.marble.test.ts', 'test/semantic-cache.test.ts',
    'marbles/semanticCache.marble.test.ts', 'test/mutation-semantic.test.ts', 'test/dedup-leaders.test.ts',
    'test/dedup-guard.test.ts', 'test/mutation-dedupBy-stats.test.ts',
  ],
  // src/internal/pipelineConfig.ts, by the line ranges of its functions (its tables run at import: see docs/testing.md)
  pipelineConfig: [
    'test/mutation-pipeline.test.ts', 'test/options.test.ts', 'test/bad-input.test.ts', 'test/createBatcher.test.ts',
    'test/mutation-engine-configure.test.ts', 'test/configure-followers.test.ts', 'test/trust-inputs.test.ts',
    'test/semantic-cache.test.ts', 'test/lite.test.ts', 'test/mutation-batcher-calls.test.ts', 'test/embed-configure.test.ts',
    'test/formingBatch.test.ts', 'test/dedup-batcher.test.ts', 'test/dedup-semantic.test.ts', 'test/embed-ahead.test.ts',
    'test/mutation-engine-deadlines.test.ts', 'test/mutation-executor.test.ts', 'test/trust-timers.test.ts',
    'test/adaptiveWindow.test.ts', 'test/mutation-sharing.test.ts', 'test/request-path.test.ts',
    'marbles/priorityQueue.marble.test.ts', 'marbles/formingBatch.marble.test.ts', 'marbles/batchDedup.marble.test.ts',
    'marbles/resultCache.marble.test.ts', 'marbles/sharedTier.marble.test.ts', 'marbles/adaptiveFeedback.marble.test.ts',
    'marbles/semanticCache.marble.test.ts', 'marbles/mutation-engine-plain.marble.test.ts', 'marbles/engine.marble.test.ts',
  ],
  // src/internal/inFlight.ts, executor.ts and src/batcher/createBatcher.ts: the set `run` and the tests written for
  // their survivors since (issue 17, stop 15)
  run2: [
    'test/mutation-batchRun.test.ts', 'test/mutation-run.test.ts', 'test/mutation-executor.test.ts', 'test/mutation-batcher.test.ts',
    'test/mutation-sharing.test.ts', 'test/mutation-fanOut-batch.test.ts', 'test/mutation-fanOut-stream.test.ts',
    'test/mutation-feedback.test.ts', 'test/createBatcher.test.ts', 'test/trust-exec.test.ts', 'test/trust-timers.test.ts',
    'test/unsubscribe-inside-result.test.ts', 'test/reliability.batcher.test.ts', 'test/bad-input.test.ts',
    'test/dedup-batcher.test.ts', 'test/request-path.test.ts', 'marbles/fanOut.marble.test.ts', 'marbles/batchDedup.marble.test.ts',
    'marbles/engine.marble.test.ts', 'marbles/resultCache.marble.test.ts', 'marbles/longTimers.marble.test.ts',
    'marbles/feedback.marble.test.ts', 'marbles/sharedTier.marble.test.ts', 'test/defect.test.ts',
    'test/mutation-batcher-calls.test.ts', 'test/mutation-batcher-close.test.ts', 'test/mutation-batcher-slots.test.ts',
    'test/mutation-run-batch.test.ts', 'test/mutation-run-cache.test.ts', 'marbles/mutation-run-batch.marble.test.ts',
    'marbles/mutation-run-executor.marble.test.ts', 'test/mutation-inflight.test.ts', 'test/mutation-executor2.test.ts',
    'test/mutation-batcher2.test.ts', 'test/semantic-cache.test.ts', 'marbles/semanticCache.marble.test.ts',
  ],
  // src/lite/*.ts: /lite's lean core (core.ts, slotQueue.ts, bridge.ts, leanOperator.ts) and the switch between it
  // and the engine (lean.ts, engine.ts) (issue 18, stop 18): STRYKER_TESTS=lite npm run test:mutation -- --mutate 'src/lite/*.ts'
  lite: [
    'test/lite-core.test.ts', 'marbles/lite-core.marble.test.ts', 'test/lite-slotQueue.test.ts', 'test/lite-switch.test.ts',
    'test/lite.test.ts', 'test/lite-options.test.ts', 'test/lite-resultCache.test.ts', 'test/attack-batcher.properties.test.ts',
    'test/attack-engine.properties.test.ts', 'test/attack-batcher-close.test.ts', 'test/attack-batcher-reentrant.test.ts',
    'test/attack-engine-reentrant.test.ts', 'test/processAll-iterable.test.ts', 'test/attack-option-values-s17.test.ts',
    'test/leanCoreSlots.test.ts', 'test/leanCoreBatchCosts.test.ts', 'test/attack-endings-s17.test.ts', 'test/attack-engine-ending-s18.test.ts',
    'test/mutation-lite-s18.test.ts',
  ],
};
const testSet = process.env.STRYKER_TESTS;
if (testSet !== undefined && !(testSet in TEST_SETS)) {
  throw new Error(`STRYKER_TESTS must be one of ${Object.keys(TEST_SETS).join(', ')}, got ${testSet}`);
}

/**
 * One mutant at a time by default: the machine it was set up on has 2 cores shared with other work. Raise it
 * with STRYKER_CONCURRENCY=n or `-- --concurrency n`.
 */
const concurrency = Number(process.env.STRYKER_CONCURRENCY ?? 1);

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.stryker.config.ts' },
  mutate: SCOPES[/** @type {keyof typeof SCOPES} */ (scope)],
  ...(testSet === undefined ? {} : { testFiles: TEST_SETS[/** @type {keyof typeof TEST_SETS} */ (testSet)] }),
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
  // mutant-log (scripts/stryker-mutant-log.mjs) appends each mutant's result as it is tested to
  // reports/mutation/mutants.jsonl, so a run stopped before its end still tells what it found; the other reports are
  // written at the end only.
  reporters: ['clear-text', 'progress', 'html', 'json', 'mutant-log'],
  plugins: ['@stryker-mutator/*', './scripts/stryker-mutant-log.mjs'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, reportTests: false, reportScoreTable: true },
  // Nothing type-checks under vitest, and a `// @ts-nocheck` added to the sandbox's files would break the tests
  // that compare docs with the files they show verbatim.
  disableTypeChecks: false,
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
