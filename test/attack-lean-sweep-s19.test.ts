/**
 * H-ATK5, stop 19: keys and scopes of every type against the lean core's slot tables, over enough distinct keys that
 * the tables are swept (rebuilt with their listed slots once more than `SWEEP_SLACK` emptied entries pile up, see
 * `unlistKey` in src/lite/core.ts) many times while equal requests wait in a slot or join one executing. Hot keys
 * and scopes that look alike (`'1'`, `1`, `1n`, `[1]`, `'[1]'`, `-0` and `0`, objects with fields in another
 * order) come from test/support.ts; a `key` that throws for some requests. Judged against a model written apart
 * from the implementation (`sameKey`, `sameScope`): every request settled once, with an echo of an equal key in
 * an equal scope (never another request's result), a rejection only for a request whose key threw, naming `key`;
 * no call holding two equal requests, `maxSize` and `concurrency` kept; the counters add up; `close()` resolves with
 * no timer left (read inside its callback). Main and `/lite` with `engine()` run the same property with fewer runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBatcher as createMainBatcher, type DedupKey, type DedupScope } from '../src/index.js';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { SWEEP_SLACK } from '../src/lite/core.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { keyPoolsArb, sameKey, sameScope, turn } from './support.js';

interface Req {
  readonly id: number;
  readonly key: DedupKey;
  readonly scope: DedupScope;
}
interface Made {
  process(request: Req, options?: { scope?: DedupScope }): Promise<{ echo: Req }>;
  close(): Promise<void>;
  getStats(): { totalRequests: number; totalBatches: number; deduplicated: number; executedItems?: number; inFlightHits?: number };
}

const optionsArb = fc.record({
  maxSize: fc.integer({ min: 1, max: 8 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  windowMs: fc.integer({ min: 0, max: 3 }),
  delayMs: fc.integer({ min: 1, max: 6 }),
  dedupInFlight: fc.boolean(),
  scopeBy: fc.constantFrom<'function' | 'call'>('function', 'call'),
  /** Every how many requests one is of the hot pool (the others have a key of their own). */
  hotEvery: fc.integer({ min: 1, max: 3 }),
  /** Requests sent per millisecond. */
  perMs: fc.integer({ min: 1, max: 12 }),
  /** The key of every request whose id is a multiple of this throws. */
  throwEvery: fc.option(fc.integer({ min: 7, max: 90 }), { nil: undefined }),
  seed: fc.integer({ min: 1, max: 2 ** 30 }),
});

type Options = typeof optionsArb extends fc.Arbitrary<infer O> ? O : never;

/** A key of its own for the `i`th request, of one of three types. */
function freshKey(i: number): DedupKey {
  switch (i % 3) {
    case 0:
      return 1_000_000 + i;
    case 1:
      return `u${i}`;
    default:
      return ['u', i];
  }
}

