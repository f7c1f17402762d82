/**
 * The slot maps and the table's sweep (src/internal/inFlight.ts), where disable comments stood for mutants that
 * change only memory or work (issue 17, stop 21: the request path's disabled share was 227 of 2,238 mutants,
 * 10.1 %, over the tenth the issue allows). Each is a promise of its own, checked here on the classes directly:
 * - `SlotMap.set` tells a new slot from a held one (the table counts slots held by it);
 * - `SlotMap.delete` and `filter` leave no empty maps of a scope behind ("scopes that come and go leave nothing
 *   behind"), and delete nothing of a slot never set;
 * - `filter` answers how many it kept;
 * - a table is swept when the slots it holds pass the slack (1,024, SWEEP_SLACK) and then twice those pending
 *   plus the slack: memory in proportion to what is pending, each sweep paid for by the slots it frees.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PendingSlot, SlotMap, SlotTable } from '../src/internal/inFlight.js';

const slot = (scope: unknown, key: unknown, encoded = false) => ({ scope, key, encoded }) as never;

/** The maps kept by scope (private: read here because what is left behind is the promise). */
const scopesHeld = (map: SlotMap<unknown>) => (map as unknown as { byScope: Map<unknown, unknown> }).byScope.size;

describe('SlotMap.set', () => {
  it('answers true for a slot not held before, false when it replaces a value', () => {
    const map = new SlotMap<string>();
    expect(map.set(slot(undefined, 'a'), 'first')).toBe(true);
    expect(map.set(slot(undefined, 'a'), 'second')).toBe(false);
    expect(map.get(slot(undefined, 'a'))).toBe('second');
    expect(map.set(slot('s', 'a'), 'scoped')).toBe(true);
    expect(map.set(slot('s', 'a'), 'scoped again')).toBe(false);
  });
});

describe('SlotMap.delete', () => {
  it('of a slot in a scope never set: nothing happens', () => {
    const map = new SlotMap<string>();
    map.set(slot(undefined, 'a'), 'kept');
    expect(() => map.delete(slot('never', 'a'))).not.toThrow();
    expect(map.get(slot(undefined, 'a'))).toBe('kept');
    expect(scopesHeld(map)).toBe(0);
  });

  it("of a scope's last slot: the scope's maps go", () => {
    const map = new SlotMap<string>();
    map.set(slot('s', 'a'), 'x');
    map.set(slot('t', 'a'), 'y');
    expect(scopesHeld(map)).toBe(2);
    map.delete(slot('s', 'a'));
    expect(scopesHeld(map)).toBe(1);
    expect(map.get(slot('t', 'a'))).toBe('y');
  });

  it("of a scope's plain slot while an encoded one is held: the scope stays, with it", () => {
    const map = new SlotMap<string>();
    map.set(slot('s', 'a'), 'plain');
    map.set(slot('s', '["a"]', true), 'encoded');
    map.delete(slot('s', 'a'));
    expect(scopesHeld(map)).toBe(1);
    expect(map.get(slot('s', '["a"]', true))).toBe('encoded');
  });
});

describe('SlotMap.delete, the other way round', () => {
  it("of a scope's encoded slot while a plain one is held: the scope stays, with it", () => {
    const map = new SlotMap<string>();
    map.set(slot('s', 'a'), 'plain');
    map.set(slot('s', '["a"]', true), 'encoded');
    map.delete(slot('s', '["a"]', true));
    expect(scopesHeld(map)).toBe(1);
    expect(map.get(slot('s', 'a'))).toBe('plain');
  });
});

describe('SlotMap.filter', () => {
  it('keeps a scope holding as many plain slots as encoded ones', () => {
    const map = new SlotMap<string>();
    map.set(slot('s', 'a'), 'plain');
    map.set(slot('s', '["a"]', true), 'encoded');
    expect(map.filter(() => true)).toBe(2);
    expect(scopesHeld(map)).toBe(1);
    expect(map.get(slot('s', 'a'))).toBe('plain');
  });

  it('answers how many it kept, and drops the scopes it empties', () => {
    const map = new SlotMap<number>();
    map.set(slot(undefined, 'a'), 1);
    map.set(slot(undefined, 'b'), 2);
    map.set(slot('s', 'c'), 3);
    map.set(slot('t', 'd'), 4);
    expect(map.filter((value) => value % 2 === 0)).toBe(2);
    expect(scopesHeld(map)).toBe(1);
    expect(map.get(slot('t', 'd'))).toBe(4);
    expect(map.get(slot('s', 'c'))).toBeUndefined();
    expect(map.filter(() => false)).toBe(0);
    expect(scopesHeld(map)).toBe(0);
  });
});

describe('SlotTable: when it sweeps', () => {
  afterEach(() => void vi.restoreAllMocks());

  /** Adds `count` new slots, all pending, and answers after how many new slots each sweep came. */
  function sweepsOver(count: number): number[] {
    const filter = vi.spyOn(SlotMap.prototype, 'filter');
    const table = new SlotTable<unknown, unknown>(undefined);
    const at: number[] = [];
    for (let i = 1; i <= count; i++) {
      const before = filter.mock.calls.length;
      table.add(new PendingSlot<unknown>(undefined, false, `k${i}`));
      if (filter.mock.calls.length > before) at.push(i);
    }
    return at;
  }

  it('first past the slack, then past twice the slots pending plus the slack', () => {
    // 1,025 slots pending at the first sweep, so the next one comes past 2 x 1,025 + 1,024 = 3,074.
    expect(sweepsOver(3_100)).toEqual([1_025, 3_075]);
  });

  it('a slot held again (replaced) counts no new slot', () => {
    const filter = vi.spyOn(SlotMap.prototype, 'filter');
    const table = new SlotTable<unknown, unknown>(undefined);
    for (let i = 0; i < 2_000; i++) table.add(new PendingSlot<unknown>(undefined, false, 'same'));
    expect(filter).not.toHaveBeenCalled();
  });
});
