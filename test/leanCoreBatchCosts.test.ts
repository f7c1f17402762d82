/**
 * The lean core's per-batch costs (src/lite/core.ts, stop 18): a batch's AbortController is made only when its
 * signal is read, and still aborts as before for a signal read after the stop. Counted, never timed: everything
 * runs synchronously on a virtual clock.
 */
import { VirtualTimeScheduler, type SchedulerAction, type SchedulerLike, type Subscription } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { leanCore, leanSettings, type LeanEntry, type LeanExecuteFn } from '../src/lite/core.js';
import { BatchTimeoutError } from '../src/errors.js';
import type { ExecuteContext } from '../src/types.js';

interface Answer {
  request: string;
  ok: boolean;
  value: unknown;
}

const RealAbortController = globalThis.AbortController;
let controllersMade = 0;

/** Counts the AbortControllers made from now on. */
function countControllers(): void {
  controllersMade = 0;
  globalThis.AbortController = class extends RealAbortController {
    constructor() {
      super();
      controllersMade++;
    }
  };
}

afterEach(() => {
  globalThis.AbortController = RealAbortController;
  vi.restoreAllMocks();
});

/** A lean core on a virtual clock: a batch forms inside the `maxSize`th push, or 5 ms after the first. */
function core(execute: LeanExecuteFn<string, string>, options: { maxSize?: number; processingTimeoutMs?: number } = {}) {
  const scheduler = new VirtualTimeScheduler();
  const answers: Answer[] = [];
  const lean = leanCore<string, string, LeanEntry<string>>(
    leanSettings('test', { execute, scheduler, maxSize: options.maxSize ?? 2, windowMs: 5, processingTimeoutMs: options.processingTimeoutMs }),
    {
      answer: (entry, ok, value) => void answers.push({ request: entry.request, ok, value }),
      drained: () => undefined,
    },
  );
  const push = (request: string) => lean.push({ request, at: scheduler.now() });
  const advanceTo = (frame: number) => {
    scheduler.maxFrames = frame;
    scheduler.flush();
  };
  return { lean, push, answers, scheduler, advanceTo };
}

describe('lean core: the batch context', () => {
  it('makes no AbortController for batches whose execute never reads the signal', () => {
    countControllers();
    const { push, answers } = core((items) => items.map((item) => `=${item}`));
    for (let i = 0; i < 10; i++) push(`k${i}`);
    expect(answers).toHaveLength(10);
    expect(controllersMade).toBe(0);
  });

  it('makes no AbortController when a batch whose signal was never read times out', () => {
    countControllers();
    const { push, answers, advanceTo } = core(() => new Promise<string[]>(() => undefined), { processingTimeoutMs: 50 });
    push('a');
    push('b');
    advanceTo(100);
    expect(answers.map((a) => a.value instanceof BatchTimeoutError)).toEqual([true, true]);
    expect(controllersMade).toBe(0);
  });

  it('hands out a signal aborted with the BatchTimeoutError when it is first read after the timeout', () => {
    let context: ExecuteContext | undefined;
    const { push, answers, advanceTo } = core(
      (_items, c) => {
        context = c;
        return new Promise<string[]>(() => undefined);
      },
      { processingTimeoutMs: 50 },
    );
    push('a');
    push('b');
    advanceTo(100);
    expect(answers).toHaveLength(2);
    const signal = context!.signal;
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(BatchTimeoutError);
    expect(signal.reason).toBe(answers[0]!.value);
  });

  it('aborts a signal read before the timeout with the BatchTimeoutError when the timeout passes', () => {
    let signal: AbortSignal | undefined;
    const { push, answers, advanceTo } = core(
      (_items, c) => {
        signal = c.signal;
        return new Promise<string[]>(() => undefined);
      },
      { processingTimeoutMs: 50 },
    );
    push('a');
    push('b');
    expect(signal!.aborted).toBe(false);
    advanceTo(100);
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(answers[0]!.value);
    expect(signal!.reason).toBeInstanceOf(BatchTimeoutError);
  });

  it('hands out a signal aborted (reason undefined) when first read after dispose', () => {
    let context: ExecuteContext | undefined;
    const { lean, push } = core((_items, c) => {
      context = c;
      return new Promise<string[]>(() => undefined);
    });
    push('a');
    push('b');
    lean.dispose();
    expect(context!.signal.aborted).toBe(true);
  });

  it('reads the same signal twice, and gives each batch its own batchId', () => {
    const contexts: ExecuteContext[] = [];
    const { push } = core((items, c) => {
      contexts.push(c);
      return items;
    });
    for (const k of ['a', 'b', 'c', 'd']) push(k);
    expect(contexts.map((c) => c.batchId)).toEqual([1, 2]);
    expect(contexts[0]!.signal).toBe(contexts[0]!.signal);
    expect(contexts[0]!.signal).not.toBe(contexts[1]!.signal);
    expect(contexts[0]!.individual).toBe(false);
  });
});

