/**
 * The lean core of the /lite spike (src/lite/core.ts) through its `batchDedup` (src/lite/leanOperator.ts): the
 * window rules, concurrency, the timeouts, signals, joins and teardown, on a TestScheduler.
 */
import { map, NEVER, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { leanBatchDedup } from '../src/lite/leanOperator.js';
import { batchDedup } from '../src/operators/batchDedup.js';
import { outcome, simulatedBackend, trackTimers } from '../src/testing/index.js';
import type { ExecuteContext } from '../src/types.js';
import { testScheduler } from './helpers.js';

const upper = (s: string) => s.toUpperCase();

describe('lean core: the window rules', () => {
  it('closes the window windowMs after its first request and executes each unique request once', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 2, compute: upper });
      const source = hot(' a--b--a-------------|');
      const expected = '  ------------(xyz)---|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 10 }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'a', value: 'A' },
        z: { request: 'b', value: 'B' },
      });
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[10, ['a', 'b']]]), 19);
    });
  });

  it('sends a batch that reaches maxSize in the frame it fills', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const source = hot(' -a-b-c--------|');
      const expected = '  -----(xyz)----|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 10, maxSize: 3 }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'b', value: 'B' },
        z: { request: 'c', value: 'C' },
      });
    });
  });

  it('holds a closed window below minSize until maxWaitMs after its oldest request', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const source = hot(' a-b-----------------------|');
      const expected = '  ----------------(xy)------|';
      const options = { execute: backend.execute, windowMs: 5, minSize: 3, maxWaitMs: 16 };
      expectObservable(source.pipe(leanBatchDedup(options), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'b', value: 'B' },
      });
    });
  });

  it('sends a held window as soon as minSize is reached', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const source = hot(' a-b------c----------------|');
      const expected = '  ---------(xyz)------------|';
      const options = { execute: backend.execute, windowMs: 5, minSize: 3, maxWaitMs: 16 };
      expectObservable(source.pipe(leanBatchDedup(options), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'b', value: 'B' },
        z: { request: 'c', value: 'C' },
      });
    });
  });

  it('bounds the wait with maxWaitMs when the window never closes by time (windowMs Infinity)', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const source = hot(' a---b-----------|');
      const expected = '  -------(xy)-----|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: Infinity, maxWaitMs: 7 }), map(outcome))).toBe(
        expected,
        { x: { request: 'a', value: 'A' }, y: { request: 'b', value: 'B' } },
      );
    });
  });

  it('keeps collecting while every slot is busy and sends what waited as one batch when a slot frees', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 20, compute: upper });
      const source = hot(' a----b-c-d-------------------------------------|');
      const expected = '  ----------------------a-------------------(bcd)|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 2, concurrency: 1 }), map(outcome))).toBe(
        expected,
        {
          a: { request: 'a', value: 'A' },
          b: { request: 'b', value: 'B' },
          c: { request: 'c', value: 'C' },
          d: { request: 'd', value: 'D' },
        },
      );
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[2, ['a']], [22, ['b', 'c', 'd']]]), 45);
    });
  });
});

describe('lean core: equal requests waiting', () => {
  it('lets a request equal to one waiting ride its slot, counting toward neither maxSize nor minSize', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const source = hot(' a-a-a-b-------|');
      const expected = '  ------(wxyz)--|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 10, maxSize: 2 }))).toBe(expected, {
        w: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: false, latencyMs: 6 },
        x: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: true, latencyMs: 4 },
        y: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: true, latencyMs: 2 },
        z: { request: 'b', status: 'fulfilled', value: 'B', batchId: 1, deduplicated: false, latencyMs: 0 },
      });
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual([[6, ['a', 'b']]]), 12);
    });
  });

  it('executes the next equal request in the place of a first one withdrawn while it waited, on its own behalf', () => {
    const scheduler = testScheduler();
    const controller = new AbortController();
    type Q = { id: number; q: string };
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend<Q, string>({ scheduler, durationMs: () => 0, compute: (r) => `${r.q}#${r.id}` });
      const source = hot(' a-b---------|', { a: { id: 1, q: 'x' }, b: { id: 2, q: 'x' } });
      const expected = '  ---x------y-|';
      const options = { execute: backend.execute, windowMs: 10, key: (r: Q) => r.q, signal: (r: Q) => (r.id === 1 ? controller.signal : undefined) };
      scheduler.schedule(() => controller.abort('gone'), 3);
      expectObservable(source.pipe(leanBatchDedup(options), map((r) => [r.request.id, r.value ?? r.error, r.deduplicated]))).toBe(expected, {
        x: [1, 'gone', false],
        y: [2, 'x#2', false],
      });
    });
  });
});

