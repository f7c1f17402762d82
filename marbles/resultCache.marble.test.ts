/**
 * The result cache on clocks that step (issue 11 item 10, cache half) and at capacity. An entry is served only
 * while `0 <= now - storedAt < ttlMs` on the clock the pipeline reads: an entry from the "future" (the clock
 * stepped back past it) is dropped, never served. `maxEntries` bounds it, least recently used out first.
 */
import fc from 'fast-check';
import { map, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, type BatchDedupOptions } from '../src/index.js';
import { simulatedBackend, type TestScheduler } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

/**
 * The test scheduler's timers, with a `now()` that steps: from each `[frame, offset]` on, `now()` is the frame
 * plus that offset (a wall clock corrected by NTP, a VM resumed, a user changing the time).
 */
function steppingClock(inner: TestScheduler, steps: readonly (readonly [frame: number, offset: number])[]): SchedulerLike {
  const offsetAt = (frame: number) => {
    let offset = 0;
    for (const [at, value] of steps) if (frame >= at) offset = value;
    return offset;
  };
  return {
    now: () => inner.now() + offsetAt(inner.now()),
    schedule: inner.schedule.bind(inner),
  };
}

type Seen = [frame: number, request: string, batchId: number];

/**
 * Runs requests (`[frame, key]`) through `batchDedup` with a result cache, each executed alone in 5 frames
 * from one frame after its arrival, and returns when each was answered, and by which batch (0: the cache).
 * Every execution answers a value of its own (`value of a #3`), so each answer is checked on the way: an
 * execution's answer is its key's, and a hit answers exactly the value the cache holds for its key, the one
 * of the latest execution of that key answered before it (not undefined, not an older or another key's).
 */
function run(
  arrivals: readonly (readonly [frame: number, key: string])[],
  steps: readonly (readonly [frame: number, offset: number])[],
  options: Partial<BatchDedupOptions<string, string>> = {},
  durationMs = 5,
): Seen[] {
  const scheduler = testScheduler();
  const seen: Seen[] = [];
  /** The value of the latest execution answered, by key: what the cache holds for it. */
  const stored = new Map<string, string>();
  let executions = 0;
  scheduler.run(({ cold }) => {
    const clock = steppingClock(scheduler, steps);
    const backend = simulatedBackend({ scheduler, durationMs: () => durationMs, compute: (key: string) => `value of ${key} #${++executions}` });
    const last = Math.max(...arrivals.map(([frame]) => frame));
    const timeline = Array.from({ length: last + 1 }, (_, frame) => arrivals.find(([at]) => at === frame)?.[1] ?? '-').join('');
    const values = Object.fromEntries(arrivals.map(([, key]) => [key, key]));
    cold(`${timeline}|`, values)
      .pipe(
        batchDedup<string, string>({ execute: backend.execute, windowMs: 1, concurrency: 8, resultCache: { ttlMs: 100 }, ...options, scheduler: clock }),
        map((result) => {
          const at = `${result.request} at frame ${scheduler.now()} (batch ${result.batchId})`;
          expect(result.status, at).toBe('fulfilled');
          const value = result.value as string;
          if (result.batchId === 0) {
            expect(stored.has(result.request), `${at}: a hit with nothing executed before`).toBe(true);
            expect(value, `${at}: the cached value`).toBe(stored.get(result.request));
          } else {
            expect(value, at).toMatch(new RegExp(`^value of ${result.request} #\\d+$`));
            stored.set(result.request, value);
          }
          return [scheduler.now(), result.request, result.batchId] as Seen;
        }),
      )
      .subscribe((entry) => seen.push(entry));
  });
  return seen;
}