/** A thenable whose `then` getter is counted, and that runs `body` with the callbacks when called. */
function thenable(body: (resolve: (value: unknown) => void, reject: (error: unknown) => void) => void) {
  const reads = { count: 0 };
  const output = {
    get then() {
      reads.count++;
      return (resolve: (value: unknown) => void, reject: (error: unknown) => void) => body(resolve, reject);
    },
  };
  return { output, reads };
}

describe('lean core: a promise answer', () => {
  it('reads the `then` of a thenable once and calls it directly (from() read it twice)', () => {
    const { output, reads } = thenable((resolve) => resolve(['=a', '=b']));
    const { push, answers } = core(() => output as unknown as string[]);
    push('a');
    push('b');
    expect(reads.count).toBe(1);
    expect(answers).toEqual([
      { request: 'a', ok: true, value: '=a' },
      { request: 'b', ok: true, value: '=b' },
    ]);
  });

  it('takes the first outcome of a thenable that calls back twice and then throws', () => {
    const { output } = thenable((resolve, reject) => {
      resolve(['=a', '=b']);
      resolve(['x', 'y']);
      reject(new Error('late'));
      throw new Error('after');
    });
    const { push, answers } = core(() => output as unknown as string[]);
    push('a');
    push('b');
    expect(answers.map((a) => [a.ok, a.value])).toEqual([
      [true, '=a'],
      [true, '=b'],
    ]);
  });

  it('fails the batch with what a `then` throws before calling back', () => {
    const boom = new Error('boom');
    const { output } = thenable(() => {
      throw boom;
    });
    const { push, answers } = core(() => output as unknown as string[]);
    push('a');
    push('b');
    expect(answers.map((a) => a.value)).toEqual([boom, boom]);
  });

  it('fails the batch with a BatchResultMismatchError when the `then` getter throws', async () => {
    const { BatchResultMismatchError } = await import('../src/errors.js');
    const output = {
      get then(): unknown {
        throw new Error('getter');
      },
    };
    const { push, answers } = core(() => output as unknown as string[]);
    push('a');
    push('b');
    expect(answers.map((a) => a.value instanceof BatchResultMismatchError)).toEqual([true, true]);
  });

  it('fails the batch with a BatchResultMismatchError when a promise resolves to the wrong number of results', async () => {
    const { BatchResultMismatchError } = await import('../src/errors.js');
    const { push, answers } = core(() => Promise.resolve(['only one']));
    push('a');
    push('b');
    await Promise.resolve();
    await Promise.resolve();
    expect(answers.map((a) => a.value instanceof BatchResultMismatchError)).toEqual([true, true]);
  });

  it('answers a rejected promise with its reason', async () => {
    const reason = new Error('down');
    const { push, answers } = core(() => Promise.reject(reason));
    push('a');
    push('b');
    await Promise.resolve();
    await Promise.resolve();
    expect(answers.map((a) => [a.ok, a.value])).toEqual([
      [false, reason],
      [false, reason],
    ]);
  });

  it('ignores a promise that resolves after the batch timed out', async () => {
    let resolve: (value: string[]) => void = () => undefined;
    const { push, answers, advanceTo } = core(() => new Promise<string[]>((r) => (resolve = r)), { processingTimeoutMs: 50 });
    push('a');
    push('b');
    advanceTo(100);
    resolve(['=a', '=b']);
    await Promise.resolve();
    await Promise.resolve();
    expect(answers).toHaveLength(2);
    expect(answers.every((a) => a.value instanceof BatchTimeoutError)).toBe(true);
  });
});

