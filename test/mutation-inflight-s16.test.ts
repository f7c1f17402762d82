/**
 * Survivors of the stop-16 Stryker run in the slot table (src/internal/inFlight.ts, issue 17), through the public
 * createBatcher: the sweep of answered slots keeps the pending ones of every scope.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll, turn } from './support.js';

/** More slots than a table holds before its first sweep (1024 past the live ones). */
const MANY = 1500;

describe('the slot table sweep keeps what is pending, in every scope', () => {
  // Kills inFlight.ts:98 (SlotMap.filter) made true (ConditionalExpression), `=== 0` made `!== 0`
  // (EqualityOperator) and `+` made `-` (ArithmeticOperator, with one plain and one encoded key pending): the sweep
  // deleted the maps of a scope that still held pending slots, so equal requests of that scope arriving after it
  // were sent again instead of joining.
  it('requests of a scope still queued when the table is swept are joined by equal ones that arrive after', async () => {
    const clock = virtualClock();
    const executed: unknown[] = [];
    const batcher = createBatcher<unknown, string>({
      scheduler: clock.scheduler,
      windowMs: 10,
      maxSize: 10 * MANY,
      execute: (items) => {
        executed.push(...items);
        return items.map((item) => `value of ${JSON.stringify(item)}`);
      },
    });
    const scope = 'tenant';
    // A string key (plain) and an object key (encoded) in the scope, then enough distinct requests to sweep the
    // table while all of them wait, then both again in the scope: they must find their slots, swept or not.
    const first = [batcher.process('x', { scope }), batcher.process({ id: 1 }, { scope })];
    const others = batcher.processAll(Array.from({ length: MANY }, (_, i) => `k${i}`));
    const again = [batcher.process('x', { scope }), batcher.process({ id: 1 }, { scope })];
    const settled = await settleAll(clock, Promise.all([...first, others, ...again]));
    expect(settled.status).toBe('fulfilled');
    expect(executed.filter((item) => item === 'x')).toHaveLength(1);
    expect(executed.filter((item) => typeof item === 'object')).toHaveLength(1);
    expect(executed).toHaveLength(MANY + 2);
  });
});

describe('a slot joined once is joined again', () => {
  // Kills inFlight.ts:171 (stateOf) `holder instanceof PendingSlot` made false (ConditionalExpression): once an
  // equal request had joined, the slot's holder is its record, which then read as done, so a third equal request
  // was sent again instead of joining.
  it('a third equal request joins the execution the second one joined', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const release: (() => void)[] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items) => {
        executed.push(...items);
        return new Promise<string[]>((resolve) => release.push(() => resolve(items.map((item) => `value of ${item}`))));
      },
    });
    const first = batcher.process('x');
    clock.advanceBy(1); // 'x' is sent, and stays in flight
    const second = batcher.process('x');
    const third = batcher.process('x');
    for (let i = 0; i < 5; i++) {
      await turn();
      clock.advanceBy(1);
    }
    for (const finish of release) finish();
    await expect(Promise.all([first, second, third])).resolves.toEqual(['value of x', 'value of x', 'value of x']);
    expect(executed).toEqual(['x']);
    expect(batcher.getStats().inFlightHits).toBe(2);
  });

  it('a third equal request joins the one waiting that the second one joined', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      execute: (items) => {
        executed.push(...items);
        return items.map((item) => `value of ${item}`);
      },
    });
    const answers = await settleAll(clock, Promise.all([batcher.process('x'), batcher.process('x'), batcher.process('x')]));
    expect(answers).toEqual({ status: 'fulfilled', value: ['value of x', 'value of x', 'value of x'] });
    expect(executed).toEqual(['x']);
  });
});

describe('configure() of an option that leaves equality as it was', () => {
  // Kills inFlight.ts:254 (changesWhatIsShared) `!KEEP_SHARING.has(name)` made true (ConditionalExpression): every
  // configure() started a new table, so a change of windowMs alone dropped the cached results.
  it('keeps the cached results: an equal request after configure({ windowMs }) is answered from the cache', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 2,
      resultCache: { ttlMs: 1000 },
      execute: (items) => {
        executed.push(...items);
        return items.map((item) => `value of ${item}`);
      },
    });
    await expect(settleAll(clock, batcher.process('x'))).resolves.toEqual({ status: 'fulfilled', value: 'value of x' });
    batcher.configure({ windowMs: 5 });
    await expect(settleAll(clock, batcher.process('x'))).resolves.toEqual({ status: 'fulfilled', value: 'value of x' });
    expect(executed).toEqual(['x']);
    expect(batcher.getStats().cacheHits).toBe(1);
  });
});
