/**
 * Properties over hostile similarity scores, for both places a user supplies one: `dedupFunction(a, b)` over
 * requests and a custom `metric(a, b)` over vectors (with `dedupStrategy: 'embedding'`). Each pair's score is drawn
 * from a pool of scores and non-scores (NaN, out of [0, 1], '0.99', true, null, [1], 1n, a throw), fixed per pair,
 * and every score handed out is logged. Judged: every call settles once; a request is fulfilled with its own
 * answer, or with the answer of a request of the same scope for which the function returned a NUMBER in
 * [dedupThreshold, 1] for that pair (a metric's above 1 counts as 1) (a coerced '0.99' or true does not count); stats add up (every request
 * completed, nothing queued or in flight, every number finite and >= 0, dedupRate within [0, 1]).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBatcher, type Embedder } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, expectSaneStats, runFor } from './support.js';

const THRESHOLD = 0.9;
const THROW = Symbol('throw');
const SCORES: readonly unknown[] = [0, 0.5, 0.9, 0.95, 1, -0.5, 1.5, Number.NaN, '0.99', true, null, [1], 1n, THROW];
const SCOPES = ['a', 'b', 1] as const;

/** The id is in the text alone: semantic dedup compares only requests equal in everything but their text. */
interface Req {
  readonly text: string;
}
const idOf = (r: Req): number => Number(r.text.slice(1));

const scenarioArb = fc.record({
  requests: fc.array(fc.record({ id: fc.integer({ min: 0, max: 7 }), scope: fc.constantFrom(...SCOPES), at: fc.integer({ min: 0, max: 12 }) }), { minLength: 1, maxLength: 14 }),
  /** The score of each ordered pair of ids, as an index into SCORES. */
  table: fc.array(fc.integer({ min: 0, max: SCORES.length - 1 }), { minLength: 64, maxLength: 64 }),
  windowMs: fc.constantFrom(0, 3, 10),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

async function check(kind: 'dedupFunction' | 'metric', { requests, table, windowMs }: Scenario): Promise<void> {
  const given = new Map<string, unknown>();
  const score = (a: number, b: number): number => {
    const s = SCORES[table[a * 8 + b]!];
    given.set(`${a}>${b}`, s);
    if (s === THROW) throw new Error(`no score for ${a}, ${b}`);
    return s as number;
  };
  // A request's text names its id; its vector carries it in dimension 0, so the metric knows the pair.
  const embed: Embedder = (texts) => texts.map((t) => [Number(t.slice(1)), 1]);
  const clock = virtualClock();
  const batcher = createBatcher<Req, string>({
    scheduler: clock.scheduler,
    windowMs,
    dedupThreshold: THRESHOLD,
    ...(kind === 'dedupFunction'
      ? { dedupFunction: (a: Req, b: Req) => score(idOf(a), idOf(b)) }
      : { dedupStrategy: 'embedding' as const, mergeGuard: false, embed, metric: (a: ArrayLike<number>, b: ArrayLike<number>) => score(a[0]!, b[0]!) }),
    execute: (items) => items.map((r) => `answer to ${idOf(r)}`),
  });
  const settled: { id: number; scope: (typeof SCOPES)[number]; outcome: string[] }[] = [];
  const sorted = [...requests].sort((x, y) => x.at - y.at);
  let now = 0;
  for (const { id, scope, at } of sorted) {
    await runFor(clock, at - now);
    now = at;
    const entry = { id, scope, outcome: [] as string[] };
    settled.push(entry);
    batcher.process({ text: `q${id}` }, { scope }).then(
      (value) => entry.outcome.push(value),
      (error: unknown) => entry.outcome.push(`rejected: ${String(error)}`),
    );
  }
  await runFor(clock, 30);
  const stats = batcher.getStats();
  expect(await drain(clock, batcher.close())).toBe(true);

  for (const { id, scope, outcome } of settled) {
    expect(outcome, `request ${id} in scope ${String(scope)}`).toHaveLength(1);
    const from = Number(/^answer to (\d+)$/.exec(outcome[0]!)?.[1]);
    expect(Number.isInteger(from), `request ${id}: ${outcome[0]}`).toBe(true);
    if (from === id) continue;
    // Answered from another request: of this scope, and the similarity said so with a number at the threshold.
    const others = settled.filter((o) => o.id === from && o.scope === scope);
    expect(others.length, `request ${id} answered from ${from}, which no request of scope ${String(scope)} had`).toBeGreaterThan(0);
    const said = [given.get(`${from}>${id}`), given.get(`${id}>${from}`)];
    expect(
      // A metric's score above 1 is clamped to 1 (decisions.md: ml-distance similarities are unbounded); a
      // dedupFunction's is a non-score, and its batch falls back to exact dedup.
      said.some((s) => typeof s === 'number' && s >= THRESHOLD && (kind === 'metric' || s <= 1)),
      `request ${id} answered from ${from}; the ${kind} gave ${said.map(String).join(' / ')}`,
    ).toBe(true);
  }
  expect(stats.totalRequests).toBe(settled.length);
  expect(stats.completed).toBe(settled.length);
  expect([stats.queueDepth, stats.inFlight]).toEqual([0, 0]);
  expect(stats.dedupRate).toBeLessThanOrEqual(1);
  expectSaneStats(stats);
}

describe('hostile similarity scores', () => {
  it('dedupFunction: every request settles once, merged only where a number at the threshold said so, in its scope', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, (s) => check('dedupFunction', s)), { numRuns: 150 });
  });

  it('a custom metric: the same', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, (s) => check('metric', s)), { numRuns: 150 });
  });
});
