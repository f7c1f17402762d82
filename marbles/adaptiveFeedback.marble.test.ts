import { distinctUntilChanged, map, mergeAll, Subject, type Observable } from 'rxjs';
import { describe, it } from 'vitest';
import { createBatchFeedback } from '../src/internal/feedback.js';
import { adaptiveBuffer } from '../src/operators/adaptiveBuffer.js';
import { batchDedup, type BatchDedupOptions } from '../src/operators/batchDedup.js';
import { dedupBy } from '../src/operators/dedupBy.js';
import { fanOut } from '../src/operators/fanOut.js';
import { simulatedBackend, type TestScheduler } from '../src/testing/index.js';
import type { BatchResult, ExecuteContext } from '../src/types.js';
import { testScheduler } from './helpers.js';

/**
 * Each source letter is a burst of 20 distinct requests in one frame (dedup merges none of them). A window applies
 * only when one more arrival is expected within it (rate * window >= 1, the rate estimated with a 100 ms time
 * constant): the lone first burst leaves at once, and every later window opens right after a burst has added
 * 0.2/ms to the estimate, enough for the windows below.
 */
const burst = (letter: string) => Array.from({ length: 20 }, (_, i) => `${letter}${i}`);
const BURSTS = { a: burst('a'), b: burst('b'), c: burst('c') };
/** What `executed` and `answered` emit: the burst a batch came from. */
const IDS = { a: 'a', b: 'b', c: 'c' };

/**
 * A backend of fixed duration that also emits, per call, the bursts it executes: `executed` shows when each
 * window closed (or a slot freed), so a window's length reads as the distance from its burst in the source.
 */
function recordingBackend(scheduler: TestScheduler, durationMs: number | readonly number[]) {
  const executed = new Subject<string>();
  // A list gives each call its own duration, in call order.
  let calls = 0;
  const duration = typeof durationMs === 'number' ? () => durationMs : () => durationMs[Math.min(calls++, durationMs.length - 1)]!;
  const backend = simulatedBackend({ scheduler, durationMs: duration, compute: (q: string) => q.toUpperCase() });
  const execute = (items: string[], context: ExecuteContext) => {
    executed.next([...new Set(items.map((q) => q[0]))].join(''));
    return backend.execute(items, context);
  };
  return { execute, executed };
}

/** One emission per answered batch, when its results came back: latency reads as the distance from the source. */
const answered = (results: Observable<BatchResult<string, string>>) =>
  results.pipe(
    map((r) => r.request[0]!),
    distinctUntilChanged(),
  );

