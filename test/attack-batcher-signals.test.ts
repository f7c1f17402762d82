/**
 * H-ATK1: signals that are not quite `AbortSignal`s. Both entry points take signals by shape (another realm's,
 * a polyfill's), so a signal whose listener methods throw or are missing must cost its own request at most.
 * Found by probing: before the fix,
 *
 * - `process(request, { signal })` accepted a signal without `removeEventListener` (only `addEventListener` was
 *   checked), and a signal whose `removeEventListener` threw made the engine throw while answering: that batch's
 *   other requests (with no signal at all) were never answered and `close()` never resolved;
 * - `batchDedup`'s `signal(request)` returning such a signal lost every result of the run (a `TypeError` from
 *   inside the engine), and one whose `addEventListener` threw escaped as an unhandled error.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, type BatchResult } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, runFor } from './support.js';

const up = (items: string[]) => items.map((q) => q.toUpperCase());

/** A signal-shaped object that never aborts; `throws` names the method that throws when called. */
function oddSignal(throws: 'addEventListener' | 'removeEventListener' | 'none', omit?: 'removeEventListener'): AbortSignal {
  const signal: Record<string, unknown> = {
    aborted: false,
    reason: undefined,
    addEventListener() {
      if (throws === 'addEventListener') throw new Error('addEventListener is broken');
    },
    removeEventListener() {
      if (throws === 'removeEventListener') throw new Error('removeEventListener is broken');
    },
  };
  if (omit !== undefined) delete signal[omit];
  return signal as unknown as AbortSignal;
}

describe('createBatcher: a call whose signal cannot remove its listener', () => {
  it('is refused by process() when removeEventListener is missing, naming signal', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    await expect(batcher.process('a', { signal: oddSignal('none', 'removeEventListener') })).rejects.toThrow(
      /createBatcher\.process: signal must be an AbortSignal/,
    );
    expect(await drain(clock, batcher.close())).toBe(true);
  });

  it('when removeEventListener throws: every request of the batch is answered, and close() resolves', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const withSignal = batcher.process('a', { signal: oddSignal('removeEventListener') });
    const all = batcher.processAll(['b', 'c'], { signal: oddSignal('removeEventListener') });
    const plain = batcher.process('d');
    await runFor(clock, 10);
    await expect(withSignal).resolves.toBe('A');
    await expect(all).resolves.toEqual(['B', 'C']);
    await expect(plain).resolves.toBe('D');
    expect(await drain(clock, batcher.close())).toBe(true);
  });

  it('when addEventListener throws: process() rejects with a TypeError naming signal.addEventListener, and the next call is served', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const refused = batcher.process('a', { signal: oddSignal('addEventListener') }).catch((error: unknown) => error);
    const next = batcher.process('b');
    await runFor(clock, 10);
    expect(await refused).toBeInstanceOf(TypeError);
    expect(String(await refused)).toMatch(/createBatcher\.process: signal\.addEventListener\('abort'\) threw: addEventListener is broken/);
    await expect(next).resolves.toBe('B');
    expect(batcher.getStats()).toMatchObject({ totalRequests: 1, completed: 1 });
    expect(await drain(clock, batcher.close())).toBe(true);
  });
});

describe("batchDedup: signal(request) returning a signal whose listener methods throw", () => {
  function run(throws: 'addEventListener' | 'removeEventListener', requestTimeoutMs?: number) {
    const clock = virtualClock();
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    let ended = 'not yet';
    source
      .pipe(
        batchDedup<string, string>({
          scheduler: clock.scheduler,
          windowMs: 5,
          ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
          signal: (r) => (r === 'odd' ? oddSignal(throws) : undefined),
          execute: up,
        }),
      )
      .subscribe({ next: (r) => results.push(r), error: (e: unknown) => (ended = `error ${String(e)}`), complete: () => (ended = 'complete') });
    source.next('odd');
    source.next('plain');
    source.complete();
    clock.runAll();
    return { results, ended };
  }

  it.each([undefined, 100])('removeEventListener throwing (requestTimeoutMs %s): every request is answered with its own result', (requestTimeoutMs) => {
    const { results, ended } = run('removeEventListener', requestTimeoutMs);
    expect(ended).toBe('complete');
    expect(results.map((r) => [r.request, r.value])).toEqual([
      ['odd', 'ODD'],
      ['plain', 'PLAIN'],
    ]);
  });

  it.each([undefined, 100])('addEventListener throwing (requestTimeoutMs %s): that request alone is rejected, with a TypeError naming signal(request)', (requestTimeoutMs) => {
    const { results, ended } = run('addEventListener', requestTimeoutMs);
    expect(ended).toBe('complete');
    const odd = results.find((r) => r.request === 'odd');
    expect(odd?.status).toBe('rejected');
    expect(String(odd?.error)).toMatch(/TypeError: batchDedup: signal\(request\) returned a signal whose addEventListener\('abort'\) threw: addEventListener is broken/);
    expect(results.find((r) => r.request === 'plain')?.value).toBe('PLAIN');
    expect(results).toHaveLength(2);
  });
});
