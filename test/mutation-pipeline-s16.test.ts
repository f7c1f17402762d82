/**
 * Survivors of the stop-16 Stryker run in the live configuration (src/internal/pipelineConfig.ts, issue 17), each
 * killed through the public createBatcher: what is shared at arrival under which dedup settings
 * (docs/scheduling.md), and what configure() takes as no change.
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, createBatchStats, type BatchDedupOptions, type BatchResult } from '../src/index.js';
import { createTestScheduler, simulatedBackend, virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

const upper = (s: string) => s.toUpperCase();

/**
 * Sends `requests` to a batcher made with `options` (a window of 2 ms, a backend taking 5 ms): each `[at, request]`
 * at virtual time `at`. Returns the items of each backend call, once every request is answered.
 */
async function sent(options: Partial<BatchDedupOptions<string, string>>, requests: readonly (readonly [at: number, request: string])[]) {
  const clock = virtualClock();
  const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: upper });
  const batcher = createBatcher<string, string>({ execute: backend.execute, windowMs: 2, scheduler: clock.scheduler, ...options });
  const answers: Promise<string>[] = [];
  let now = 0;
  for (const [at, request] of requests) {
    clock.advanceBy(at - now);
    now = at;
    answers.push(batcher.process(request));
  }
  for (let i = 0; i < 30; i++) {
    await turn();
    clock.advanceBy(1);
  }
  expect(await Promise.all(answers)).toEqual(requests.map(([, request]) => upper(request)));
  batcher.close();
  return backend.calls.map((call) => [...call.items]);
}

describe('what is shared at arrival', () => {
  // Kills pipelineConfig.ts:491 `dedup.dedupFunction === undefined` made true (ConditionalExpression): with a
  // dedupFunction, equality is known only at batch time, so requests with equal exact keys do not join at arrival;
  // the dedupFunction decides, and here it merges nothing.
  it('with a dedupFunction, equal requests are not joined by their exact key: the function decides', async () => {
    expect(await sent({ dedupFunction: () => 0 }, [[0, 'a'], [1, 'a']])).toEqual([['a', 'a']]);
  });

  // Kills pipelineConfig.ts:492 `dedup.strategy !== 'embedding'` made true (ConditionalExpression) or its
  // 'embedding' emptied (StringLiteral): under 'embedding' alone nothing joins by exact key, so a request equal
  // to one executing is sent again (docs/scheduling.md: in-flight joins apply with exact or hybrid dedup only).
  it("with dedupStrategy 'embedding', a request equal to one executing is sent again", async () => {
    expect(await sent({ dedupStrategy: 'embedding' }, [[0, 'a'], [3, 'a']])).toEqual([['a'], ['a']]);
  });

  // Control for the two above: with exact dedup the same arrivals share one backend item.
  it('with exact dedup, the same arrivals share one backend item', async () => {
    expect(await sent({}, [[0, 'a'], [1, 'a'], [3, 'a']])).toEqual([['a']]);
  });

  // Kills pipelineConfig.ts:499 `this.resultCache !== undefined` made false (ConditionalExpression): with nothing
  // joined at arrival (enableDedup: false), the result cache still answers at arrival.
  it('with enableDedup: false, the result cache still answers an equal request after the first is answered', async () => {
    expect(await sent({ enableDedup: false, resultCache: { ttlMs: 100 } }, [[0, 'a'], [20, 'a']])).toEqual([['a']]);
  });

  // Kills pipelineConfig.ts:499 `joinsWaiting || joinsInFlight` made `&&` (LogicalOperator): with
  // dedupInFlight: false, a request equal to one waiting still joins it at arrival and takes no place in the
  // batch, so maxSize counts distinct items (docs/scheduling.md); without the join, a, a filled a batch of 2.
  it('with dedupInFlight: false, a request equal to one waiting joins it: maxSize counts distinct items', async () => {
    expect(await sent({ dedupInFlight: false, maxSize: 2 }, [[0, 'a'], [0, 'a'], [0, 'b']])).toEqual([['a', 'b']]);
  });

  // Kills pipelineConfig.ts:499 made true (ConditionalExpression): with dedup off and no result cache nothing is
  // computed at arrival, so a key function is never called and cannot refuse a request.
  it('with enableDedup: false and no result cache, a key that throws refuses nothing', async () => {
    const key = () => {
      throw new Error('key broken');
    };
    expect(await sent({ enableDedup: false, key }, [[0, 'a'], [1, 'a']])).toEqual([['a', 'a']]);
  });
});