/**
 * Reliability row 33 on the lean path: a request withdrawn while it waits takes its slot out of the queue at once.
 * Each case runs on the lean core and on the engine (the main entry's `batchDedup`), which must agree.
 */
describe.each([
  ['lean core', leanBatchDedup],
  ['engine', batchDedup],
] as const)('%s: a withdrawn request leaves the queue at once', (_, operator) => {
  /** `operator` with `signal(request)` aborting at `abortAt` for the requests named in it. */
  function run(source: string, options: object, abortAt: Record<string, number>, expected: string, values: object, sent: [number, string[]][]): void {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const controllers = new Map(Object.keys(abortAt).map((r) => [r, new AbortController()]));
      for (const [r, at] of Object.entries(abortAt)) scheduler.schedule(() => controllers.get(r)!.abort('gone'), at);
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const all = { execute: backend.execute, signal: (r: string) => controllers.get(r)?.signal, ...options };
      expectObservable(hot(source).pipe(operator(all), map(outcome))).toBe(expected, values);
      scheduler.schedule(() => expect(backend.calls.map((c) => [c.at, c.items])).toEqual(sent), 39);
    });
  }

  it('no longer counts toward maxSize: the batch fills with the requests still waiting', () => {
    // Counted, a would fill the batch at c (frame 3) with b and c only; out, the batch waits for d.
    run(' ab-c-d------|', { windowMs: 20, maxSize: 3 }, { a: 2 }, '  --w--(xyz)--|', {
      w: { request: 'a', error: 'gone' },
      x: { request: 'b', value: 'B' },
      y: { request: 'c', value: 'C' },
      z: { request: 'd', value: 'D' },
    }, [[5, ['b', 'c', 'd']]]);
  });

  it('no longer counts toward minSize: a window left below it is held to maxWaitMs', () => {
    // Counted, a would bring the window to minSize and b would go at its end (frame 5); out, b waits to 1 + 20.
    run(' ab-------------------------------|', { windowMs: 5, minSize: 2, maxWaitMs: 20 }, { a: 2 }, '  --w------------------x-----------|', {
      w: { request: 'a', error: 'gone' },
      x: { request: 'b', value: 'B' },
    }, [[21, ['b']]]);
  });

  it('no longer holds maxWaitMs from its arrival: it counts from the oldest request still waiting', () => {
    run(' a-----b----------------|', { windowMs: Infinity, maxWaitMs: 10 }, { a: 3 }, '  ---w------------x------|', {
      w: { request: 'a', error: 'gone' },
      x: { request: 'b', value: 'B' },
    }, [[16, ['b']]]);
  });

  it('takes no join: an equal request arriving after it left waits in a slot of its own, from its own arrival', () => {
    // A is equal to a by its key; only a has a signal.
    run(' a---A---------------|', { windowMs: 10, maxWaitMs: 10, key: (r: string) => r.toLowerCase() }, { a: 2 }, '  --w-----------x-----|', {
      w: { request: 'a', error: 'gone' },
      x: { request: 'A', value: 'A' },
    }, [[14, ['A']]]);
  });
});

