/** Helpers shared by the test files (not a test file itself). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { VirtualClock } from '../src/testing/index.js';

/** Lets pending promise callbacks run (one macrotask turn), e.g. after a virtual clock moved. */
export const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Advances the clock 1 ms at a time, letting promise callbacks run in between, until `promise` settles. Small
 * steps matter: jumping to the last timer would fire `processingTimeoutMs` before a promise returned by
 * `execute` had a chance to resolve.
 */
export async function settleAll<V>(clock: VirtualClock, promise: Promise<V>): Promise<PromiseSettledResult<V>> {
  const settled = Promise.allSettled([promise]).then(([r]) => r!);
  let done: PromiseSettledResult<V> | undefined;
  void settled.then((r) => (done = r));
  for (let guard = 0; guard < 500 && !done; guard++) {
    await turn();
    clock.advanceBy(1);
  }
  return settled;
}

/** Runs every timer and promise callback until `closing` (a batcher's `close()`) resolves; returns whether it did. */
export async function drain(clock: VirtualClock, closing: Promise<void>): Promise<boolean> {
  let closed = false;
  void closing.then(() => (closed = true));
  for (let guard = 0; guard < 1000 && !closed; guard++) {
    clock.runAll();
    await turn();
  }
  return closed;
}

/** Waits (on real time) for a condition that the test then asserts; gives up, letting the assertion fail, after 10 s. */
export async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition() && waited < 10_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
}

/** A page shows each file verbatim, so what readers copy is what the tests compile and run. */
export function showsVerbatim(page: string, files: readonly string[]): void {
  describe(page, () => {
    it.each(files)('shows %s verbatim', (file) => {
      const text = readFileSync(new URL(`../${page}`, import.meta.url), 'utf8');
      const code = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
      expect(text).toContain('```ts\n' + code + '```\n');
    });
  });
}