describe('the result cache on a clock that steps', () => {
  it('drops an entry stored in the "future" when the clock steps back, then caches anew on the new clock', () => {
    // a runs 1-6 and is stored at 6; b at 10 is a hit. At frame 20 the clock steps back a minute: c at 30 reads
    // -59970, before a was stored, so a's entry is dropped and c runs as batch 2; d at 40 is a hit on c's entry.
    const seen = run(
      [
        [0, 'a'],
        [10, 'a'],
        [30, 'a'],
        [40, 'a'],
      ],
      [[20, -60_000]],
    );
    expect(seen).toEqual([
      [6, 'a', 1],
      [10, 'a', 0],
      [36, 'a', 2],
      [40, 'a', 0],
    ]);
  });

  it('never serves an entry older than ttlMs, when the clock steps forward', () => {
    // a is stored at 6; at frame 20 the clock jumps 1 s ahead: at 30 the entry is 1024 ms old, past its 100 ms.
    const seen = run(
      [
        [0, 'a'],
        [10, 'a'],
        [30, 'a'],
      ],
      [[20, 1000]],
    );
    expect(seen).toEqual([
      [6, 'a', 1],
      [10, 'a', 0],
      [36, 'a', 2],
    ]);
  });

  it('serves an entry at ttlMs - 1 and not at ttlMs, by the clock it reads', () => {
    // Stored at 6 with ttlMs 20: served at 25 (age 19), not at 26 (age 20).
    expect(run([[0, 'a'], [25, 'a']], [], { resultCache: { ttlMs: 20 } })).toEqual([
      [6, 'a', 1],
      [25, 'a', 0],
    ]);
    expect(run([[0, 'a'], [26, 'a']], [], { resultCache: { ttlMs: 20 } })).toEqual([
      [6, 'a', 1],
      [32, 'a', 2],
    ]);
  });

  /**
   * Arrivals of one key at frames 4k, clock steps at frames 4k + 2, executions of an even length (so they end on
   * odd frames): no two events share a frame, and the cache can be modelled exactly: each completion stores its
   * time on the stepped clock; an arrival is a hit when the stored entry is 0 <= age < ttlMs, and otherwise drops it.
   */
  it('on any clock: a hit exactly when the entry is 0 <= age < ttlMs on that clock, never after it was dropped', () => {
    const scenario = fc.record({
      arrivals: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 20 }).map((ks) => ks.map((k) => 4 * k).sort((a, b) => a - b)),
      steps: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: -200, max: 200 })), { maxLength: 6 }),
      ttlMs: fc.integer({ min: 1, max: 60 }),
      durationMs: fc.integer({ min: 1, max: 6 }).map((d) => 2 * d),
    });
    fc.assert(
      fc.property(scenario, ({ arrivals, steps, ttlMs, durationMs }) => {
        const clockSteps = steps.map(([k, offset]) => [4 * k + 2, offset] as const).sort((a, b) => a[0] - b[0]);
        const offsetAt = (frame: number) => {
          let offset = 0;
          for (const [at, value] of clockSteps) if (frame >= at) offset = value;
          return offset;
        };
        const seen = run(
          arrivals.map((frame) => [frame, 'a'] as const),
          clockSteps,
          // The model has no in-flight dedup (on by default): a miss while an equal request executes runs again.
          { resultCache: { ttlMs }, dedupInFlight: false },
          durationMs,
        );
        // The model: completions (frame + 1 + durationMs for each miss) and arrivals, in frame order.
        const expected: Seen[] = [];
        const completions: number[] = [];
        let storedAt: number | undefined;
        let batches = 0;
        const events = [...arrivals.map((frame) => ({ frame, arrival: true }))];
        while (events.length > 0) {
          events.sort((x, y) => x.frame - y.frame);
          const event = events.shift()!;
          const now = event.frame + offsetAt(event.frame);
          if (!event.arrival) {
            storedAt = now;
            continue;
          }
          const age = storedAt === undefined ? Number.NaN : now - storedAt;
          if (age >= 0 && age < ttlMs) {
            expected.push([event.frame, 'a', 0]);
          } else {
            storedAt = undefined;
            const done = event.frame + 1 + durationMs;
            completions.push(done);
            expected.push([done, 'a', ++batches]);
            events.push({ frame: done, arrival: false });
          }
        }
        expected.sort((x, y) => x[0] - y[0]);
        expect(seen).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});

describe('the result cache at capacity', () => {
  it('keeps maxEntries results, the least recently used leaving first', () => {
    // a (1-6) and b (9-14) fill it; the hit on a at 16 makes b the least recent; c (19-24) evicts b; b again
    // (27-32) evicts a; c at 34 is still a hit; a at 36 runs again.
    const seen = run(
      [
        [0, 'a'],
        [8, 'b'],
        [16, 'a'],
        [18, 'c'],
        [26, 'b'],
        [34, 'c'],
        [36, 'a'],
      ],
      [],
      { resultCache: { ttlMs: 1000, maxEntries: 2 } },
    );
    expect(seen).toEqual([
      [6, 'a', 1],
      [14, 'b', 2],
      [16, 'a', 0],
      [24, 'c', 3],
      [32, 'b', 4],
      [34, 'c', 0],
      [42, 'a', 5],
    ]);
  });

  it('filled with many keys, holds exactly the last maxEntries of them', () => {
    const keys = 'abcdefghij'.split('');
    // Each key runs alone (arrivals 8 frames apart), then every key is asked again, one per frame, last first.
    const first = keys.map((key, i) => [8 * i, key] as const);
    const again = [...keys].reverse().map((key, i) => [100 + i, key] as const);
    const seen = run([...first, ...again], [], { resultCache: { ttlMs: 10_000, maxEntries: 3 } });
    const hits = seen.filter(([frame, , batchId]) => frame >= 100 && batchId === 0).map(([, key]) => key);
    expect(hits).toEqual(['j', 'i', 'h']);
  });
});
