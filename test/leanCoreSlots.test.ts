/**
 * The lean core's slot tables (src/lite/core.ts, stop 18): a key is unlisted by emptying its entry, not deleting
 * it, because a Map that deletes rebuilds its table as the holes pile up and every table it discards in old space
 * keeps what it held alive through young-generation collections (the cause of the lean core's 10-20x cost per
 * request: docs/decisions.md, "The lean core's cost per request (stop 18)"). These tests count Map calls, never
 * time: everything runs synchronously on a virtual clock.
 */
import { Subject, VirtualTimeScheduler } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leanCore, leanSettings, SWEEP_SLACK, type LeanEntry, type LeanExecuteFn } from '../src/lite/core.js';

interface Answer {
  request: string;
  ok: boolean;
  value: unknown;
  deduplicated: boolean;
}

/** A lean core with exact dedup on a virtual clock: full batches of 32 form inside the 32nd push. */
function core(execute: LeanExecuteFn<string, string>) {
  const scheduler = new VirtualTimeScheduler();
  const answers: Answer[] = [];
  const lean = leanCore<string, string, LeanEntry<string>>(
    leanSettings('test', { execute, scheduler, maxSize: 32, windowMs: 5, concurrency: 1000 }),
    {
      answer: (entry, ok, value, _batchId, deduplicated) => void answers.push({ request: entry.request, ok, value, deduplicated }),
      drained: () => undefined,
    },
  );
  const push = (request: string) => lean.push({ request, at: scheduler.now() });
  return { lean, push, answers, scheduler };
}

const echo: LeanExecuteFn<string, string> = (items) => items.map((item) => `=${item}`);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('lean core: slot tables', () => {
  it('deletes no slot-table entry while a steady stream of recurring keys is answered', () => {
    const { push, answers } = core(echo);
    const keys = Array.from({ length: 32 }, (_, i) => `k${i}`);
    const deletes = vi.spyOn(Map.prototype, 'delete');
    for (let round = 0; round < 50; round++) for (const key of keys) push(key);
    const calls = deletes.mock.calls.length;
    deletes.mockRestore();
    // Deleting (as before stop 18) made 1600 calls here.
    expect(calls).toBe(0);
    expect(answers).toHaveLength(1600);
    expect(answers.every((a) => a.ok && a.value === `=${a.request}`)).toBe(true);
  });

  it('keeps no more than twice the listed keys plus SWEEP_SLACK in its tables while distinct keys stream through', () => {
    const { push, answers } = core(echo);
    const set = Map.prototype.set;
    let largest = 0;
    const spy = vi.spyOn(Map.prototype, 'set').mockImplementation(function (this: Map<unknown, unknown>, key: unknown, value: unknown) {
      set.call(this, key, value);
      largest = Math.max(largest, this.size);
      return this;
    });
    const n = 5 * SWEEP_SLACK;
    for (let i = 0; i < n; i++) push(`d${i}`);
    spy.mockRestore();
    // Never swept, the table would hold all 5120 keys; at most 32 are listed at once here.
    expect(largest).toBeGreaterThan(SWEEP_SLACK);
    expect(largest).toBeLessThanOrEqual(SWEEP_SLACK + 2 * 32 + 1);
    expect(answers).toHaveLength(n);
    expect(answers.every((a) => a.ok && a.value === `=${a.request}`)).toBe(true);
  });

  it('keeps every executing slot through a sweep: an equal request arriving after it still joins the execution', () => {
    const pending = new Subject<string[]>();
    let executions = 0;
    const { lean, push, answers } = core((items) => {
      if (items[0]!.startsWith('p')) {
        executions++;
        return pending;
      }
      return echo(items, { batchId: 0, individual: false, signal: new AbortController().signal });
    });
    const held = Array.from({ length: 32 }, (_, i) => `p${i}`);
    for (const key of held) push(key); // one batch, executing until `pending` emits
    for (let i = 0; i < 3 * SWEEP_SLACK; i++) push(`d${i}`); // sweeps the tables more than once
    push('p7'); // equal to one executing: joins it (no clock needed: the batch's 30 s timeout never runs)
    expect(executions).toBe(1);
    expect(lean.counts.deduplicated).toBe(1);
    pending.next(held.map((key) => `=${key}`));
    const p7 = answers.filter((a) => a.request === 'p7');
    expect(p7).toEqual([
      { request: 'p7', ok: true, value: '=p7', deduplicated: false },
      { request: 'p7', ok: true, value: '=p7', deduplicated: true },
    ]);
    expect(answers).toHaveLength(32 + 3 * SWEEP_SLACK + 1);
  });
});
