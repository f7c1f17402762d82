/**
 * H-ATK1: `close()`, `configure()` and a source's end called re-entrantly from inside a user function that the
 * engine calls while it takes a request in (`key`, `scope`, `priority`). Found by probing: before the fix,
 *
 * - `close()` from inside `key(request)` let the engine drain (and `close()` resolve) before that very request
 *   was queued: its promise never settled (and a source completing from inside `key` completed the operator's
 *   output before that request's result);
 * - `configure({ key })` from inside `key(request)` left that request keyed under the old key in the new
 *   settings' table, so a later request equal to it under the old key only was answered with its result.
 */
import { map, Subject, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, type BatchResult, type Batcher } from '../src/index.js';
import { createBatcher as createLiteBatcher } from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain, runFor } from './support.js';
import { engine, priorities } from '../src/lite/index.js';

type Hook = 'key' | 'scope' | 'priority';
const HOOKS: readonly Hook[] = ['key', 'scope', 'priority'];
/** /lite on the engine: the object that brings it given to every batcher (the lean core is the `lite` entry). */
const liteOnEngine = ((options: object) => createLiteBatcher({ ...(options as { execute: () => [] }), engine: engine() })) as typeof createLiteBatcher;
const ENTRIES = [
  ['main', createBatcher],
  ['lite', createLiteBatcher],
  ['lite with engine()', liteOnEngine],
] as const;
/** configure() is the engine's: /lite's lean core has none (it throws naming engine()). */
const CONFIGURABLE = [
  ['main', createBatcher],
  ['lite with engine()', liteOnEngine],
] as const;

/** A batcher whose `hook` runs `onHook(request)` before answering as the identity would (key, no scope, priority 0). */
function batcherWithHook(
  // /lite's type: the main entry's createBatcher takes its options too (the reverse is refused: /lite has no flat forms).
  make: typeof createLiteBatcher,
  hook: Hook,
  onHook: (batcher: Batcher<string, string>, request: string) => void,
) {
  const clock = virtualClock();
  const calls: string[][] = [];
  const options = {
    scheduler: clock.scheduler,
    windowMs: 5,
    execute: (items: string[]) => {
      calls.push([...items]);
      return items.map((q) => q.toUpperCase());
    },
    ...(hook === 'priority' ? { priorities: priorities() } : {}),
    [hook]: (request: string) => {
      onHook(batcher, request);
      return hook === 'key' ? request : hook === 'scope' ? undefined : 0;
    },
  };
  const batcher = make<string, string>(options) as Batcher<string, string>;
  return { clock, calls, batcher };
}

describe.each(ENTRIES)('createBatcher (%s): close() from inside a user function', (_, make) => {
  it.each(HOOKS)('called from %s(request) answers that request before close() resolves', async (hook) => {
    let closing: Promise<void> | undefined;
    const { clock, batcher } = batcherWithHook(make, hook, (b, request) => {
      if (request === 'closer' && closing === undefined) closing = b.close();
    });
    const first = batcher.process('first');
    let answer: unknown = 'none yet';
    const closer = batcher.process('closer').then(
      (value) => (answer = value),
      (error: unknown) => (answer = error),
    );
    let closedFirst = false;
    await drain(clock, closing!.then(() => {
      closedFirst = answer === 'none yet';
    }));
    await drain(clock, closer.then(() => undefined));
    await expect(first).resolves.toBe('FIRST');
    expect(answer).toBe('CLOSER');
    expect(closedFirst).toBe(false);
  });
});

describe('batchDedup: the source completing from inside a user function', () => {
  it.each(HOOKS)('from %s(request): that request still gets its result before the output completes', (hook) => {
    const clock = virtualClock();
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    let completed = false;
    let resultsAtCompletion = -1;
    source
      .pipe(
        batchDedup<string, string>({
          scheduler: clock.scheduler,
          windowMs: 5,
          execute: (items) => items.map((q) => q.toUpperCase()),
          ...(hook === 'priority' ? { priorities: priorities() } : {}),
          [hook]: (request: string) => {
            if (request === 'last') source.complete();
            return hook === 'key' ? request : hook === 'scope' ? undefined : 0;
          },
        }),
      )
      .subscribe({
        next: (r) => results.push(r),
        complete: () => {
          completed = true;
          resultsAtCompletion = results.length;
        },
      });
    source.next('first');
    source.next('last');
    clock.runAll();
    expect(completed).toBe(true);
    expect(resultsAtCompletion).toBe(2);
    expect(results.map((r) => [r.request, r.status === 'fulfilled' ? r.value : r.error])).toEqual([
      ['first', 'FIRST'],
      ['last', 'LAST'],
    ]);
  });
});

