/**
 * fast-check as the property tests see it under Stryker (vitest.stryker.config.ts aliases `fast-check` here):
 * the same library, with `assert` running a quarter of each property's runs (at least 5; STRYKER_RUNS_DIVISOR=10
 * for a tenth). On 2 shared cores the
 * property tests made a mutant of the request path cost 30 to 60 s, most of it in those runs. A mutant that only
 * the runs left out would find shows as survived, so a score measured this way is, if anything, low; set
 * STRYKER_FULL_RUNS=1 to measure with every run. Not used by `npm test`.
 */
import type * as FastCheck from 'fast-check';
// The real module, under a name the config aliases to its resolved path (the bare name leads back here).
// @ts-expect-error: a name only vitest.stryker.config.ts resolves
import * as untyped from 'fast-check-real';

const real = untyped as typeof FastCheck;

// @ts-expect-error: as above
export * from 'fast-check-real';

const full = process.env.STRYKER_FULL_RUNS === '1';
/** Runs are divided by this (STRYKER_RUNS_DIVISOR, default 4), down to at least 5. */
const divisor = Number(process.env.STRYKER_RUNS_DIVISOR ?? 4);

export const assert: typeof FastCheck.assert = ((property: Parameters<typeof FastCheck.assert>[0], params?: Parameters<typeof FastCheck.assert>[1]) =>
  real.assert(property, full ? params : { ...params, numRuns: Math.max(5, Math.ceil((params?.numRuns ?? 100) / divisor)) })) as typeof FastCheck.assert;

export default { ...real, assert };
