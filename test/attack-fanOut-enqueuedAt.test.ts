/**
 * `fanOut`'s `enqueuedAt(request)` is a per-request user function like `key` or `priority` (reliability row 32),
 * called when each request is answered, for its `latencyMs`. One that threw for a request stopped the answering
 * loop there: with an array result, that request and every one after it in the batch were never answered and the
 * output never completed; with a stream, the next streamed result was rejected with that throw instead. One that
 * returned -Infinity gave `latencyMs: Infinity`, and the stats' latency percentiles Infinity. Now what it throws,
 * or a time that is not a finite number, rejects that request alone with a TypeError naming `enqueuedAt(request)`;
 * every other request gets its own answer and the output completes; no latency is infinite or NaN.
 */
import { from, VirtualTimeScheduler, type ObservableInput } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatchStats, type BatchResult, type DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';
import { expectSaneStats } from './support.js';

const SHAPES = {
  array: (items: string[]) => items.map((q) => `answer to ${q}`),
  stream: (items: string[]) => from(items.map((q, index) => ({ index, value: `answer to ${q}` }))) as ObservableInput<never>,
};

function run(enqueuedAt: (request: string) => unknown, shape: keyof typeof SHAPES, batch: DedupedBatch<string>) {
  const scheduler = new VirtualTimeScheduler();
  const stats = createBatchStats();
  const results: BatchResult<string, string>[] = [];
  let completed = false;
  from([batch])
    .pipe(fanOut({ execute: SHAPES[shape], scheduler, stats, enqueuedAt: enqueuedAt as (request: string) => number }))
    .subscribe({ next: (r) => results.push(r), complete: () => (completed = true) });
  scheduler.flush();
  const shown = results.map((r) => `${r.request}: ${r.status === 'fulfilled' ? r.value : `${(r.error as Error).name}: ${(r.error as Error).message}`}`);
  return { shown: shown.sort(), completed, stats: stats.snapshot(), latencies: results.map((r) => r.latencyMs) };
}

const plain: DedupedBatch<string> = { items: ['a', 'b', 'c'], unique: ['a', 'b', 'c'], leaderOf: [0, 1, 2] };
const merged: DedupedBatch<string> = { items: ['a', 'b', 'a', 'c'], unique: ['a', 'b', 'c'], leaderOf: [0, 1, 0, 2] };

describe("fanOut's enqueuedAt(request) that throws or gives no time", () => {
  for (const shape of ['array', 'stream'] as const) {
    for (const [name, batch] of [['distinct requests', plain], ['with a duplicate', merged]] as const) {
      it(`${shape} result, ${name}: a throw for b rejects b alone, naming enqueuedAt(request); the others are answered; the output completes`, () => {
        const { shown, completed } = run((r) => {
          if (r === 'b') throw new Error('no arrival recorded for b');
          return 0;
        }, shape, batch);
        expect(shown).toEqual(
          [...new Set(batch.items)].flatMap((q) => batch.items.filter((i) => i === q).map(() =>
            q === 'b' ? 'b: TypeError: fanOut: enqueuedAt(request) threw: no arrival recorded for b' : `${q}: answer to ${q}`)).sort(),
        );
        expect(completed).toBe(true);
      });
    }

    it.each([
      ['-Infinity', -Infinity],
      ['NaN', Number.NaN],
      ['the string "5"', '5'],
      ['undefined', undefined],
    ])(`${shape} result, a time of %s for b: b is rejected with a TypeError naming enqueuedAt(request); the stats stay finite`, (_, time) => {
      const { shown, completed, stats, latencies } = run((r) => (r === 'b' ? time : 0), shape, plain);
      expect(shown[0]).toBe('a: answer to a');
      expect(shown[1]).toMatch(/^b: TypeError: fanOut: enqueuedAt\(request\) returned .*; it must return a finite time in ms/);
      expect(shown[2]).toBe('c: answer to c');
      expect(completed).toBe(true);
      expect(latencies.every((ms) => Number.isFinite(ms) && ms >= 0)).toBe(true);
      expectSaneStats(stats);
    });
  }
});
