// @ts-check
/**
 * A Stryker reporter that appends one line per tested mutant to reports/mutation/mutants.jsonl as it is tested,
 * so a long run can be read while it goes on, and a run stopped early still tells what it found. Stryker's own
 * `event-recorder` does the same, but also writes the whole test plan as one JSON string, which a run over the
 * whole core (8,000 mutants, each with the ids of the tests that reach it) made longer than a string may be.
 */
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const FILE = path.resolve('reports/mutation/mutants.jsonl');

class MutantLog {
  static inject = /** @type {const} */ ([]);

  constructor() {
    mkdirSync(path.dirname(FILE), { recursive: true });
    writeFileSync(FILE, '');
  }

  /** @param {any} mutant a MutantResult */
  onMutantTested(mutant) {
    const { fileName, location, mutatorName, replacement, status, statusReason, coveredBy, killedBy } = mutant;
    const line = {
      file: path.relative(process.cwd(), fileName).replace(/\\/g, '/'),
      line: location.start.line,
      column: location.start.column,
      mutator: mutatorName,
      replacement,
      status,
      tests: coveredBy?.length,
      killedBy: killedBy?.[0],
      reason: status === 'Survived' || status === 'NoCoverage' ? undefined : statusReason?.slice(0, 200),
    };
    appendFileSync(FILE, `${JSON.stringify(line)}\n`);
  }
}

export const strykerPlugins = [{ kind: 'Reporter', name: 'mutant-log', injectableClass: MutantLog }];
