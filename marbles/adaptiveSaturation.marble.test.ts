import { distinctUntilChanged, map, mergeAll, Subject, type Observable } from 'rxjs';
import { describe, it } from 'vitest';
import { batchDedup, type BatchDedupOptions } from '../src/operators/batchDedup.js';
import { simulatedBackend, type TestScheduler } from '../src/testing/index.js';
import type { BatchResult, ExecuteContext } from '../src/types.js';
import { testScheduler } from './helpers.js';

/**
 * The adaptive window's floor under saturation (src/internal/adaptiveWindow.ts): with two slots or more, a
 * window that opens while every slot is busy lasts at least the model's latency bound, 0.8 * targetLatencyMs - b
 * over 1 + a * rate (and, up to 1.5 times that, what the slots keep up with). Each source letter is a burst of 20
 * distinct requests in one frame, so that a window applies (one more arrival is expected within it). With one
 * slot there is no floor: the halving cases of adaptiveFeedback.marble.test.ts run on one slot, unchanged.
 */
const burst = (letter: string) => Array.from({ length: 20 }, (_, i) => `${letter}${i}`);
const BURSTS = { a: burst('a'), b: burst('b'), c: burst('c') };
const IDS = { a: 'a', b: 'b', c: 'c' };

/** A backend of fixed duration that emits, per call, the bursts it executes. */
function recordingBackend(scheduler: TestScheduler, durationMs: number) {
  const executed = new Subject<string>();
  const backend = simulatedBackend({ scheduler, durationMs: () => durationMs, compute: (q: string) => q.toUpperCase() });
  const execute = (items: string[], context: ExecuteContext) => {
    executed.next([...new Set(items.map((q) => q[0]))].join(''));
    return backend.execute(items, context);
  };
  return { execute, executed };
}

const answered = (results: Observable<BatchResult<string, string>>) =>
  results.pipe(
    map((r) => r.request[0]!),
    distinctUntilChanged(),
  );

/** A marble line of `length` frames with each letter at its frame (frames ascending). */
function line(length: number, events: Record<string, number>): string {
  const frames = new Array<string>(length).fill('-');
  for (const [letter, frame] of Object.entries(events)) frames[frame] = letter;
  return frames.join('');
}

function expectAdaptiveBatches(
  durationMs: number,
  options: Omit<BatchDedupOptions<string, string>, 'execute' | 'adaptive'>,
  marbles: { readonly source: string; readonly executed: string; readonly answered: string },
): void {
  const scheduler = testScheduler();
  scheduler.run(({ hot, expectObservable }) => {
    const backend = recordingBackend(scheduler, durationMs);
    const results = hot(marbles.source, BURSTS).pipe(mergeAll(), batchDedup({ execute: backend.execute, adaptive: true, ...options }));
    expectObservable(backend.executed).toBe(marbles.executed, IDS);
    expectObservable(results.pipe(answered)).toBe(marbles.answered, IDS);
  });
}

describe('adaptive window under saturation', () => {
  it('gives a window opening while both slots are busy the latency bound, 0.8 * targetLatencyMs before any report', () => {
    // Two slots, 30 ms calls, a 100 ms target, windowMs 8. a leaves alone at 0; b's window (one slot free) is 8,
    // so b runs at 9. c arrives at 10 with both slots busy: its window is the bound 0.8 * 100 = 80 (no cost is
    // known yet), to close at 90. a's report at 30 (b still busy: saturated) brings it in to the floor it now
    // gives, the latency bound 0.8 * 100 - 30 = 50, so c closes at 60; b's report at 39 leaves that (52 > 50).
    // Without the floor c's 8 ms window would close at 18 and c run at 30, when a's slot frees, as 20 requests
    // paying a whole call for what arrived in 8 ms.
    expectAdaptiveBatches(30, { targetLatencyMs: 100, windowMs: 8, maxWindowMs: 100, concurrency: 2 }, {
      source: line(100, { a: 0, b: 1, c: 10 }),
      executed: line(100, { a: 0, b: 9, c: 60 }),
      answered: line(100, { a: 30, b: 39, c: 90 }),
    });
  });

  it('sets no floor for a window opening with a slot free', () => {
    // The case above with c arriving at 31, after a's slot has freed at 30: no floor, so c gets the window grown
    // by a's report (8 + 40 / 20 = 10) held at the model bound now that a's 30 ms call is known
    // (0.8 * 40 - 30 = 2); and as fewer than one more arrival is expected within 2 ms, c runs at once, at 31.
    expectAdaptiveBatches(30, { targetLatencyMs: 40, windowMs: 8, maxWindowMs: 40, concurrency: 2 }, {
      source: line(80, { a: 0, b: 1, c: 31 }),
      executed: line(80, { a: 0, b: 9, c: 31 }),
      answered: line(80, { a: 30, b: 39, c: 61 }),
    });
  });
});