describe('lean core: timeouts and signals', () => {
  it('rejects a batch past processingTimeoutMs with BatchTimeoutError and aborts its signal', () => {
    const scheduler = testScheduler();
    const contexts: ExecuteContext[] = [];
    scheduler.run(({ hot, expectObservable }) => {
      const execute = (_items: string[], context: ExecuteContext) => {
        contexts.push(context);
        return NEVER;
      };
      const source = hot(' a------|');
      const expected = '  ---------(x|)';
      expectObservable(source.pipe(leanBatchDedup({ execute, windowMs: 2, processingTimeoutMs: 7 }), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'BatchTimeoutError' },
      });
    });
    expect(contexts[0]!.signal.aborted).toBe(true);
  });

  it('rejects a request still waiting requestTimeoutMs after its arrival, at that frame, and never sends it', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const source = hot(' a-b-----------------|');
      const expected = '  ----x-y-------------|';
      const options = { execute: backend.execute, windowMs: 5, minSize: 3, maxWaitMs: 16, requestTimeoutMs: 4 };
      expectObservable(source.pipe(leanBatchDedup(options), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'BatchTimeoutError' },
        y: { request: 'b', error: 'BatchTimeoutError' },
      });
      scheduler.schedule(() => expect(backend.calls).toEqual([]), 20);
    });
  });

  it('answers a request whose signal aborts while it waits at that frame with the reason, and never sends it', () => {
    const scheduler = testScheduler();
    const controller = new AbortController();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 0, compute: upper });
      const source = hot(' a-b---------|');
      const expected = '  ---x------y-|';
      const options = {
        execute: backend.execute,
        windowMs: 10,
        signal: (request: string) => (request === 'a' ? controller.signal : undefined),
      };
      scheduler.schedule(() => controller.abort('gone'), 3);
      expectObservable(source.pipe(leanBatchDedup(options), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'gone' },
        y: { request: 'b', value: 'B' },
      });
      scheduler.schedule(() => expect(backend.calls.map((c) => c.items)).toEqual([['b']]), 12);
    });
  });
});

describe('lean core: joins of a request equal to one executing', () => {
  it('lets an equal request arriving while one executes share that execution', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot(' a-----a---------|');
      const expected = '  ------------(xy)|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 2 }))).toBe(expected, {
        x: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: false, latencyMs: 12 },
        y: { request: 'a', status: 'fulfilled', value: 'A', batchId: 1, deduplicated: true, latencyMs: 6 },
      });
      scheduler.schedule(() => expect(backend.calls.length).toBe(1), 14);
    });
  });

  it('does not hold a request that joined an execution to requestTimeoutMs: it waits for no batch', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot(' a-----a---------|');
      const expected = '  ------------(xy)|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 2, requestTimeoutMs: 5 }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'a', value: 'A' },
      });
    });
  });

  it('sends an equal request again with dedupInFlight: false', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper });
      const source = hot(' a-----a-------------|');
      const expected = '  ------------x-----y-|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 2, dedupInFlight: false }), map(outcome))).toBe(
        expected,
        { x: { request: 'a', value: 'A' }, y: { request: 'a', value: 'A' } },
      );
    });
  });

  it('never joins an execution of another scope', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      type Q = { user: string; q: string };
      const backend = simulatedBackend<Q, string>({ scheduler, durationMs: () => 10, compute: (r) => `${r.user}:${r.q}` });
      const source = hot(' a-----b-------------|', { a: { user: 'ann', q: 'x' }, b: { user: 'bob', q: 'x' } });
      const expected = '  ------------x-----y-|';
      const options = { execute: backend.execute, windowMs: 2, key: (r: Q) => r.q, scope: (r: Q) => r.user };
      expectObservable(source.pipe(leanBatchDedup(options), map((r) => r.value))).toBe(expected, { x: 'ann:x', y: 'bob:x' });
    });
  });

  it('gives a joined request the error of the execution it joined', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 10, compute: upper, failWith: () => new RangeError('down') });
      const source = hot(' a-----a---------|');
      const expected = '  ------------(xy)|';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 2 }), map(outcome))).toBe(expected, {
        x: { request: 'a', error: 'RangeError' },
        y: { request: 'a', error: 'RangeError' },
      });
    });
  });
});

