/**
 * H-ATK5, stop 19: a batch's `context.signal` aborts only when the library stops the call (its processing
 * timeout, every caller gone, an unsubscription), never after the backend has answered. Before the fix, `/lite`'s
 * lean batcher aborted the signal of the batch that answered the last request owed at `close()`: answering that
 * request disposed the core while the batch was still listed as running, and `dispose` aborted it (reason: a bare
 * AbortError). A backend that ties work to the signal (a stream it reads, a lease it holds) saw an abort after
 * answering. Main's batcher and `/lite` with `engine()` never did; they run the same cases.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import type { ExecuteContext } from '../src/types.js';

type Execute = (items: string[], context: ExecuteContext) => unknown;
interface Made {
  process(request: string): Promise<string>;
  close(): Promise<void>;
}

const makers: [string, (options: { scheduler: unknown; windowMs: number; execute: Execute }) => Made][] = [
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
];

/** The signals the backend was given, read inside `execute` (so the lazy controller is made), and their aborts. */
function watched() {
  const signals: AbortSignal[] = [];
  const aborts: unknown[] = [];
  return {
    signals,
    aborts,
    read(context: ExecuteContext) {
      const signal = context.signal;
      signals.push(signal);
      signal.addEventListener('abort', () => aborts.push(signal.reason));
    },
  };
}

describe.each(makers)('%s: a batch that answered is never aborted at close()', (_name, make) => {
  it('a promise resolved after close(): its signal stays unaborted once close() resolves', async () => {
    const clock = virtualClock();
    const w = watched();
    let answerWith!: (results: string[]) => void;
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items, context) => {
        w.read(context);
        return new Promise<string[]>((resolve) => (answerWith = resolve));
      },
    });
    const answer = batcher.process('a');
    clock.advanceBy(1);
    const closing = batcher.close();
    answerWith(['A']);
    expect(await answer).toBe('A');
    await closing;
    expect(w.signals).toHaveLength(1);
    expect(w.aborts).toEqual([]);
    expect(w.signals[0]!.aborted).toBe(false);
  });

  it('a promise rejected after close(): its signal stays unaborted', async () => {
    const clock = virtualClock();
    const w = watched();
    let failWith!: (error: unknown) => void;
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 1,
      execute: (items, context) => {
        w.read(context);
        return new Promise<string[]>((_resolve, reject) => (failWith = reject));
      },
    });
    const answer = batcher.process('a').catch((error: unknown) => error);
    clock.advanceBy(1);
    const closing = batcher.close();
    const failure = new Error('backend down');
    failWith(failure);
    expect(await answer).toBe(failure);
    await closing;
    expect(w.aborts).toEqual([]);
    expect(w.signals[0]!.aborted).toBe(false);
  });

  it('an array returned at once by the batch close() flushes: its signal stays unaborted', async () => {
    const clock = virtualClock();
    const w = watched();
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 1000,
      execute: (items, context) => {
        w.read(context);
        return items.map((item) => item.toUpperCase());
      },
    });
    const answers = Promise.all([batcher.process('a'), batcher.process('b')]);
    await batcher.close();
    expect(await answers).toEqual(['A', 'B']);
    expect(w.signals).toHaveLength(1);
    expect(w.aborts).toEqual([]);
    expect(w.signals[0]!.aborted).toBe(false);
  });

  it('an execute that throws in the batch close() flushes: its signal stays unaborted', async () => {
    const clock = virtualClock();
    const w = watched();
    const failure = new Error('refused');
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 1000,
      execute: (items, context) => {
        w.read(context);
        throw failure;
      },
    });
    const answer = batcher.process('a').catch((error: unknown) => error);
    await batcher.close();
    expect(await answer).toBe(failure);
    expect(w.aborts).toEqual([]);
    expect(w.signals[0]!.aborted).toBe(false);
  });
});
