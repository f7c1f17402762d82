/**
 * `fanOut` given a `DedupedBatch` that cannot be read: a getter that throws (on the batch, on an entry of
 * `leaderOf` or `unique`), a revoked proxy, a `failures` Map whose methods throw. Such values come from proxies,
 * other realms or code that builds batches lazily. Before, `checkBatch` threw out of `fanOut`'s `next`: the error
 * escaped as an uncaught exception and the batch's requests were never answered (an entry of `leaderOf` that
 * throws lost both requests of its batch). Now nothing escapes: a batch whose `items` can be read rejects every
 * request with a TypeError saying it could not be read (the getter's error as `cause`); one whose `items` cannot
 * be read is not a batch at all, so the output errors with that TypeError once the batches before it are
 * answered, as for any other non-batch. An entry of `unique` that throws when the call to `execute` is prepared
 * (it threw out of `fanOut` and left the output open for ever) now fails that call like an `execute` that throws.
 * The next batches are served.
 */
import { from, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { BatchResult, DedupedBatch, ExecuteFn } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

function runFanOut(batches: readonly unknown[], execute: ExecuteFn<string, string> = (xs) => xs.map((x) => `answer to ${x}`)) {
  const scheduler = new VirtualTimeScheduler();
  const results: BatchResult<string, string>[] = [];
  let error: unknown;
  let completed = false;
  from(batches as DedupedBatch<string>[])
    .pipe(fanOut({ execute, scheduler }))
    .subscribe({ next: (r) => results.push(r), error: (e: unknown) => (error = e), complete: () => (completed = true) });
  scheduler.flush();
  return { results, error, completed };
}

const outcomes = (results: BatchResult<string, string>[]) =>
  results.map((r) => (r.status === 'fulfilled' ? `${r.request}: ${r.value}` : `${r.request}: ${(r.error as Error).name}: ${(r.error as Error).message}`));

const good = (items: string[]): DedupedBatch<string> => ({ items, unique: items, leaderOf: items.map((_, i) => i) });
const broken = (what: string) => () => {
  throw new Error(`${what} is broken`);
};

describe('fanOut given a batch whose parts cannot be read', () => {
  it('an entry of leaderOf whose getter throws: every request of that batch is rejected with a TypeError; the next batch is served', () => {
    const leaderOf = Object.defineProperty([0, 1], 1, { get: broken('leaderOf[1]') });
    const { results, error, completed } = runFanOut([{ items: ['a', 'b'], unique: ['a', 'b'], leaderOf }, good(['c'])]);
    expect(outcomes(results).sort()).toEqual([
      'a: TypeError: fanOut: the batch could not be read (leaderOf[1] is broken); a DedupedBatch is { items, unique, leaderOf, failures? }',
      'b: TypeError: fanOut: the batch could not be read (leaderOf[1] is broken); a DedupedBatch is { items, unique, leaderOf, failures? }',
      'c: answer to c',
    ]);
    expect([error, completed]).toEqual([undefined, true]);
  });

  it("the rejection's cause is the getter's own error", () => {
    const leaderOf = Object.defineProperty([0], 0, { get: broken('leaderOf[0]') });
    const { results } = runFanOut([{ items: ['a'], unique: ['a'], leaderOf }]);
    expect(((results[0]!.error as Error).cause as Error).message).toBe('leaderOf[0] is broken');
  });

  it('a failures Map whose has() throws: every request of that batch is rejected; the next batch is served', () => {
    const failures = new (class extends Map<number, unknown> {
      override has(): boolean {
        throw new Error('failures.has is broken');
      }
    })();
    const { results, error, completed } = runFanOut([{ items: ['a'], unique: ['a'], leaderOf: [0], failures }, good(['c'])]);
    expect(outcomes(results)).toEqual([
      'a: TypeError: fanOut: the batch could not be read (failures.has is broken); a DedupedBatch is { items, unique, leaderOf, failures? }',
      'c: answer to c',
    ]);
    expect([error, completed]).toEqual([undefined, true]);
  });

  it('a getter of leaderOf on the batch that throws: every request is rejected; the next batch is served', () => {
    const batch = { items: ['a', 'b'], unique: ['a', 'b'], get leaderOf(): number[] { throw new Error('batch.leaderOf is broken'); } };
    const { results, error, completed } = runFanOut([batch, good(['c'])]);
    expect(outcomes(results).map((o) => o.split(':')[0]).sort()).toEqual(['a', 'b', 'c']);
    expect(outcomes(results).filter((o) => o.includes('TypeError: fanOut: the batch could not be read (batch.leaderOf is broken)'))).toHaveLength(2);
    expect([error, completed]).toEqual([undefined, true]);
  });

  it('a getter of items that throws: not a batch; the output errors with a TypeError after the batches before it are answered', () => {
    const batch = { get items(): string[] { throw new Error('batch.items is broken'); }, unique: [], leaderOf: [] };
    const { results, error, completed } = runFanOut([good(['a']), batch, good(['c'])]);
    expect(outcomes(results)).toEqual(['a: answer to a']);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('fanOut: expected a DedupedBatch { items, unique, leaderOf, failures? } that can be read, got one whose items threw: batch.items is broken');
    expect(completed).toBe(false);
  });

  it('a revoked proxy: not a batch; the output errors with a TypeError, nothing thrown out', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const { results, error } = runFanOut([good(['a']), proxy]);
    expect(outcomes(results)).toEqual(['a: answer to a']);
    expect((error as Error).message).toMatch(/^fanOut: expected a DedupedBatch .* that can be read, got one whose items threw: /);
  });

  it('an entry of unique whose getter throws: that batch is rejected with the getter\'s error when execute is called; the next batch is served and the output completes', () => {
    const unique = Object.defineProperty(['a'], 0, { get: broken('unique[0]') });
    const { results, error, completed } = runFanOut([{ items: ['a'], unique, leaderOf: [0] }, good(['c'])]);
    expect(outcomes(results)).toEqual(['a: Error: unique[0] is broken', 'c: answer to c']);
    expect([error, completed]).toEqual([undefined, true]);
  });
});
