/**
 * The live configuration (src/internal/pipelineConfig.ts), where mutation testing looked for promises no test
 * guarded (docs/testing.md, issue 17): through the public API only (createBatcher, batchDedup), so these tests
 * hold whatever the configuration's internals become.
 */
import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, createBatchStats, sharedStore, type BatchDedupOptions, type BatchResult, type ResultStore } from '../src/index.js';
import { createTestScheduler, virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

const execute = (items: readonly string[]) => items.map((s) => s.toUpperCase());

function batcherWith(options: Partial<BatchDedupOptions<string, string>>) {
  const clock = virtualClock();
  const batcher = createBatcher<string, string>({ execute, windowMs: 2, scheduler: clock.scheduler, ...options });
  return { clock, batcher };
}

/** A result store that holds nothing: enough for the configuration, which only compares stores. */
function emptyStore(): ResultStore {
  return { get: async (keys) => keys.map(() => undefined), set: async () => undefined };
}

describe('configure() of a structural option says what the caller asked for', () => {
  it('taking a non-default value away (undefined) is refused saying "without" that option', () => {
    const { batcher } = batcherWith({ dedupInFlight: false });
    expect(() => batcher.configure({ dedupInFlight: undefined })).toThrow(
      /^createBatcher\.configure: dedupInFlight cannot be changed on a running batcher: it decides how the pipeline is built\. To run without dedupInFlight, create a new batcher \(and close\(\) this one\)$/,
    );
  });

  it('a new value that is neither a boolean nor a number is refused saying "with the new" option', () => {
    const { batcher } = batcherWith({ resultCache: { ttlMs: 100 } });
    expect(() => batcher.configure({ resultCache: { ttlMs: 200 } })).toThrow(
      /^createBatcher\.configure: resultCache cannot be changed on a running batcher: it decides how the pipeline is built\. To run with the new resultCache, create a new batcher/,
    );
  });

  it('stats: undefined on a batcher created with a recorder is a change, and refused', () => {
    const stats = createBatchStats();
    const { batcher } = batcherWith({ stats });
    expect(() => batcher.configure({ stats: undefined })).toThrow(/^createBatcher\.configure: stats cannot be changed .*To run without stats/);
    expect(() => batcher.configure({ stats })).not.toThrow();
  });
});

describe('configure() compares every field of the result cache in effect', () => {
  const created = { ttlMs: 100, maxEntries: 50 };

  it('the same ttlMs and maxEntries: accepted', () => {
    const { batcher } = batcherWith({ resultCache: created });
    expect(() => batcher.configure({ resultCache: { ttlMs: 100, maxEntries: 50, semantic: false } })).not.toThrow();
  });

  it.each<[string, BatchDedupOptions<string, string>['resultCache']]>([
    ['another ttlMs', { ttlMs: 101, maxEntries: 50 }],
    ['another maxEntries', { ttlMs: 100, maxEntries: 51 }],
    ['maxEntries left to its default (1000)', { ttlMs: 100 }],
  ])('%s: refused', (_, resultCache) => {
    const { batcher } = batcherWith({ resultCache: created });
    expect(() => batcher.configure({ resultCache })).toThrow(/^createBatcher\.configure: resultCache cannot be changed/);
  });

  it('the same shared store, with the same storeTimeoutMs: accepted; another store, or another storeTimeoutMs: refused', () => {
    const store = sharedStore(emptyStore());
    const { batcher } = batcherWith({ resultCache: { ttlMs: 100, store, storeTimeoutMs: 40 } });
    expect(() => batcher.configure({ resultCache: { ttlMs: 100, store, storeTimeoutMs: 40 } })).not.toThrow();
    expect(() => batcher.configure({ resultCache: { ttlMs: 100, store: sharedStore(emptyStore()), storeTimeoutMs: 40 } })).toThrow(
      /resultCache cannot be changed/,
    );
    expect(() => batcher.configure({ resultCache: { ttlMs: 100, store, storeTimeoutMs: 41 } })).toThrow(/resultCache cannot be changed/);
    expect(() => batcher.configure({ resultCache: { ttlMs: 100 } })).toThrow(/resultCache cannot be changed/);
  });
});

describe('costPerRequestUsd', () => {
  it('a recorder made with its own costPerRequestUsd keeps it when the pipeline is given none', async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler, costPerRequestUsd: 0.5 });
    const batcher = createBatcher<string, string>({ execute, windowMs: 2, scheduler: clock.scheduler, stats });
    batcher.configure({ windowMs: 3 });
    expect(await settleAll(clock, Promise.all([batcher.process('a'), batcher.process('a')]))).toEqual({ status: 'fulfilled', value: ['A', 'A'] });
    expect(batcher.getStats().costSavedUsd).toBe(0.5);
  });
});

