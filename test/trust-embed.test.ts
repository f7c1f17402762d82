/**
 * The similarity stage can never hold a batch: an embedder that never settles, answers late, throws, or answers
 * with anything but one finite vector of the learned length per text makes that batch fall back to exact dedup,
 * counted in `embedFallbacks`, and every request still gets its own answer.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats, type Batcher, type Embedder } from '../src/index.js';
import { createDeduper, resolveDedupOptions } from '../src/dedup/options.js';
import { virtualClock, type VirtualClock } from '../src/testing/index.js';
import { axis, DIMENSIONS, POOL, turn } from './support.js';

const upperAll = (qs: string[]) => qs.map((q) => q.toUpperCase());
const never: Embedder = () => new Promise(() => {});

/** Moves the clock `ms` forward, `step` ms at a time, letting promise callbacks run in between. */
async function runFor(clock: VirtualClock, ms: number, step = 1): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advanceBy(step);
    await turn();
  }
}

/** Whether `promise` has settled after the microtasks now queued have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await turn();
  return settled;
}

describe('an embed() that never settles', () => {
  it('no longer holds its slot: with concurrency 1, batch after batch is served and close() resolves (default bound)', async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<string, string>({
      execute: upperAll,
      dedupStrategy: 'embedding',
      embed: never,
      concurrency: 1,
      windowMs: 1,
      stats,
      scheduler: clock.scheduler,
    });
    const first = batcher.processAll(['reset my password', 'weather in Oslo']);
    await runFor(clock, 10);
    const second = batcher.processAll(['book a flight', 'cancel my order']);
    await runFor(clock, 4_990, 10);
    expect(await isSettled(first)).toBe(false); // 5,000 ms have not passed yet
    await runFor(clock, 20);
    await expect(first).resolves.toEqual(['RESET MY PASSWORD', 'WEATHER IN OSLO']);
    // The second batch formed when the slot freed, and waits for its own embed call in turn.
    await runFor(clock, 5_100, 10);
    await expect(second).resolves.toEqual(['BOOK A FLIGHT', 'CANCEL MY ORDER']);
    const closing = batcher.close();
    await runFor(clock, 10);
    expect(await isSettled(closing)).toBe(true);
    expect(stats.snapshot()).toMatchObject({ embedFallbacks: 2, completed: 4, errors: 0 });
  });

  it('with several slots, more hung batches than slots are all served', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      execute: upperAll,
      dedupStrategy: 'hybrid',
      embed: never,
      embedTimeoutMs: 100,
      mergeGuard: false,
      concurrency: 2,
      windowMs: 1,
      scheduler: clock.scheduler,
    });
    const answers: Promise<string[]>[] = [];
    for (let i = 0; i < 5; i++) {
      answers.push(batcher.processAll([`question ${i} one`, `question ${i} two`]));
      await runFor(clock, 5);
    }
    await runFor(clock, 400);
    const results = await Promise.all(answers);
    expect(results).toEqual([0, 1, 2, 3, 4].map((i) => [`QUESTION ${i} ONE`, `QUESTION ${i} TWO`]));
    // Two hung batches held both slots; the three submitted meanwhile waited and went as one batch.
    expect(batcher.getStats().embedFallbacks).toBe(3);
    const closing = batcher.close();
    await runFor(clock, 10);
    expect(await isSettled(closing)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Every way an embedder can misbehave, per batch, in any order; and the ways it can behave.

const BOUND_MS = 20;

type Behaviour =
  | 'good-sync'
  | 'good-async'
  | 'good-just-in-time'
  | 'good-thenable'
  | 'throws'
  | 'rejects'
  | 'never'
  | 'late'
  | 'number'
  | 'string'
  | 'null'
  | 'undefined'
  | 'object'
  | 'too-few'
  | 'too-many'
  | 'wrong-dimensions'
  | 'varying-lengths'
  | 'nan'
  | 'infinity'
  | 'empty-vectors'
  | 'then-throws'
  | 'then-getter-throws'
  | 'thenable-answers-twice';

const GOOD = new Set<Behaviour>(['good-sync', 'good-async', 'good-just-in-time', 'good-thenable', 'thenable-answers-twice']);
const BEHAVIOURS: Behaviour[] = [
  ...GOOD,
  'throws',
  'rejects',
  'never',
  'late',
  'number',
  'string',
  'null',
  'undefined',
  'object',
  'too-few',
  'too-many',
  'wrong-dimensions',
  'varying-lengths',
  'nan',
  'infinity',
  'empty-vectors',
  'then-throws',
  'then-getter-throws',
];

/** What `behaviour` answers for `texts`; `clock` schedules the asynchronous ones. */
function answer(behaviour: Behaviour, texts: string[], clock: VirtualClock): unknown {
  const good = () => texts.map((t) => axis(t));
  // Vectors that would merge every text: if a late answer were used or cached, answers would be shared.
  const allEqual = () => texts.map(() => axis(POOL[0]!));
  const after = <V>(ms: number, value: () => V) =>
    new Promise<V>((resolve) => clock.scheduler.schedule(() => resolve(value()), ms));
  switch (behaviour) {
    case 'good-sync':
      return good();
    case 'good-async':
      return after(1, good);
    case 'good-just-in-time':
      return after(BOUND_MS - 1, good);
    case 'good-thenable':
      return { then: (ok: (v: unknown) => void) => ok(good()) };
    case 'thenable-answers-twice':
      return {
        then: (ok: (v: unknown) => void, fail: (e: unknown) => void) => {
          ok(good());
          ok(allEqual());
          fail(new Error('and a rejection'));
        },
      };
    case 'throws':
      throw new Error('embedding service down');
    case 'rejects':
      return new Promise((_, reject) => clock.scheduler.schedule(() => reject(new Error('503')), 2));
    case 'never':
      return new Promise(() => {});
    case 'late':
      return after(BOUND_MS + 1, allEqual);
    case 'number':
      return 42;
    case 'string':
      return 'vectors';
    case 'null':
      return null;
    case 'undefined':
      return undefined;
    case 'object':
      return { vectors: good() };
    case 'too-few':
      return good().slice(1);
    case 'too-many':
      return [...good(), axis(POOL[0]!)];
    case 'wrong-dimensions':
      return texts.map((t) => axis(t, DIMENSIONS + 1));
    case 'varying-lengths':
      // With one text to embed, its one vector is of another length than the vectors learned before.
      return texts.map((t, i) => (i === 0 && texts.length > 1 ? axis(t) : [...axis(t), 0]));
    case 'nan':
      return texts.map((t, i) => (i === texts.length - 1 ? axis(t).map(() => Number.NaN) : axis(t)));
    case 'infinity':
      return texts.map((t) => axis(t).map((x) => (x === 1 ? Infinity : x)));
    case 'empty-vectors':
      return texts.map(() => []);
    case 'then-throws':
      return {
        then() {
          throw new Error('then threw');
        },
      };
    case 'then-getter-throws':
      return Object.defineProperty({}, 'then', {
        get() {
          throw new Error('then getter threw');
        },
      });
  }
}

