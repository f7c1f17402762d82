/**
 * What equal requests share (src/internal/inFlight.ts), where mutation testing found a promise no test guarded
 * (docs/testing.md): a request still pending keeps its slot when the table is swept of the answered ones, so an
 * equal request that arrives after the sweep still joins it.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { SENT, SlotTable } from '../src/internal/inFlight.js';
import { settleAll } from './support.js';

/** More slots than a table holds before its first sweep (1024 past the live ones). */
const MANY = 1500;

describe('the slot table sweep keeps what is pending', () => {
  it('a request still queued when the table is swept is joined by an equal one that arrives after', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 10,
      maxSize: 10 * MANY,
      execute: (items) => {
        executed.push(...items);
        return items.map((item) => `value of ${item}`);
      },
    });
    // 'x' first, then enough distinct requests to sweep the table while all of them wait, then 'x' again: the
    // second 'x' must find the first one's slot, swept or not.
    const others = Array.from({ length: MANY }, (_, i) => `k${i}`);
    const all = batcher.processAll(['x', ...others, 'x']);
    const settled = await settleAll(clock, all);
    expect(settled.status).toBe('fulfilled');
    const values = (settled as PromiseFulfilledResult<string[]>).value;
    expect(values[0]).toBe('value of x');
    expect(values[MANY + 1]).toBe('value of x');
    expect(executed.filter((item) => item === 'x')).toEqual(['x']);
    expect(executed).toHaveLength(MANY + 1);
  });

  it('a request still executing when the table is swept is joined by an equal one that arrives after', async () => {
    const clock = virtualClock();
    const executed: string[] = [];
    const holdX: (() => void)[] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 1,
      processingTimeoutMs: 1_000_000,
      execute: (items) => {
        executed.push(...items);
        const values = items.map((item) => `value of ${item}`);
        return items.includes('x') ? new Promise<string[]>((resolve) => holdX.push(() => resolve(values))) : values;
      },
    });
    const first = batcher.process('x');
    clock.advanceBy(1); // 'x' is sent, and stays in flight
    expect(executed).toEqual(['x']);
    // Distinct requests answered one batch after another: their slots are done, and the table is swept.
    const others = Array.from({ length: MANY }, (_, i) => `k${i}`);
    await settleAll(clock, batcher.processAll(others));
    const second = batcher.process('x');
    for (const finish of holdX) finish();
    await expect(settleAll(clock, Promise.all([first, second]))).resolves.toEqual({
      status: 'fulfilled',
      value: ['value of x', 'value of x'],
    });
    expect(executed.filter((item) => item === 'x')).toEqual(['x']);
    expect(batcher.getStats().inFlightHits).toBe(1);
  });

  it('the sweep drops the answered requests that led their slot bare, and keeps those waiting or sent', () => {
    const table = new SlotTable<{ shared?: unknown }, unknown>(undefined);
    const slot = (key: string) => ({ scope: undefined, encoded: false, key });
    const answered = { shared: table as unknown };
    const waiting = { shared: table as unknown };
    const sent = { shared: SENT as unknown };
    table.add(slot('answered'), answered);
    table.add(slot('waiting'), waiting);
    table.add(slot('sent'), sent);
    answered.shared = undefined; // its outcome came: the slot is done
    // Distinct requests, each answered at once: enough of them to sweep the table.
    for (let i = 0; i < MANY; i++) table.add(slot(`k${i}`), { shared: undefined });
    expect(table.holderOf(slot('answered'))).toBeUndefined();
    expect(table.holderOf(slot('waiting'))).toBe(waiting);
    expect(table.holderOf(slot('sent'))).toBe(sent);
  });
});
