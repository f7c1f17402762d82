/**
 * Issue 11, properties of the execute-and-answer stage over hostile domains:
 * - item 7: every way `execute` can return (array, promise, thenable, observable, async iterable, anything else),
 *   drawn well-behaved or hostile; every request gets exactly one result, its own or an error, later requests are
 *   served, and nothing escapes as an uncaught exception or unhandled rejection;
 * - item 8: `fanOut` given malformed `DedupedBatch`es; each request gets exactly one result: its leader's, or a
 *   TypeError naming the field and index when its entry is malformed.
 */
import fc from 'fast-check';
import { defer, from, NEVER, Observable, timer, map, VirtualTimeScheduler, type ObservableInput } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBatcher, type BatchResult, type DedupedBatch, type ExecuteFn } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';
import { virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

const answer = (request: string) => `answer to ${request}`;

/** Something `execute` may give instead of a result; the thing it stands for is beside it. */
const notAResult = fc.constantFrom<[string, unknown]>(
  ['a number', 42],
  ['a string', 'results'],
  ['null', null],
  ['undefined', undefined],
  ['a bigint', 7n],
  ['a symbol', Symbol('result')],
  ['a function', () => ['x']],
  ['a plain object', { results: [] }],
  ['true', true],
);

const badIndex = fc.oneof(
  fc.constantFrom<unknown>('0', Number.NaN, 0.5, -1, Infinity, 1e9, null, undefined, 0n, true, {}, [0]),
  fc.integer({ min: 1000, max: 2 ** 31 }),
);

/** One way for `execute` to behave on one call; `clock` drives the observable ones. */
type Behaviour = (items: string[], scheduler: VirtualTimeScheduler) => ReturnType<ExecuteFn<string, string>>;

const goodResults = (items: string[]) => items.map(answer);
const thrown = new Error('execute misbehaved');

const behaviour: fc.Arbitrary<[string, Behaviour]> = fc.oneof(
  fc.constant<[string, Behaviour]>(['array', goodResults]),
  fc.constant<[string, Behaviour]>(['promise', (items) => Promise.resolve(goodResults(items))]),
  fc.constant<[string, Behaviour]>(['observable of an array', (items, s) => timer(1, s).pipe(map(() => goodResults(items)))]),
  fc.constant<[string, Behaviour]>(['stream, last item first, error: null', (items) =>
    from(items.map((item, index) => ({ index, value: answer(item), error: null })).reverse())]),
  fc.constant<[string, Behaviour]>(['async iterable', (items) => (async function* () {
    for (const [index, item] of items.entries()) yield { index, value: answer(item) };
  })()]),
  fc.constant<[string, Behaviour]>(['throws', () => { throw thrown; }]),
  fc.constant<[string, Behaviour]>(['rejects', () => Promise.reject(thrown)]),
  fc.constant<[string, Behaviour]>(['then throws', () => ({ then() { throw thrown; } })]),
  fc.constant<[string, Behaviour]>(['then getter throws', () => ({ get then() { throw thrown; } }) as never]),
  fc.constant<[string, Behaviour]>(['then calls both, twice, then throws', (items): PromiseLike<string[]> => ({
    then(resolve, reject) {
      reject!(thrown);
      resolve!(goodResults(items));
      resolve!(goodResults(items).reverse());
      reject!(new Error('again'));
      throw new Error('and threw');
    },
  })]),
  fc.constant<[string, Behaviour]>(['then resolves, then throws', (items): PromiseLike<string[]> => ({
    then(resolve) {
      resolve!(goodResults(items));
      throw thrown;
    },
  })]),
  fc.constant<[string, Behaviour]>(['then never calls back', () => ({ then: () => undefined as never })]),
  fc.constant<[string, Behaviour]>(['never settles (observable)', () => NEVER]),
  fc.constant<[string, Behaviour]>(['never settles (promise)', () => new Promise<string[]>(() => undefined)]),
  notAResult.map(([name, value]): [string, Behaviour] => [`returns ${name}`, () => value as never]),
  notAResult.map(([name, value]): [string, Behaviour] => [`resolves ${name}`, () => Promise.resolve(value) as never]),
  fc.integer({ min: -1, max: 2 }).filter((d) => d !== 0).map((d): [string, Behaviour] => [
    `wrong length (${d > 0 ? '+' : ''}${d})`,
    (items) => Promise.resolve(goodResults(items).concat(d > 0 ? Array.from({ length: d }, () => 'extra') : []).slice(0, Math.max(0, items.length + Math.min(0, d)))),
  ]),
  badIndex.map((index): [string, Behaviour] => [`streams index ${String(index)}`, (items) =>
    from([{ index: items.length - 1, value: answer(items[items.length - 1]!) }, { index, value: 'stray' }]) as ObservableInput<never>]),
  fc.constant<[string, Behaviour]>(['streams an item with neither value nor error', () => from([{ index: 0 }]) as ObservableInput<never>]),
  fc.constant<[string, Behaviour]>(['streams an item whose getter throws', () =>
    from([{ get index(): number { throw thrown; }, value: 'x' }]) as ObservableInput<never>]),
  fc.constant<[string, Behaviour]>(['observable errors after a partial result', (items) =>
    new Observable((subscriber) => {
      subscriber.next({ index: 0, value: answer(items[0]!) });
      subscriber.error(thrown);
    })]),
  fc.constant<[string, Behaviour]>(['async iterable throws midway', (items) => (async function* () {
    yield { index: 0, value: answer(items[0]!) };
    throw thrown;
  })()]),
  fc.constant<[string, Behaviour]>(['streams a duplicate index', (items) =>
    from([{ index: 0, value: answer(items[0]!) }, { index: 0, value: 'second' }, ...items.slice(1).map((item, k) => ({ index: k + 1, value: answer(item) }))]) as ObservableInput<never>]),
  fc.constant<[string, Behaviour]>(['defer that throws on subscribe', () => defer(() => { throw thrown; })]),
);

describe('item 7: every way execute can return, well-behaved or hostile', () => {
  const escaped: unknown[] = [];
  const onEscape = (error: unknown) => escaped.push(error);
  beforeEach(() => {
    escaped.length = 0;
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
  });
  afterEach(() => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
  });

  it('createBatcher: every request settles once with its own answer or an error; later requests are served; nothing escapes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(behaviour, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 1, max: 4 }),
        async (behaviours, groups, maxSize) => {
          const clock = virtualClock();
          let calls = 0;
          const batcher = createBatcher<string, string>({
            windowMs: 2,
            maxSize, // groups larger than this form batches inside process(); the rest on the window timer
            processingTimeoutMs: 20,
            scheduler: clock.scheduler,
            execute: (items) => (items.some((r) => r.startsWith('after')) ? goodResults(items) : behaviours[calls++ % behaviours.length]![1](items, clock.scheduler)),
          });
          const settled: { request: string; outcome?: { value?: string; error?: unknown } }[] = [];
          let n = 0;
          for (const size of groups) {
            for (let k = 0; k < size; k++) {
              const entry: (typeof settled)[number] = { request: `r${n++}` };
              settled.push(entry);
              batcher.process(entry.request).then(
                (value) => (entry.outcome = { value }),
                (error: unknown) => (entry.outcome = { error }),
              );
            }
            await turn();
            clock.advanceBy(1);
          }
          for (let t = 0; t < 400 && settled.some((e) => !e.outcome); t++) {
            await turn();
            clock.advanceBy(1);
          }
          for (const { request, outcome } of settled) {
            expect(outcome, `${request} has a result`).toBeDefined();
            if (outcome && 'value' in outcome) expect(outcome.value).toBe(answer(request));
          }
          expect(batcher.closed).toBe(false);
          const after = batcher.processAll(['after 1', 'after 2']);
          let served: string[] | undefined;
          void after.then((v) => (served = v));
          for (let t = 0; t < 10 && !served; t++) {
            await turn();
            clock.advanceBy(1);
          }
          expect(served).toEqual(['answer to after 1', 'answer to after 2']);
          for (let t = 0; t < 5; t++) await turn(); // let stray callbacks of the hostile calls run
          expect(escaped).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fanOut: exactly one BatchResult per request, its own value or an error; the stream completes; nothing escapes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(behaviour, fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 6 }), async (plan) => {
        const scheduler = new VirtualTimeScheduler();
        let n = 0;
        const batches = plan.map(([, size]) => {
          const items = Array.from({ length: size }, () => `r${n++}`);
          return { items, unique: items, leaderOf: items.map((_, i) => i) } satisfies DedupedBatch<string>;
        });
        let call = 0;
        const results: BatchResult<string, string>[] = [];
        let completed = false;
        from(batches)
          .pipe(fanOut<string, string>({ execute: (items) => plan[call++]![0][1](items, scheduler), scheduler, processingTimeoutMs: 20, concurrency: 2 }))
          .subscribe({ next: (r) => results.push(r), complete: () => (completed = true) });
        for (let t = 0; t < 200 && !completed; t++) {
          await turn();
          scheduler.maxFrames = scheduler.frame + 1;
          scheduler.flush();
          scheduler.frame = scheduler.maxFrames;
        }
        expect(completed).toBe(true);
        const requests = results.map((r) => r.request).sort();
        expect(requests).toEqual(batches.flatMap((b) => b.items).sort());
        for (const r of results) if (r.status === 'fulfilled') expect(r.value).toBe(answer(r.request));
        for (let t = 0; t < 5; t++) await turn();
        expect(escaped).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

describe('item 8: fanOut given malformed DedupedBatches', () => {
  const oddEntry = fc.constantFrom<unknown>(-1, -2, 0.5, Number.NaN, Infinity, -Infinity, '0', null, undefined, 0n, true, {}, [0]);
  const failure = (i: number) => new Error(`dedup failed for item ${i}`);

  /** A batch of `n` requests whose parts may be anything; `b` keeps requests of different batches apart. */
  const batch = (b: number) =>
    fc
      .record({
        n: fc.integer({ min: 0, max: 6 }),
        uniqueCount: fc.integer({ min: 0, max: 4 }),
        uniqueShape: fc.constantFrom('array', 'array', 'array', 'array', 'string', 'missing'),
        entries: fc.array(fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 5 }) }, { weight: 2, arbitrary: oddEntry }), { maxLength: 8 }),
        lengthShift: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) }),
        failed: fc.array(fc.integer({ min: -1, max: 7 }), { maxLength: 3 }),
        failuresShape: fc.constantFrom('none', 'map', 'map', 'object'),
        leaderOfShape: fc.constantFrom('array', 'array', 'array', 'array', 'array', 'object'),
      })
      .map(({ n, uniqueCount, uniqueShape, entries, lengthShift, failed, failuresShape, leaderOfShape }) => {
        const items = Array.from({ length: n }, (_, i) => `b${b}r${i}`);
        const unique = Array.from({ length: uniqueCount }, (_, u) => `b${b}u${u}`);
        const length = Math.max(0, n + lengthShift);
        const leaderOf = Array.from({ length }, (_, i) => (i < entries.length ? entries[i] : i % Math.max(1, uniqueCount)));
        const failures = new Map(failed.map((i) => [i, failure(i)]));
        return {
          items,
          unique: uniqueShape === 'array' ? unique : uniqueShape === 'string' ? 'u' : undefined,
          leaderOf: leaderOfShape === 'array' ? leaderOf : { ...leaderOf },
          ...(failuresShape === 'map' && { failures }),
          ...(failuresShape === 'object' && { failures: Object.fromEntries(failures) }),
        };
      });

  const notABatch = fc.constantFrom<unknown>(null, 42, 'batch', undefined, { unique: [], leaderOf: [] }, { items: 'r0', unique: [], leaderOf: [] });

  type Expected = { value: string } | { error: unknown } | { typeError: RegExp };

  /** What each request must get, by rules stated independently of the implementation. */
  function expectedOf(given: Record<string, unknown>): Map<string, Expected> {
    const items = given.items as string[];
    const { unique, leaderOf, failures } = given as { unique: unknown; leaderOf: unknown; failures: unknown };
    const expected = new Map<string, Expected>();
    const failuresOk =
      failures === undefined || (failures instanceof Map && [...failures.keys()].every((i) => Number.isInteger(i) && i >= 0 && i < items.length));
    const whole = !Array.isArray(unique) || !Array.isArray(leaderOf) || leaderOf.length !== items.length || !failuresOk;
    for (const [i, request] of items.entries()) {
      if (whole) {
        expected.set(request, { typeError: /^fanOut: batch\.(unique|leaderOf|failures) / });
        continue;
      }
      const f = failures as Map<number, unknown> | undefined;
      const leader = (leaderOf as unknown[])[i];
      if (f?.has(i)) expected.set(request, { error: f.get(i) });
      else if (typeof leader === 'number' && Number.isInteger(leader) && leader >= 0 && leader < (unique as string[]).length) {
        expected.set(request, { value: answer((unique as string[])[leader]!) });
      } else expected.set(request, { typeError: new RegExp(`^fanOut: batch\\.leaderOf\\[${i}\\] is `) });
    }
    return expected;
  }

  it('every request of a batch gets exactly one result: its leader\'s, its failure, or a TypeError naming the field and index', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }).chain((ids) => fc.tuple(...ids.map((_, b) => batch(b)))),
        fc.option(fc.tuple(notABatch, fc.nat()), { freq: 4 }),
        (batches, intruder) => {
          const sent: unknown[] = [...batches];
          const cut = intruder ? Math.min(intruder[1], sent.length) : sent.length;
          if (intruder) sent.splice(cut, 0, intruder[0]);
          sent.push({ items: ['last'], unique: ['last'], leaderOf: [0] });
          const scheduler = new VirtualTimeScheduler();
          const results: BatchResult<string, string>[] = [];
          let error: unknown;
          let completed = false;
          from(sent as DedupedBatch<string>[])
            .pipe(fanOut<string, string>({ execute: (items) => items.map(answer), scheduler }))
            .subscribe({ next: (r) => results.push(r), error: (e: unknown) => (error = e), complete: () => (completed = true) });
          scheduler.flush();

          const answered = batches.slice(0, cut);
          const expected = new Map(answered.flatMap((b) => [...expectedOf(b)]));
          if (intruder) {
            expect(error).toBeInstanceOf(TypeError);
            expect((error as Error).message).toMatch(/^fanOut: (expected a DedupedBatch|batch\.items must be an array)/);
          } else {
            expect(completed).toBe(true);
            expected.set('last', { value: answer('last') });
          }
          expect(results.map((r) => r.request).sort()).toEqual([...expected.keys()].sort());
          for (const result of results) {
            const want = expected.get(result.request)!;
            if ('value' in want) expect(result).toMatchObject({ status: 'fulfilled', value: want.value });
            else if ('error' in want) expect(result).toMatchObject({ status: 'rejected', error: want.error });
            else {
              expect(result.error, result.request).toBeInstanceOf(TypeError);
              expect((result.error as Error).message).toMatch(want.typeError);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