describe('lean core: ending', () => {
  it('sends what waits when the source completes and completes after the last result', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 4, compute: upper });
      const source = hot(' a-b|');
      const expected = '  -------(xy|)';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 50 }), map(outcome))).toBe(expected, {
        x: { request: 'a', value: 'A' },
        y: { request: 'b', value: 'B' },
      });
    });
  });

  it('forwards a source error only after every request received has its result', () => {
    const scheduler = testScheduler();
    scheduler.run(({ hot, expectObservable }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 4, compute: upper });
      const source = hot(' a-#');
      const expected = '  ------(x#)';
      expectObservable(source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 50 }), map(outcome))).toBe(
        expected,
        { x: { request: 'a', value: 'A' } },
      );
    });
  });

  it('leaves no timer after completion', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    scheduler.run(({ hot }) => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 4, compute: upper });
      const controller = new AbortController();
      const source = hot(' a-b-a|');
      const options = { execute: backend.execute, windowMs: 50, requestTimeoutMs: 100, scheduler: tracked.scheduler, signal: () => controller.signal };
      source.pipe(leanBatchDedup(options)).subscribe();
    });
    expect(tracked.pending()).toBe(0);
  });

  it('ends the deadline timer of a request as soon as its signal withdraws it', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const controller = new AbortController();
    const pending: number[] = [];
    scheduler.run(({ hot }) => {
      const source = hot(' a----|');
      const options = { execute: () => NEVER, windowMs: 50, requestTimeoutMs: 100, scheduler: tracked.scheduler, signal: () => controller.signal };
      source.pipe(leanBatchDedup(options)).subscribe();
      scheduler.schedule(() => controller.abort('gone'), 2);
      scheduler.schedule(() => pending.push(tracked.pending()), 6);
    });
    expect(pending).toEqual([0]);
  });

  it('cancels every timer and aborts the execution in flight when unsubscribed', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const contexts: ExecuteContext[] = [];
    scheduler.run(({ hot, expectObservable }) => {
      const execute = (items: string[], context: ExecuteContext) => {
        contexts.push(context);
        return NEVER;
      };
      const source = hot(' a--b-c----------');
      const options = { execute, windowMs: 2, minSize: 1, requestTimeoutMs: 50, scheduler: tracked.scheduler };
      expectObservable(source.pipe(leanBatchDedup(options)), '^----!').toBe('');
    });
    expect(tracked.pending()).toBe(0);
    expect(contexts.map((c) => c.signal.aborted)).toEqual([true]);
  });

  it('removes the abort listener of a request waiting when unsubscribed', () => {
    const scheduler = testScheduler();
    let listeners = 0;
    const signal = {
      aborted: false,
      addEventListener: () => listeners++,
      removeEventListener: () => listeners--,
    } as unknown as AbortSignal;
    scheduler.run(({ hot, expectObservable }) => {
      const source = hot(' a-b------');
      expectObservable(source.pipe(leanBatchDedup({ execute: () => NEVER, windowMs: 10, signal: () => signal })), '^--!').toBe('');
    });
    expect(listeners).toBe(0);
  });

  it('takes a request pushed while it answers (re-entrant) as a new request, answered once in a batch of its own', () => {
    const scheduler = testScheduler();
    const seen: [number, string, number][] = [];
    scheduler.run(() => {
      const backend = simulatedBackend({ scheduler, durationMs: () => 1, compute: upper });
      const source = new Subject<string>();
      source.pipe(leanBatchDedup({ execute: backend.execute, windowMs: 2 })).subscribe((r) => {
        seen.push([scheduler.now(), r.request, r.batchId]);
        if (seen.length === 1) source.next('a');
      });
      scheduler.schedule(() => source.next('a'), 1);
      scheduler.schedule(() => source.complete(), 20);
    });
    expect(seen).toEqual([
      [4, 'a', 1],
      [7, 'a', 2],
    ]);
  });
});