describe('configure() of a structural option names the value asked for', () => {
  const execute = (items: readonly string[]) => items.map(upper);

  // Kills pipelineConfig.ts:403 `typeof value === 'boolean'` made false (ConditionalExpression): a boolean asked
  // for was named "the new dedupInFlight" instead of its value.
  it('a boolean: "with dedupInFlight: false"', () => {
    const batcher = createBatcher<string, string>({ execute });
    expect(() => batcher.configure({ dedupInFlight: false })).toThrow(
      /^createBatcher\.configure: dedupInFlight cannot be changed on a running batcher: .*To run with dedupInFlight: false, create a new batcher/,
    );
    batcher.close();
  });

  // Kills pipelineConfig.ts:403 `typeof value === 'number'` made false (ConditionalExpression): likewise a number.
  it('a number: "with priorityAgingPerSecond: 2"', () => {
    const batcher = createBatcher<string, string>({ execute, enablePriorities: true });
    expect(() => batcher.configure({ priorityAgingPerSecond: 2 })).toThrow(
      /^createBatcher\.configure: priorityAgingPerSecond cannot be changed .*To run with priorityAgingPerSecond: 2, create a new batcher/,
    );
    batcher.close();
  });
});

describe('configure() restating a value in effect', () => {
  // Kills pipelineConfig.ts:388 the changed-names filter made true (ConditionalExpression): every name given was
  // taken as changed, so restating the key function in effect started a new table and dropped the cached results.
  it('restating the same key function keeps the cached results', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const key = (s: string) => s.trim();
    const batcher = createBatcher<string, string>({
      execute: (items) => {
        executed.push(...items);
        return items.map(upper);
      },
      key,
      windowMs: 2,
      scheduler: clock.scheduler,
      resultCache: { ttlMs: 1000 },
    });
    const first = batcher.process('a');
    for (let i = 0; i < 5; i++) {
      await turn();
      clock.advanceBy(1);
    }
    await expect(first).resolves.toBe('A');
    batcher.configure({ key });
    const again = batcher.process('a');
    for (let i = 0; i < 5; i++) {
      await turn();
      clock.advanceBy(1);
    }
    await expect(again).resolves.toBe('A');
    expect(executed).toEqual(['a']);
    batcher.close();
  });
});

describe('configure({ stats: undefined })', () => {
  // Kills pipelineConfig.ts:419 `value === undefined` made false (ConditionalExpression): on a batcher made
  // without a recorder, restating stats as undefined (its default: a recorder of its own) was refused as a change.
  it('on a batcher made without a recorder is no change, and accepted', () => {
    const batcher = createBatcher<string, string>({ execute: (items) => items.map(upper) });
    expect(() => batcher.configure({ stats: undefined })).not.toThrow();
    batcher.close();
  });
});

