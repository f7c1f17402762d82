/**
 * Clock readings on the request path (issue 15, stop 22): `batchDedup` (main's and `/lite`'s) stamps the arrivals of
 * one synchronous burst with one reading of the real clock, as the promise bridge does (src/internal/arrivalClock.ts),
 * and a batch's requests are answered at one reading. (`/lite`'s promise bridge stamps arrivals alike; there the
 * stamp is seen by no rule: its collector arms timers relative to the stamp, and its stats keep no latencies.) On a faked Date: asyncScheduler reads Date.now, so the
 * library takes it for the real clock; no timer runs out in these tests (each batch forms at `maxSize`).
 */
import { Subject, type OperatorFunction } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchDedup as mainBatchDedup, type BatchResult } from '../src/index.js';
import { batchDedup as liteBatchDedup } from '../src/lite/index.js';

type Make = (options: { execute: (items: string[]) => Promise<string[]>; maxSize: number; windowMs: number }) => OperatorFunction<string, BatchResult<string, string>>;

const operators: [string, Make][] = [
  ['batchDedup (main)', (o) => mainBatchDedup<string, string>(o)],
  ['batchDedup (/lite, lean core)', (o) => liteBatchDedup<string, string>(o)],
];

const start = new Date('2024-01-01T00:00:00.000Z').getTime();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(start);
});
afterEach(() => {
  vi.useRealTimers();
});

/** Pushes `requests` (calling `between` before each but the first) and collects `count` results. */
async function run(make: Make, requests: string[], between: (i: number) => void, onResult: (r: BatchResult<string, string>) => void = () => undefined) {
  const source = new Subject<string>();
  const results: BatchResult<string, string>[] = [];
  const done = new Promise<void>((resolve) => {
    source
      .pipe(make({ execute: (items) => Promise.resolve(items.map((i) => `=${i}`)), maxSize: requests.length, windowMs: 10_000 }))
      .subscribe((result) => {
        results.push(result);
        onResult(result);
        if (results.length === requests.length) resolve();
      });
  });
  requests.forEach((request, i) => {
    if (i > 0) between(i);
    source.next(request);
  });
  await done;
  return results;
}

describe.each(operators)('%s on the real clock', (_, make) => {
  it('stamps the arrivals of one synchronous burst with the burst\'s first reading', async () => {
    // The clock moves 40 ms between the two arrivals, within one synchronous run: both are stamped at `start`.
    const [a, b] = await run(make, ['a', 'b'], () => vi.setSystemTime(start + 40));
    expect(a!.latencyMs).toBe(b!.latencyMs);
    expect(a!.latencyMs).toBe(40);
  });

  it('reads the clock again for an arrival after a microtask', async () => {
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    const done = new Promise<void>((resolve) =>
      source
        .pipe(make({ execute: (items) => Promise.resolve(items.map((i) => `=${i}`)), maxSize: 2, windowMs: 10_000 }))
        .subscribe((r) => results.push(r) === 2 && resolve()),
    );
    source.next('a');
    await Promise.resolve();
    vi.setSystemTime(start + 40);
    source.next('b');
    await done;
    expect(results.map((r) => [r.request, r.latencyMs])).toEqual([
      ['a', 40],
      ['b', 0],
    ]);
  });

  it('answers the requests of one batch at one reading, however long each answer takes', async () => {
    // Every result moves the clock 25 ms (a subscriber that takes time): the batch's answers still share one time.
    const results = await run(make, ['a', 'b', 'c', 'd'], () => undefined, () => vi.setSystemTime(Date.now() + 25));
    expect(new Set(results.map((r) => r.latencyMs))).toEqual(new Set([0]));
  });
});