async function run(
  make: (options: object) => Made,
  pools: { keys: unknown[]; scopes: DedupScope[] },
  o: Options,
  fresh: number,
): Promise<void> {
  const clock = virtualClock();
  const tracked = trackTimers(clock.scheduler);
  const calls: Req[][] = [];
  let running = 0;
  let mostRunning = 0;
  const batcher = make({
    scheduler: tracked.scheduler,
    maxSize: o.maxSize,
    concurrency: o.concurrency,
    windowMs: o.windowMs,
    dedupInFlight: o.dedupInFlight,
    key: (r: Req) => {
      if (o.throwEvery !== undefined && r.id % o.throwEvery === 0) throw new Error(`no key for ${r.id}`);
      return r.key;
    },
    ...(o.scopeBy === 'function' ? { scope: (r: Req) => r.scope } : {}),
    execute: (items: Req[]) => {
      calls.push(items);
      mostRunning = Math.max(mostRunning, ++running);
      return new Promise((resolve) =>
        clock.scheduler.schedule(() => {
          running--;
          resolve(items.map((echo) => ({ echo })));
        }, o.delayMs),
      );
    },
  });
  let state = o.seed;
  const pick = <V>(from: readonly V[]): V => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return from[state % from.length]!;
  };
  const requests: Req[] = [];
  const settled: { req: Req; ok: boolean; value: unknown }[] = [];
  const total = fresh + Math.ceil(fresh / o.hotEvery);
  for (let id = 0; id < total; id++) {
    const hot = id % (o.hotEvery + 1) === 0;
    const req: Req = { id, key: hot ? (pick(pools.keys) as DedupKey) : freshKey(id), scope: pick(pools.scopes) };
    requests.push(req);
    batcher.process(req, o.scopeBy === 'call' ? { scope: req.scope } : undefined).then(
      (value) => settled.push({ req, ok: true, value }),
      (error: unknown) => settled.push({ req, ok: false, value: error }),
    );
    if (id % o.perMs === o.perMs - 1) {
      clock.advanceBy(1);
      await turn();
    }
  }
  let timersAtClose = -1;
  let closed = false;
  void batcher.close().then(() => {
    timersAtClose = tracked.pending();
    closed = true;
  });
  for (let guard = 0; guard < total * (o.delayMs + 1) + 1000 && !closed; guard++) {
    clock.advanceBy(1);
    await turn();
  }
  await turn();
  expect(closed).toBe(true);
  expect(timersAtClose).toBe(0);
  // Every request settled once.
  expect(settled).toHaveLength(requests.length);
  expect(new Set(settled.map((s) => s.req.id)).size).toBe(requests.length);
  let refused = 0;
  for (const { req, ok, value } of settled) {
    const keyThrew = o.throwEvery !== undefined && req.id % o.throwEvery === 0;
    if (keyThrew) {
      refused++;
      expect(ok).toBe(false);
      expect(String((value as Error).message)).toContain('key');
      continue;
    }
    expect(ok).toBe(true);
    const { echo } = value as { echo: Req };
    // Its own result: an equal key in an equal scope (the very request unless it shared).
    if (!sameKey(echo.key, req.key) || !sameScope(echo.scope, req.scope)) {
      throw new Error(`request ${req.id} (${String(req.key)} in ${String(req.scope)}) got the result of ${echo.id} (${String(echo.key)} in ${String(echo.scope)})`);
    }
  }
  for (const items of calls) {
    expect(items.length).toBeLessThanOrEqual(o.maxSize);
    for (let i = 0; i < items.length; i++) {
      for (let j = i + 1; j < items.length; j++) {
        expect(sameKey(items[i]!.key, items[j]!.key) && sameScope(items[i]!.scope, items[j]!.scope)).toBe(false);
      }
    }
  }
  expect(mostRunning).toBeLessThanOrEqual(o.concurrency);
  const stats = batcher.getStats();
  const executed = calls.reduce((n, items) => n + items.length, 0);
  expect(stats.totalRequests).toBe(requests.length);
  expect(stats.totalBatches).toBe(calls.length);
  // The engine counts a request that joined one executing in `inFlightHits`, the lean core in `deduplicated`.
  expect(stats.deduplicated + (stats.inFlightHits ?? 0)).toBe(requests.length - refused - executed);
  if (stats.executedItems !== undefined) expect(stats.executedItems).toBe(executed);
}

const makers: [string, (options: object) => Made, number][] = [
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made, Number(process.env['ATK_RUNS'] ?? 25)],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made, 4],
  ['main', (options) => createMainBatcher(options as never) as unknown as Made, 4],
];

describe.each(makers)('%s: keys and scopes of every type through the sweep of emptied slots', (_name, make, numRuns) => {
  it('every request settled once with the result of an equal key in an equal scope; calls, counters and close() sound', async () => {
    await fc.assert(
      fc.asyncProperty(keyPoolsArb(), optionsArb, async (pools, o) => run(make, pools, o, 2 * SWEEP_SLACK + 300)),
      { numRuns },
    );
  }, 600_000);
});