describe('configure() of stats and resultCache, turned on, off or swapped', () => {
  const execute = (items: readonly string[]) => items.map(upper);

  // Kills pipelineConfig.ts:419 `value === this.stats` made true (ConditionalExpression): another recorder was
  // taken as no change, and silently not used.
  it('another recorder than the one in effect is refused', () => {
    const batcher = createBatcher<string, string>({ execute, stats: createBatchStats() });
    expect(() => batcher.configure({ stats: createBatchStats() })).toThrow(/^createBatcher\.configure: stats cannot be changed on a running batcher/);
    batcher.close();
  });

  // Kills pipelineConfig.ts:423 `cache === now` made true, the whole condition made false or its `now ===
  // undefined` made false, and `||` made `&&` (ConditionalExpression, LogicalOperator): turning a result cache
  // on was accepted as no change, or failed with a TypeError of the comparison instead of saying what to do.
  it('turning a result cache on is refused, saying how to get one', () => {
    const batcher = createBatcher<string, string>({ execute });
    expect(() => batcher.configure({ resultCache: { ttlMs: 100 } })).toThrow(
      /^createBatcher\.configure: resultCache cannot be changed on a running batcher: .*To run with the new resultCache, create a new batcher/,
    );
    batcher.close();
  });

  // Kills pipelineConfig.ts:423 `cache === undefined` made false (ConditionalExpression): turning the cache off
  // failed with a TypeError of the comparison instead of saying what to do.
  it('turning the result cache off is refused, saying how to run without it', () => {
    const batcher = createBatcher<string, string>({ execute, resultCache: { ttlMs: 100 } });
    expect(() => batcher.configure({ resultCache: undefined })).toThrow(
      /^createBatcher\.configure: resultCache cannot be changed on a running batcher: .*To run without resultCache, create a new batcher/,
    );
    batcher.close();
  });

  // Kills pipelineConfig.ts:423 `cache === now` made false (ConditionalExpression): restating no result cache was
  // refused as a change.
  it('restating no result cache is no change, and accepted', () => {
    const batcher = createBatcher<string, string>({ execute });
    expect(() => batcher.configure({ resultCache: undefined })).not.toThrow();
    batcher.close();
  });
});

describe('options as the pipeline holds them', () => {
  // Kills pipelineConfig.ts:457 `value === false` made false (ConditionalExpression) and its `false` made `true`
  // (BooleanLiteral): `resultCache: false` is refused on the main entry point as no options object, as before the
  // feature objects, rather than taken as off.
  it('resultCache: false is refused at creation as no options object', () => {
    expect(() => createBatcher<string, string>({ execute: (items) => items.map(upper), resultCache: false as never })).toThrow(TypeError);
  });

  // Kills pipelineConfig.ts:524 `onEmbedCache` made `() => undefined` (ArrowFunction): the pipeline's stats did
  // not count the embedding cache's hits and misses.
  it("counts the embedding cache's hits and misses in the batcher's stats", async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      execute: (items) => items.map(upper),
      dedupStrategy: 'embedding',
      windowMs: 2,
      scheduler: clock.scheduler,
    });
    // Two texts to compare in each batch; the second batch's are embedded already.
    for (let round = 0; round < 2; round++) {
      const answers = batcher.processAll(['what is a cat', 'how tall is mount everest']);
      for (let i = 0; i < 5; i++) {
        await turn();
        clock.advanceBy(1);
      }
      await expect(answers).resolves.toEqual(['WHAT IS A CAT', 'HOW TALL IS MOUNT EVEREST']);
    }
    expect(batcher.getStats()).toMatchObject({ embedCacheMisses: 2, embedCacheHits: 2 });
    batcher.close();
  });
});

describe("batchDedup's signal(request) returning null", () => {
  // Kills pipelineConfig.ts:333 `signal === null` made false (ConditionalExpression): null, documented as "no
  // signal" like undefined, was refused as something that is not an AbortSignal.
  it('is no signal: the request is executed and answered', () => {
    const scheduler = createTestScheduler();
    const results: BatchResult<string, string>[] = [];
    scheduler.run(() => {
      from(['a'])
        .pipe(batchDedup<string, string>({ execute: (items) => items.map(upper), signal: () => null, windowMs: 1 }))
        .subscribe((r) => results.push(r));
    });
    expect(results.map((r) => [r.status, r.value])).toEqual([['fulfilled', 'A']]);
  });
});
