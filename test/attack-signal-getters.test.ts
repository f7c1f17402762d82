/**
 * Signals whose `aborted` or `reason` getter throws (a signal-shaped object from a polyfill, a proxy, another
 * realm). Both entry points take signals by shape, so such a signal must cost its own request at most: that
 * request is answered with a TypeError naming the getter (the getter's error as its `cause`), nothing escapes into
 * the code that aborts, and every other request is answered with its own result.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, type BatchResult } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, runFor } from './support.js';

const up = (items: string[]) => items.map((q) => q.toUpperCase());

interface HostileSignal {
  signal: AbortSignal;
  /** Calls the abort listeners as an abort would, after which `aborted` reads true. */
  fire(): void;
}

/** `throws` names the getter that throws; `abortedAtStart` makes it abort before it is handed over. */
function hostileSignal(throws: 'aborted' | 'reason', abortedAtStart = false): HostileSignal {
  const listeners = new Set<() => void>();
  let aborted = abortedAtStart;
  const signal = {
    get aborted(): boolean {
      if (throws === 'aborted') throw new Error('aborted getter is broken');
      return aborted;
    },
    get reason(): unknown {
      if (throws === 'reason') throw new Error('reason getter is broken');
      return new Error('aborted');
    },
    addEventListener(_type: string, listener: () => void) {
      listeners.add(listener);
    },
    removeEventListener(_type: string, listener: () => void) {
      listeners.delete(listener);
    },
  };
  return {
    signal: signal as unknown as AbortSignal,
    fire() {
      aborted = true;
      for (const listener of [...listeners]) listener();
    },
  };
}

const NAMED = {
  aborted: /signal\.aborted threw: aborted getter is broken/,
  reason: /signal\.reason threw: reason getter is broken/,
};

describe('createBatcher.process: a signal whose getter throws', () => {
  it('aborted throwing at the call: that call is rejected with a TypeError naming signal.aborted; the next is served', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const refused = batcher.process('a', { signal: hostileSignal('aborted').signal }).catch((error: unknown) => error);
    const next = batcher.process('b');
    await runFor(clock, 10);
    const error = await refused;
    expect(error).toBeInstanceOf(TypeError);
    expect(String(error)).toMatch(NAMED.aborted);
    expect((error as Error).cause).toEqual(new Error('aborted getter is broken'));
    await expect(next).resolves.toBe('B');
    expect(await drain(clock, batcher.close())).toBe(true);
  });

  it('reason throwing on an abort while waiting: the abort does not throw, that call is rejected naming signal.reason, the others answered', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const hostile = hostileSignal('reason');
    const withdrawn = batcher.processAll(['a', 'b'], { signal: hostile.signal }).catch((error: unknown) => error);
    const other = batcher.process('c');
    expect(() => hostile.fire()).not.toThrow();
    await runFor(clock, 10);
    const error = await withdrawn;
    expect(error).toBeInstanceOf(TypeError);
    expect(String(error)).toMatch(NAMED.reason);
    await expect(other).resolves.toBe('C');
    expect(await drain(clock, batcher.close())).toBe(true);
  });

  it('reason throwing on a signal aborted already: that call is rejected naming signal.reason', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const refused = batcher.process('a', { signal: hostileSignal('reason', true).signal }).catch((error: unknown) => error);
    const next = batcher.process('b');
    await runFor(clock, 10);
    expect(String(await refused)).toMatch(NAMED.reason);
    await expect(next).resolves.toBe('B');
    expect(await drain(clock, batcher.close())).toBe(true);
  });
});

describe('batchDedup: signal(request) returning a signal whose getter throws', () => {
  function run(throws: 'aborted' | 'reason', when: 'at start' | 'while waiting' | 'never', requestTimeoutMs?: number) {
    const clock = virtualClock();
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    let ended = 'not yet';
    const hostile = hostileSignal(throws, when === 'at start');
    source
      .pipe(
        batchDedup<string, string>({
          scheduler: clock.scheduler,
          windowMs: 5,
          ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
          signal: (r) => (r === 'odd' ? hostile.signal : undefined),
          execute: up,
        }),
      )
      .subscribe({ next: (r) => results.push(r), error: (e: unknown) => (ended = `error ${String(e)}`), complete: () => (ended = 'complete') });
    source.next('odd');
    source.next('plain');
    let fired: unknown = 'not fired';
    if (when === 'while waiting') {
      try {
        hostile.fire();
        fired = 'no throw';
      } catch (error) {
        fired = error;
      }
    }
    source.complete();
    clock.runAll();
    return { results, ended, fired };
  }

  it.each([undefined, 100])('aborted throwing (requestTimeoutMs %s): that request alone is rejected with a TypeError naming signal.aborted', (requestTimeoutMs) => {
    const { results, ended } = run('aborted', 'never', requestTimeoutMs);
    expect(ended).toBe('complete');
    const odd = results.find((r) => r.request === 'odd');
    expect(odd?.status).toBe('rejected');
    expect(odd?.error).toBeInstanceOf(TypeError);
    expect(String(odd?.error)).toMatch(NAMED.aborted);
    expect(results.find((r) => r.request === 'plain')?.value).toBe('PLAIN');
    expect(results).toHaveLength(2);
  });

  it.each(['at start', 'while waiting'] as const)('reason throwing, aborted %s: that request alone is rejected naming signal.reason, and the abort does not throw', (when) => {
    const { results, ended, fired } = run('reason', when, 100);
    expect(ended).toBe('complete');
    if (when === 'while waiting') expect(fired).toBe('no throw');
    const odd = results.find((r) => r.request === 'odd');
    expect(odd?.status).toBe('rejected');
    expect(odd?.error).toBeInstanceOf(TypeError);
    expect(String(odd?.error)).toMatch(NAMED.reason);
    expect(results.find((r) => r.request === 'plain')?.value).toBe('PLAIN');
    expect(results).toHaveLength(2);
  });
});