describe('lean core: the processing timeout', () => {
  /** The testing helpers' tracked scheduler over a virtual clock, recording the timers of `processingTimeoutMs` 777. */
  async function trackedClock() {
    const { trackTimers } = await import('../src/testing/index.js');
    const tracked = trackTimers(new VirtualTimeScheduler());
    const processing: Subscription[] = [];
    const scheduler: SchedulerLike = {
      now: () => tracked.scheduler.now(),
      schedule<S>(work: (this: SchedulerAction<S>, state?: S) => void, delay?: number, state?: S): Subscription {
        const subscription = tracked.scheduler.schedule<S>(work, delay, state);
        if (delay === 777) processing.push(subscription);
        return subscription;
      },
    };
    return { scheduler, processing, tracked };
  }

  it('schedules no processing timer for a batch answered synchronously (tracked scheduler)', async () => {
    const { scheduler, processing } = await trackedClock();
    const answers: unknown[] = [];
    const lean = leanCore<string, string, LeanEntry<string>>(
      leanSettings('test', { execute: (items: string[]) => items, scheduler, maxSize: 2, windowMs: 5, processingTimeoutMs: 777 }),
      { answer: (_entry, _ok, value) => void answers.push(value), drained: () => undefined },
    );
    for (const k of ['a', 'b', 'c', 'd']) lean.push({ request: k, at: scheduler.now() });
    expect(answers).toEqual(['a', 'b', 'c', 'd']);
    expect(processing).toHaveLength(0);
  });

  it('schedules the processing timer for a batch still running after the call, and cancels it when it answers', async () => {
    const { scheduler, processing, tracked } = await trackedClock();
    let resolve: (value: string[]) => void = () => undefined;
    const answers: unknown[] = [];
    const lean = leanCore<string, string, LeanEntry<string>>(
      leanSettings('test', {
        execute: () => new Promise<string[]>((r) => (resolve = r)),
        scheduler,
        maxSize: 2,
        windowMs: 5,
        processingTimeoutMs: 777,
      }),
      { answer: (_entry, _ok, value) => void answers.push(value), drained: () => undefined },
    );
    lean.push({ request: 'a', at: 0 });
    lean.push({ request: 'b', at: 0 });
    expect(processing.map((s) => s.closed)).toEqual([false]);
    resolve(['=a', '=b']);
    await Promise.resolve();
    await Promise.resolve();
    expect(answers).toEqual(['=a', '=b']);
    expect(processing.map((s) => s.closed)).toEqual([true]);
    lean.close();
    expect(tracked.pending()).toBe(0);
  });

  it('on asyncScheduler, schedules no processing timer for a batch answered by a resolved promise', async () => {
    const { asyncScheduler } = await import('rxjs');
    const schedule = vi.spyOn(asyncScheduler, 'schedule');
    const answers: unknown[] = [];
    const lean = leanCore<string, string, LeanEntry<string>>(
      leanSettings('test', { execute: (items: string[]) => Promise.resolve(items), maxSize: 2, windowMs: 5, processingTimeoutMs: 777 }),
      { answer: (_entry, _ok, value) => void answers.push(value), drained: () => undefined },
    );
    lean.push({ request: 'a', at: asyncScheduler.now() });
    lean.push({ request: 'b', at: asyncScheduler.now() });
    for (let i = 0; i < 5; i++) await Promise.resolve();
    expect(answers).toEqual(['a', 'b']);
    expect(schedule.mock.calls.filter(([, delay]) => delay === 777)).toEqual([]);
    lean.dispose();
  });

  it('on asyncScheduler, arms the processing timer a microtask after the call for a batch still running', async () => {
    const { asyncScheduler } = await import('rxjs');
    const schedule = vi.spyOn(asyncScheduler, 'schedule');
    const lean = leanCore<string, string, LeanEntry<string>>(
      leanSettings('test', { execute: () => new Promise<string[]>(() => undefined), maxSize: 2, windowMs: 5, processingTimeoutMs: 777 }),
      { answer: () => undefined, drained: () => undefined },
    );
    lean.push({ request: 'a', at: asyncScheduler.now() });
    lean.push({ request: 'b', at: asyncScheduler.now() });
    const timers = () => schedule.mock.calls.filter(([, delay]) => typeof delay === 'number' && delay > 700 && delay <= 777).length;
    expect(timers()).toBe(0);
    for (let i = 0; i < 3; i++) await Promise.resolve();
    expect(timers()).toBe(1);
    lean.dispose();
  });
});
