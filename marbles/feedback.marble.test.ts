import { delay, filter, map, Subject, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adaptiveBuffer } from '../src/operators/adaptiveBuffer.js';
import { bufferWindow } from '../src/operators/bufferWindow.js';
import { dedupBy } from '../src/operators/dedupBy.js';
import { createBatchFeedback, type BatchFeedback } from '../src/internal/feedback.js';
import { fanOut } from '../src/operators/fanOut.js';
import { simulatedBackend, type TestScheduler } from '../src/testing/index.js';
import type { BatchResult, ExecuteContext } from '../src/types.js';
import { testScheduler } from './helpers.js';

/**
 * Issue 11 item 11: a feedback channel shared by a collector and `fanOut` composed by hand. A slot is taken
 * when a batch reaches `fanOut`, not when the collector emits it, so a batch dropped on the way (a `filter`)
 * holds no slot; and `fanOut` runs as many batches at once as the channel says.
 */

/** A backend of fixed duration that emits, per call, the items it executes (joined), when the call starts. */
function recordingBackend(scheduler: TestScheduler, durationMs: number) {
  const executed = new Subject<string>();
  const backend = simulatedBackend({ scheduler, durationMs: () => durationMs, compute: (q: string) => q.toUpperCase() });
  const execute = (items: string[], context: ExecuteContext) => {
    executed.next(items.join(''));
    return backend.execute(items, context);
  };
  return { execute, executed };
}

const requests = (results: Observable<BatchResult<string, string>>) => results.pipe(map((r) => r.request));

type Collector = (feedback: BatchFeedback) => (source: Observable<string>) => Observable<string[]>;
const collectors: [string, Collector][] = [
  ['bufferWindow', (feedback) => bufferWindow<string>({ windowMs: 1, feedback })],
  // A window the arrival rate cannot stretch here (one request every 3 frames, minWindowMs = maxWindowMs).
  ['adaptiveBuffer', (feedback) => adaptiveBuffer<string>({ windowMs: 1, minWindowMs: 1, maxWindowMs: 1, feedback })],
];

describe('a feedback channel shared by a collector and fanOut, composed by hand', () => {
  describe.each(collectors)('%s', (_, collector) => {
    it('a filter that drops batches between them holds no slot: later batches still leave and are answered', () => {
      // Concurrency 2 and four dropped batches: had the collector reserved a slot per emitted batch, the two
      // slots would be gone after the second x and a would never leave.
      const scheduler = testScheduler();
      scheduler.run(({ hot, expectObservable }) => {
        const backend = recordingBackend(scheduler, 2);
        const feedback = createBatchFeedback(2);
        const source = hot('   x--x--x--x--a--b-----|');
        const executed = '     -------------a--b----';
        const answered = '     ---------------a--b--|';
        const piped = source.pipe(
          collector(feedback),
          filter((batch) => !batch.includes('x')),
          dedupBy(),
          fanOut({ execute: backend.execute, feedback }),
        );
        expectObservable(backend.executed).toBe(executed);
        expectObservable(piped.pipe(requests)).toBe(answered);
      });
    });
  });

  it('a stage that holds batches on the way (delay) holds no slot while it holds them; every request is answered', () => {
    // Channel of 1, a delay of 5: a leaves at 1 and reaches fanOut at 6. Meanwhile no slot is taken, so b and c
    // leave when their windows close (3, 5) and wait in fanOut: a runs 6-8, b 8-10, c 10-12.
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = recordingBackend(scheduler, 2);
      const feedback = createBatchFeedback(1);
      const source = hot('   a-b-c-------|');
      const answered = '     --------a-b-(c|)';
      const piped = source.pipe(
        bufferWindow<string>({ windowMs: 1, feedback }),
        delay(5),
        dedupBy(),
        fanOut({ execute: backend.execute, feedback }),
      );
      expectObservable(piped.pipe(requests)).toBe(answered);
    });
  });

  it('fanOut({ concurrency: 1 }) with a channel of 1 runs one batch at a time; the collector holds the next', () => {
    // b's window closes at 3, but a runs until 5: b leaves then, c (arrived at 4) with it.
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = recordingBackend(scheduler, 4);
      const feedback = createBatchFeedback(1);
      const source = hot('  a-b-c--------|');
      const executed = '    -a---(x)------';
      const answered = '    -----a---(bc)|';
      const piped = source.pipe(
        bufferWindow<string>({ windowMs: 1, feedback }),
        dedupBy(),
        fanOut({ execute: backend.execute, feedback, concurrency: 1 }),
      );
      expectObservable(backend.executed).toBe(executed, { a: 'a', x: 'bc' });
      expectObservable(piped.pipe(requests)).toBe(answered);
    });
  });

  it('fanOut without concurrency runs as many at once as the channel says', () => {
    // Channel of 1, three batches formed while nothing waits for a slot (no collector on this channel):
    // fanOut still runs them one at a time.
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = recordingBackend(scheduler, 3);
      const feedback = createBatchFeedback(1);
      const batch = (q: string) => ({ items: [q], unique: [q], leaderOf: [0] });
      const source = hot('  (abc)----------|', { a: batch('a'), b: batch('b'), c: batch('c') });
      const executed = '    a--b--c--------';
      const answered = '    ---a--b--c-----|';
      expectObservable(backend.executed).toBe(executed);
      expectObservable(source.pipe(fanOut({ execute: backend.execute, feedback }), requests)).toBe(answered);
    });
  });

  it('fanOut refuses a concurrency other than the channel\'s at creation', () => {
    expect(() => fanOut({ execute: (items: string[]) => items, concurrency: 1, feedback: createBatchFeedback(4) })).toThrow(RangeError);
  });
});