describe('batchDedup: the source completing from inside a user function that then fails', () => {
  it.each(['key', 'priority'] as const)('%s(request) throwing after the source completed: its request is rejected, then the output completes', (hook) => {
    const clock = virtualClock();
    const source = new Subject<string>();
    const results: BatchResult<string, string>[] = [];
    let resultsAtCompletion = -1;
    source
      .pipe(
        batchDedup<string, string>({
          scheduler: clock.scheduler,
          windowMs: 5,
          execute: (items) => items.map((q) => q.toUpperCase()),
          ...(hook === 'priority' ? { priorities: priorities() } : {}),
          [hook]: (request: string) => {
            if (request === 'last') {
              source.complete();
              throw new Error('broken after the end');
            }
            return hook === 'key' ? request : 0;
          },
        }),
      )
      .subscribe({ next: (r) => results.push(r), complete: () => (resultsAtCompletion = results.length) });
    source.next('first');
    source.next('last');
    clock.runAll();
    expect(resultsAtCompletion).toBe(2);
    expect(results.map((r) => [r.request, r.status])).toEqual([
      ['first', 'fulfilled'],
      ['last', 'rejected'],
    ]);
    expect(String(results[1]!.status === 'rejected' && results[1]!.error)).toContain(`${hook}(request) threw`);
  });
});

describe.each(CONFIGURABLE)('createBatcher (%s): configure() from inside a user function', (_, make) => {
  it.each(HOOKS)('a request keyed while %s(request) changes the key is never answered with a request unequal to it under the new key', async (hook) => {
    const clock = virtualClock();
    const calls: string[][] = [];
    let changed = false;
    const batcher = make<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      execute: (items) => {
        calls.push([...items]);
        return items.map((q) => q.toUpperCase());
      },
      // Every request is 'x' under this key; the key configure() sets makes each request its own.
      key: (request) => {
        if (hook === 'key' && request === 'changer' && !changed) {
          changed = true;
          batcher.configure({ key: (r: string) => r });
        }
        return 'x';
      },
      ...(hook === 'priority' ? { priorities: priorities() } : {}),
      ...(hook === 'key'
        ? {}
        : {
            [hook]: (request: string) => {
              if (request === 'changer' && !changed) {
                changed = true;
                batcher.configure({ key: (r: string) => r });
              }
              return hook === 'scope' ? undefined : 0;
            },
          }),
    }) as Batcher<string, string>;
    const changer = batcher.process('changer');
    const later = batcher.process('x'); // arrives under the new key alone: it equals no other request
    await runFor(clock, 10);
    await expect(changer).resolves.toBe('CHANGER');
    await expect(later).resolves.toBe('X');
    await batcher.close();
  });
});

describe('createBatcher: close() from inside key(request) while every execution slot is taken', () => {
  it('answers that request once a slot frees, and close() resolves after it', async () => {
    const clock = virtualClock();
    let closing: Promise<void> | undefined;
    const calls: string[][] = [];
    const batcher: Batcher<string, string> = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 0,
      concurrency: 1,
      execute: (items) => {
        calls.push([...items]);
        return timer(10, clock.scheduler).pipe(map(() => items.map((q) => q.toUpperCase())));
      },
      key: (request) => {
        if (request === 'closer' && closing === undefined) closing = batcher.close();
        return request;
      },
    });
    const first = batcher.process('first');
    await runFor(clock, 2); // 'first' executes, holding the only slot
    let answer: unknown = 'none yet';
    const closer = batcher.process('closer').then(
      (value) => (answer = value),
      (error: unknown) => (answer = error),
    );
    let closedFirst = false;
    await drain(clock, closing!.then(() => {
      closedFirst = answer === 'none yet';
    }));
    await drain(clock, closer.then(() => undefined));
    await expect(first).resolves.toBe('FIRST');
    expect(answer).toBe('CLOSER');
    expect(closedFirst).toBe(false);
    expect(calls).toEqual([['first'], ['closer']]);
  });
});