/** Bursts through `batchDedup({ adaptive: true, ...options })` on a backend of `durationMs`: when each ran and was answered. */
function expectAdaptiveBatches(
  durationMs: number | readonly number[],
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

describe('adaptive window feedback', () => {
  describe('batchDedup({ adaptive: true })', () => {
    it('halves the window after a batch whose p95 latency is over targetLatencyMs', () => {
      // One slot, 21 ms calls. b's 8 ms window closes at 9 but b waits for a's call to end at 21, so it is
      // answered at 42, 41 ms after arriving: over the 40 ms target. a's report (p95 21) grew the window to
      // 8 + 40 / 20 = 10; b's report cuts it to 5, within the model's bound (0.8 * 40 - 21 = 11), so c waits 5.
      // Ignoring the reports would leave 8; a cut that does not cut, 10. The latency over target comes from
      // queueing because a call that alone took longer would also bring the model's bound (0.8 * target - call
      // duration) under minWindowMs, which hides the cut.
      expectAdaptiveBatches(21, { targetLatencyMs: 40, windowMs: 8, maxWindowMs: 40, concurrency: 1 }, {
        source: '   ab-----------------------------------------c----------------------------',
        executed: ' a--------------------b--------------------------c-----------------------',
        answered: ' ---------------------a--------------------b--------------------------c--',
      });
    });

    it('halves the window as the model bound left it, not as growth alone would have made it', () => {
      // One slot, 28 ms calls, a 50 ms target, windowMs 15, step 40 / 20 = 2. a's report (p95 28, comfortably
      // under the target: the model's share of it grows from 0.8 to 0.84) would grow the window from 15 to 17,
      // but the bound 0.84 * 50 - 28 = 14 holds it at 14. b, queued behind a, is answered 55 ms after arriving,
      // over the target, so the window is cut to 7 and c waits 7. Halving the uncapped 17 would make c wait 8.5.
      expectAdaptiveBatches(28, { targetLatencyMs: 50, windowMs: 15, maxWindowMs: 40, concurrency: 1 }, {
        source: '   ab----------------------------------------------------------c---------------------------------------',
        executed: ' a---------------------------b--------------------------------------c--------------------------------',
        answered: ' ----------------------------a---------------------------b--------------------------------------c----',
      });
    });

    it('does not cut the window for a p95 exactly at targetLatencyMs', () => {
      // The case above with b at 6: answered 50 ms after arriving, on the 50 ms target, which counts as within
      // it (and not comfortably under it: the share stays 0.84). So b's report grows the window, held at the
      // bound of 14, and c waits 14 instead of 7.
      expectAdaptiveBatches(28, { targetLatencyMs: 50, windowMs: 15, maxWindowMs: 40, concurrency: 1 }, {
        source: '   a-----b-----------------------------------------------------c--------------------------------------------',
        executed: ' a---------------------------b---------------------------------------------c------------------------------',
        answered: ' ----------------------------a---------------------------b---------------------------------------------c--',
      });
    });

    it('opens no window past the model bound, which is 0.8 * targetLatencyMs before any report', () => {
      // A starting window of 30 against a 20 ms target: b opens its window before a's call has reported, when
      // the model knows no backend cost yet, so it gets 0.8 * 20 = 16, not 30. (a's 20 ms call reports after
      // b's window has closed, so no report shortens it.)
      expectAdaptiveBatches(20, { targetLatencyMs: 20, windowMs: 30, maxWindowMs: 40 }, {
        source: '   ab-------------------------------------------',
        executed: ' a----------------b---------------------------',
        answered: ' --------------------a----------------b-------',
      });
    });

    it('grows the window by (maxWindowMs - minWindowMs) / 20 after each batch within targetLatencyMs', () => {
      // 2 ms calls keep every p95 far under the 40 ms target, so each report adds 40 / 20 = 2: b waits 10, c 12.
      expectAdaptiveBatches(2, { targetLatencyMs: 40, windowMs: 8, maxWindowMs: 40 }, {
        source: '   a--b------------c---------------',
        executed: ' a------------b--------------c---',
        answered: ' --a------------b--------------c-',
      });
    });

    it('stops growing at maxWindowMs', () => {
      // Step 20 / 20 = 1: a's report takes the window from 19 to 20; b's would take it to 21, but maxWindowMs
      // holds it at 20, so b and c both wait 20.
      expectAdaptiveBatches(2, { targetLatencyMs: 40, windowMs: 19, maxWindowMs: 20 }, {
        source: '   a--b----------------------c-----------------------',
        executed: ' a----------------------b----------------------c---',
        answered: ' --a----------------------b----------------------c-',
      });
    });
  });

  describe('batchDedup({ adaptive: true }): the share of the target, a speed-up, a report during a window', () => {
    it('spends 0.04 more of targetLatencyMs per batch comfortably under it (p95 <= 0.9 * target), up to 0.87', () => {
      // 50 ms calls against a 100 ms target, windowMs 100 (the bound, not the step of 5, holds the window). a's
      // report (p95 50) raises the model's share to 0.84: b waits 0.84 * 100 - 50 = 34. b's (p95 84, still
      // under 90) to 0.87, the most: c waits 37. With the share fixed at 0.8 both would wait 30.
      expectAdaptiveBatches(50, { targetLatencyMs: 100, windowMs: 100, maxWindowMs: 100 }, {
        source: '   a------------------------------------------------------b------------------------------------------------------------------------------------c-----------------------------------------------------------------------------------------',
        executed: ' a----------------------------------------------------------------------------------------b---------------------------------------------------------------------------------------c----------------------------------------------------',
        answered: ' --------------------------------------------------a----------------------------------------------------------------------------------------b---------------------------------------------------------------------------------------c--',
      });
    });

    it('widens the window at once when a batch takes under half what the model predicts (the backend sped up)', () => {
      // Calls of 60, then 20 ms against a 100 ms target; maxWindowMs 600, so the step (30) is wide and the bound
      // holds the window. a's report: 0.84 * 100 - 60 = 24, b waits 24. b's 20 ms call, a third of the 60 the
      // model predicts, rescales the model to 20 ms per call at once: the bound is 0.87 * 100 - 20 = 67 and the
      // window 24 + 30 = 54, so c waits 54. Only forgetting the 60 ms call (0.7 per batch), the model would say
      // (0.7 * 60 + 20) / 1.7, about 36, and c would wait 87 - 36, about 50.5.
      expectAdaptiveBatches([60, 20, 20], { targetLatencyMs: 100, windowMs: 10, maxWindowMs: 600 }, {
        source: '   a------------------------------------------------------------b--------------------------------------------c------------------------------------------------------------------------------',
        executed: ' a------------------------------------------------------------------------------------b--------------------------------------------------------------------------c------------------------',
        answered: ' ------------------------------------------------------------a--------------------------------------------b--------------------------------------------------------------------------c----',
      });
    });

    it('closes a window open when a report lowers the window at its new end', () => {
      // 20 ms calls, a 50 ms target, windowMs 40. b opens its window at 1 before any report: 40 (the bound
      // 0.8 * 50), to close at 41. a's report at 20 brings the window to 0.84 * 50 - 20 = 22, so b's window,
      // open since 1, closes at 23. Without the report's say, b would wait until 41.
      expectAdaptiveBatches(20, { targetLatencyMs: 50, windowMs: 40, maxWindowMs: 40 }, {
        source: '   ab------------------------------------------------',
        executed: ' a----------------------b--------------------------',
        answered: ' --------------------a----------------------b------',
      });
    });

    it('closes a window open early when a batch runs 1.5 times past the model before it reports (the backend slowed down)', () => {
      // Calls of 20, 100, 20 ms; a 100 ms target, windowMs 100. a's report: d = 20 ms for 20 requests, share
      // 0.84, window 84 - 20 = 64. b waits 64 and runs at 85 for 100 ms. c opens its window at 90 (64: to close
      // at 154); its arrival is when the controller sees b's slot taken, so it counts b from 90. At d's arrival,
      // 125, b has run 35 ms against the 20 predicted: 1.75 times, overdue. The model is taken as 1.75 times
      // slower (35 ms) until b reports, the window becomes 84 - 35 = 49, and c's window closes at 90 + 49 = 139
      // with d's requests in it (maxSize 64 lets them in). Without it c and d would run at 154.
      const scheduler = testScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const backend = recordingBackend(scheduler, [20, 100, 20]);
        const bursts = { ...BURSTS, d: burst('d') };
        const options = { targetLatencyMs: 100, windowMs: 100, maxWindowMs: 100, maxSize: 64 };
        hot('a--------------------b--------------------------------------------------------------------c----------------------------------d--------------------------------------------------------------------------', bursts)
          .pipe(mergeAll(), batchDedup({ execute: backend.execute, adaptive: true, ...options }))
          .subscribe();
        expectObservable(backend.executed).toBe('a------------------------------------------------------------------------------------b-----------------------------------------------------x------------------------------------------------------------', { ...IDS, x: 'cd' });
      });
    });
  });

  describe('adaptiveBuffer and fanOut sharing a createBatchFeedback channel', () => {
    it("grows adaptiveBuffer's window from the reports fanOut sends on the channel", () => {
      // The growth case above wired by hand, with the same frames. Without the reports the window would stay
      // at 8: b executed at 11, c at 24.
      const scheduler = testScheduler();
      scheduler.run(({ hot, expectObservable, expectSubscriptions }) => {
        const backend = recordingBackend(scheduler, 2);
        const feedback = createBatchFeedback(4);
        const source = hot(' a--b------------c---------------', BURSTS);
        const subs = '       ^-------------------------------';
        const executed = '   a------------b--------------c---';
        const results = '    --a------------b--------------c-';
        const piped = source.pipe(
          mergeAll(),
          adaptiveBuffer<string>({ targetLatencyMs: 40, windowMs: 8, maxWindowMs: 40, feedback }),
          dedupBy(),
          fanOut({ execute: backend.execute, feedback }),
        );
        expectObservable(backend.executed).toBe(executed, IDS);
        expectObservable(piped.pipe(answered)).toBe(results, IDS);
        expectSubscriptions(source.subscriptions).toBe(subs);
      });
    });
  });
});