describe('embedder misbehaviour, as a class', () => {
  it('every batch whose embed misbehaves falls back, counted once; every request gets its own answer; close() resolves', async () => {
    const batchArb = fc.record({
      texts: fc.uniqueArray(fc.constantFrom(...POOL), { minLength: 2, maxLength: 3 }),
      behaviour: fc.constantFrom(...BEHAVIOURS),
    });
    await fc.assert(
      fc.asyncProperty(
        // The first batch answers well, so the vectors' length is learned before any wrong one comes.
        fc.array(batchArb, { minLength: 1, maxLength: 8 }),
        fc.constantFrom<'exact-first' | 'embedding'>('exact-first', 'embedding'),
        async (rest, strategy) => {
          const batches = [{ texts: POOL.slice(0, 2), behaviour: 'good-sync' as Behaviour }, ...rest];
          const clock = virtualClock();
          const stats = createBatchStats({ scheduler: clock.scheduler });
          let current: Behaviour = 'good-sync';
          const embedded: string[][] = [];
          const embed = ((texts: string[]) => {
            embedded.push([...texts]);
            return answer(current, texts, clock);
          }) as Embedder;
          const batcher: Batcher<string, string> = createBatcher<string, string>({
            execute: upperAll,
            dedupStrategy: strategy === 'embedding' ? 'embedding' : 'hybrid',
            embed,
            embedTimeoutMs: BOUND_MS,
            mergeGuard: false,
            windowMs: 1,
            scheduler: clock.scheduler,
            stats,
          });
          // A model of the embedding cache: the texts a good answer has embedded.
          const cached = new Set<string>();
          let expectedFallbacks = 0;
          const answers: Promise<string[]>[] = [];
          for (const { texts, behaviour } of batches) {
            current = behaviour;
            const calls = embedded.length;
            answers.push(batcher.processAll(texts));
            await runFor(clock, BOUND_MS + 10);
            const missing = texts.filter((t) => !cached.has(t));
            if (missing.length === 0) {
              expect(embedded.length).toBe(calls);
            } else {
              expect(embedded.slice(calls)).toEqual([missing]);
              if (GOOD.has(behaviour)) for (const t of missing) cached.add(t);
              else expectedFallbacks++;
            }
          }
          const results = await Promise.all(answers);
          expect(results).toEqual(batches.map(({ texts }) => upperAll(texts)));
          expect(stats.snapshot().embedFallbacks).toBe(expectedFallbacks);
          const closing = batcher.close();
          await runFor(clock, 5);
          expect(await isSettled(closing)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('the deduper on its own', () => {
  const items = ['alpha question', 'bravo question'];
  const settings = (embed: Embedder, embedTimeoutMs = 20) => {
    const clock = virtualClock();
    const fallbacks: unknown[] = [];
    const deduper = createDeduper(
      resolveDedupOptions<string>('dedupBy', {
        dedupStrategy: 'embedding',
        embed,
        embedTimeoutMs,
        mergeGuard: false,
        scheduler: clock.scheduler,
      }),
      { onFallback: (error) => fallbacks.push(error) },
    );
    return { clock, fallbacks, deduper };
  };

  it('says which bound passed when it falls back', async () => {
    const { clock, fallbacks, deduper } = settings(never, 20);
    const out = deduper(items);
    await runFor(clock, 21);
    await expect(out).resolves.toEqual({ items, unique: items, leaderOf: [0, 1] });
    expect(fallbacks).toHaveLength(1);
    expect(String(fallbacks[0])).toMatch(/embed\(\) did not answer within 20 ms \(embedTimeoutMs\)/);
  });

  it('a late answer is not cached: the same texts are embedded again next time', async () => {
    const calls: string[][] = [];
    let clockRef: VirtualClock | undefined;
    const embed: Embedder = (texts) => {
      calls.push([...texts]);
      return new Promise((resolve) => clockRef!.scheduler.schedule(() => resolve(texts.map(() => [1, 0])), calls.length === 1 ? 30 : 1));
    };
    const { clock, fallbacks, deduper } = settings(embed, 20);
    clockRef = clock;
    const first = deduper(items);
    await runFor(clock, 40);
    await expect(first).resolves.toEqual({ items, unique: items, leaderOf: [0, 1] });
    const second = deduper(items);
    await runFor(clock, 5);
    await expect(second).resolves.toEqual({ items, unique: [items[0]], leaderOf: [0, 0] });
    expect(calls).toEqual([items, items]);
    expect(fallbacks).toHaveLength(1);
  });
});