describe("batchDedup's signal(request): what passes for an AbortSignal", () => {
  interface Req {
    readonly id: string;
    readonly signal: () => unknown;
  }

  function run(requests: Req[]): BatchResult<Req, string>[] {
    const scheduler = createTestScheduler();
    const results: BatchResult<Req, string>[] = [];
    scheduler.run(() => {
      from(requests)
        .pipe(
          batchDedup<Req, string>({
            execute: (items) => items.map((r) => `answer ${r.id}`),
            key: (r) => r.id,
            signal: (r) => r.signal() as AbortSignal | undefined,
            windowMs: 5,
          }),
        )
        .subscribe((r) => results.push(r));
    });
    return results;
  }

  it('an object with aborted and addEventListener but no removeEventListener is refused', () => {
    const [result] = run([{ id: 'x', signal: () => ({ aborted: false, addEventListener() {} }) }]);
    expect(result!.status).toBe('rejected');
    expect((result!.error as Error).message).toMatch(/^batchDedup: signal\(request\) returned an object.*must return an AbortSignal or undefined/);
  });

  it('an object whose aborted getter throws rejects its own request, naming the getter, and is not thrown out of the pipeline', () => {
    const hostile = {
      get aborted(): boolean {
        throw new Error('hostile getter');
      },
      addEventListener() {},
      removeEventListener() {},
    };
    const results = run([{ id: 'x', signal: () => hostile }, { id: 'y', signal: () => undefined }]);
    expect(results.map((r) => [r.request.id, r.status])).toEqual(
      expect.arrayContaining([
        ['x', 'rejected'],
        ['y', 'fulfilled'],
      ]),
    );
    const x = results.find((r) => r.request.id === 'x')!;
    expect((x.error as Error).message).toBe('batchDedup: signal(request): signal.aborted threw: hostile getter');
  });

  it('a signal of another realm (duck-typed, not an AbortSignal instance) is accepted and honoured', () => {
    const listeners: (() => void)[] = [];
    const foreign = {
      aborted: false,
      reason: undefined,
      addEventListener: (_: string, listener: () => void) => listeners.push(listener),
      removeEventListener: () => undefined,
    };
    const [result] = run([{ id: 'x', signal: () => foreign }]);
    expect(result).toMatchObject({ status: 'fulfilled', value: 'answer x' });
  });
});

describe("the pipeline's own stats recorder", () => {
  // resolve()'s `onTextUnreadable` made `() => undefined`: requests whose text similarity dedup cannot read were
  // not counted in textUnreadable (test/text-shapes.properties.test.ts covers it too, outside the Stryker sets).
  it('counts the requests whose text similarity dedup cannot read', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<{ n: number } | string, string>({
      execute: (items) => items.map((item) => JSON.stringify(item)),
      windowMs: 2,
      dedupStrategy: 'embedding',
      scheduler: clock.scheduler,
    });
    const answers = Promise.all([batcher.process({ n: 1 }), batcher.process({ n: 2 }), batcher.process('readable text')]);
    expect(await settleAll(clock, answers)).toMatchObject({ status: 'fulfilled' });
    expect(batcher.getStats().textUnreadable).toBe(2);
  });

  // The recorder made when no `stats` is given reads the pipeline's scheduler: made with `{}`, it read the host's
  // clock, and requestsPerSecond measured no virtual time at all.
  it('measures requestsPerSecond on the pipeline scheduler', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      execute: (items) => new Promise((resolve) => clock.scheduler.schedule(() => resolve(items.map((s) => s.toUpperCase())), 98)),
      windowMs: 2,
      scheduler: clock.scheduler,
    });
    const answers = Promise.all(['a', 'b', 'c', 'd'].map((q) => batcher.process(q)));
    expect(await settleAll(clock, answers)).toEqual({ status: 'fulfilled', value: ['A', 'B', 'C', 'D'] });
    // Four results 100 ms of virtual time after the first request arrived.
    expect(batcher.getStats().requestsPerSecond).toBeCloseTo(40, 6);
  });
});

