/**
 * fast-check as the property tests see it under Stryker (vitest.stryker.config.ts aliases `fast-check` here):
 * the same library, with `assert` running a quarter of each property's runs (at least 10). On 2 shared cores the
 * property tests made a mutant of the request path cost 30 to 60 s, most of it in those runs. A mutant that only
 * the runs left out would find shows as survived, so a score measured this way is, if anything, low; set
 * STRYKER_FULL_RUNS=1 to measure with every run. Not used by `npm test`.
 */
// The real module, by path: the alias maps the bare name `fast-check` only.
import * as real from '../node_modules/fast-check/lib/fast-check.js';

export * from '../node_modules/fast-check/lib/fast-check.js';

const full = process.env.STRYKER_FULL_RUNS === '1';

export const assert: typeof real.assert = ((property: Parameters<typeof real.assert>[0], params?: Parameters<typeof real.assert>[1]) =>
  real.assert(property, full ? params : { ...params, numRuns: Math.max(10, Math.ceil((params?.numRuns ?? 100) / 4)) })) as typeof real.assert;

export default { ...real, assert };
