/**
 * Stop 22 (helper op): `bufferWindow` against a model of its documented rules (src/operators/bufferWindow.ts and
 * DESIGN.md), in virtual time, with the durations at their edges (0, fractions, 1e9, Infinity, the defaults) and
 * any mix of `minSize` and `maxSize`:
 *
 * - a window opens with the first value while none is open, and closes `windowMs` later; values arriving in the
 *   moment it closes, before its timer runs, still join it;
 * - a buffer that reaches `maxSize` leaves at once; the next value opens a new window;
 * - a closed window below `minSize` waits for `minSize` values, or `maxWaitMs` after its oldest value;
 * - the source's completion emits what is left, then completes; nothing is emitted empty; no timer is left.
 *
 * Every batch is compared with the model's, moment and content. It found nothing on main (3,000 runs while
 * probing); it guards the rules as a whole, where the marble tests each show one. It can fail: with the collector's
 * `reached` made `now >= t` (a moment counted as reached before its timer ran) it fails at once ([0, 0], maxWaitMs 0).
 */
import fc from 'fast-check';
import { Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { describe, expect, it } from 'vitest';
import { bufferWindow } from '../src/operators/index.js';
import { trackTimers } from '../src/testing/index.js';

interface Arrival {
  readonly at: number;
  readonly value: number;
}
interface Settings {
  windowMs?: number;
  maxWaitMs?: number;
  minSize?: number;
  maxSize?: number;
}
type Emitted = [at: number, batch: number[]];

/** What the documentation says bufferWindow emits, and when, for arrivals sorted by time and a completion at `end`. */
function model(arrivals: readonly Arrival[], end: number, s: Settings): Emitted[] {
  const windowMs = s.windowMs ?? 50;
  const maxSize = s.maxSize ?? 32;
  const minSize = s.minSize ?? 1;
  const maxWaitMs = s.maxWaitMs ?? Math.max(windowMs, 100);
  const out: Emitted[] = [];
  let buffer: Arrival[] = [];
  let windowEnd = 0;
  const emit = (at: number, count = buffer.length) => out.push([at, buffer.splice(0, count).map((a) => a.value)]);
  /** When the buffer becomes due by time: its oldest value's wait, or the window's end once minSize is reached. */
  const dueAt = () => (buffer.length === 0 ? Infinity : Math.min(buffer[0]!.at + maxWaitMs, buffer.length >= minSize ? windowEnd : Infinity));
  let i = 0;
  for (;;) {
    const next = i < arrivals.length ? arrivals[i]!.at : end;
    if (dueAt() < next) {
      emit(dueAt());
      continue;
    }
    if (i === arrivals.length) break;
    // Every arrival of this moment, then the timers of this moment.
    for (; i < arrivals.length && arrivals[i]!.at === next; i++) {
      if (buffer.length === 0) windowEnd = next + windowMs;
      buffer.push(arrivals[i]!);
      if (buffer.length >= maxSize) emit(next, maxSize);
      else if (buffer.length >= minSize && next > windowEnd) emit(next);
    }
    if (dueAt() <= next) emit(next);
  }
  if (buffer.length > 0) emit(end);
  return out;
}

function actual(arrivals: readonly Arrival[], end: number, s: Settings): { out: Emitted[]; completedAt: number; timersAtEnd: number } {
  const scheduler = new TestScheduler(() => undefined);
  const tracked = trackTimers(scheduler);
  const source = new Subject<number>();
  const out: Emitted[] = [];
  let completedAt = -1;
  let timersAtEnd = -1;
  // Scheduled before the operator's timers, so a moment's arrivals and completion come before its timers run.
  for (const a of arrivals) scheduler.schedule(() => source.next(a.value), a.at);
  scheduler.schedule(() => source.complete(), end);
  source.pipe(bufferWindow<number>({ ...s, scheduler: tracked.scheduler })).subscribe({
    next: (batch) => out.push([scheduler.now(), batch]),
    complete: () => {
      completedAt = scheduler.now();
      timersAtEnd = tracked.pending();
    },
  });
  scheduler.flush();
  return { out, completedAt, timersAtEnd };
}

const durationArb = fc.constantFrom(0, 1, 2.5, 3, 7, 20, 1e9, Infinity);

describe('bufferWindow against a model of its rules', () => {
  it('emits what the model emits, when it emits it, then completes with no timer left', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 25 }),
        fc.integer({ min: 0, max: 120 }),
        fc.record(
          {
            windowMs: durationArb,
            maxWaitMs: fc.constantFrom(0, 0.5, 1, 4, 10, 30, 1e9, Infinity),
            minSize: fc.integer({ min: 1, max: 4 }),
            maxSize: fc.constantFrom(1, 2, 3, 5, Infinity),
          },
          { requiredKeys: [] },
        ),
        (times, endAt, given) => {
          const arrivals = [...times].sort((a, b) => a - b).map((at, value) => ({ at, value }));
          const end = Math.max(endAt, arrivals[arrivals.length - 1]!.at);
          // minSize may not exceed maxSize (refused at creation).
          const s: Settings = { ...given, ...(given.minSize === undefined ? {} : { minSize: Math.min(given.minSize, given.maxSize ?? 32) }) };
          const { out, completedAt, timersAtEnd } = actual(arrivals, end, s);
          expect(out).toEqual(model(arrivals, end, s));
          expect(completedAt).toBe(end);
          expect(timersAtEnd).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
