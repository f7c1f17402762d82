/**
 * One batch's run (src/internal/batchRun.ts), where mutation testing found a promise no test guarded
 * (docs/testing.md): an item that could not be keyed (carried in `failures`) is answered with its own error and
 * is not reported as deduplicated, since it shared nobody's result.
 */
import { from, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BatchResult, DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

function runFanOut(batch: DedupedBatch<string>): { results: BatchResult<string, string>[]; executed: string[][] } {
  const scheduler = new VirtualTimeScheduler();
  const results: BatchResult<string, string>[] = [];
  const executed: string[][] = [];
  const execute = (items: string[]) => {
    executed.push([...items]);
    return items.map((s) => s.toUpperCase());
  };
  from([batch])
    .pipe(fanOut({ execute, scheduler }))
    .subscribe((r) => results.push(r));
  scheduler.flush();
  return { results, executed };
}

describe('an item carried in failures', () => {
  it('is rejected with its own error and reported as not deduplicated, beside items that are', () => {
    const keyError = new TypeError('key(request) threw');
    const { results, executed } = runFanOut({
      items: ['a', 'bad', 'a2'],
      unique: ['a'],
      leaderOf: [0, -1, 0],
      failures: new Map([[1, keyError]]),
    });
    expect(executed).toEqual([['a']]);
    expect(results.find((r) => r.request === 'bad')).toMatchObject({ status: 'rejected', error: keyError, deduplicated: false });
    expect(results.find((r) => r.request === 'a')).toMatchObject({ status: 'fulfilled', value: 'A', deduplicated: false });
    expect(results.find((r) => r.request === 'a2')).toMatchObject({ status: 'fulfilled', value: 'A', deduplicated: true });
  });

  it('when every item failed, the backend is not called and each is answered, not deduplicated', () => {
    const { results, executed } = runFanOut({
      items: ['x', 'y'],
      unique: [],
      leaderOf: [-1, -1],
      failures: new Map<number, unknown>([
        [0, new TypeError('x')],
        [1, new TypeError('y')],
      ]),
    });
    expect(executed).toEqual([]);
    expect(results.map((r) => [r.request, r.status, r.deduplicated])).toEqual([
      ['x', 'rejected', false],
      ['y', 'rejected', false],
    ]);
  });
});
