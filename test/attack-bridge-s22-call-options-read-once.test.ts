/**
 * H-BR, stop 22: per-call options given as an object with getters (a live settings object, a Proxy). Each option
 * must be read once: the value checked is the value used. Before the fix, main's `process` read `timeoutMs` four
 * times and used the fourth read, which nothing had checked (a getter answering `50` three times and then `-1`
 * set a deadline of -1 ms: the request was rejected at once with "no result within -1 ms"), and read `scope` and
 * `priority` again after checking them. And an option that threw when read came out as the raw error (`boom`),
 * naming neither the call nor the option, on main, `/lite` with `engine()` and the lean core; `configure()`
 * already read each field once and named it (reliability row 89).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Made {
  process(request: string, options?: object): Promise<string>;
  processAll(requests: Iterable<string>, options?: object): Promise<string[]>;
  close(): Promise<void>;
}
const makers: [string, (options: object) => Made][] = [
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
];

/** Options whose `name` reads as `values`, one per read, the last one from then on. */
function reading(name: string, values: unknown[]): object {
  let reads = 0;
  return Object.defineProperty({}, name, { enumerable: true, get: () => values[Math.min(reads++, values.length - 1)] });
}

describe.each(makers)('%s: per-call options with getters', (_name, make) => {
  function setup() {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = make({
      scheduler: clock.scheduler,
      windowMs: 5,
      execute: (items: string[]) => {
        calls.push(items);
        return items.map((item) => item.toUpperCase());
      },
    });
    return { clock, calls, batcher };
  }

  it('timeoutMs read as 50 first: the call has a deadline of 50 ms, whatever later reads say', async () => {
    const { clock, batcher } = setup();
    const x = batcher.process('x', reading('timeoutMs', [50, 50, 50, -1])).catch((error: unknown) => error);
    clock.advanceBy(10);
    expect(await x).toBe('X');
    await batcher.close();
  });

  it('scope read as a string first: an object read later is never used as the scope', async () => {
    const { clock, calls, batcher } = setup();
    const x = batcher.process('x', reading('scope', ['t', 't', {}]));
    const y = batcher.process('x', { scope: 't' });
    clock.advanceBy(10);
    expect([await x, await y]).toEqual(['X', 'X']);
    // Both in scope 't': one item for the two.
    expect(calls).toEqual([['x']]);
    await batcher.close();
  });

  it.each([
    ['timeoutMs', 'process'],
    ['scope', 'process'],
    ['signal', 'processAll'],
  ])('an option %s that throws when read rejects the %s call naming it', async (name, method) => {
    const { clock, calls, batcher } = setup();
    const options = Object.defineProperty({}, name, {
      enumerable: true,
      get: () => {
        throw new Error('boom');
      },
    });
    const outcome = (method === 'process' ? batcher.process('x', options) : batcher.processAll(['x'], options)).catch((error: unknown) => error);
    clock.advanceBy(10);
    const error = (await outcome) as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(`createBatcher.process: options.${name} could not be read (boom)`);
    await batcher.close();
    expect(calls).toEqual([]);
  });
});

describe('main: priority read once', () => {
  it('priority read as 1 first: the request is ordered by 1, never by a NaN read later', async () => {
    const clock = virtualClock();
    const calls: string[][] = [];
    const batcher = createMainBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      maxSize: 1,
      concurrency: 1,
      enablePriorities: true,
      // Each call takes 1 ms: the others wait, and leave the queue by priority.
      execute: (items) => {
        calls.push(items);
        return new Promise<string[]>((resolve) => clock.scheduler.schedule(() => resolve(items), 1));
      },
    });
    const answers = Promise.all([
      batcher.process('first', { priority: 0 }),
      batcher.process('mid', { priority: 1.5 }),
      batcher.process('high', reading('priority', [1, 1, 1, NaN]) as { priority: number }),
      batcher.process('higher', { priority: 2 }),
      batcher.process('low', { priority: -1 }),
    ]);
    for (let ms = 0; ms < 10; ms++) {
      clock.advanceBy(1);
      for (let turn = 0; turn < 10; turn++) await Promise.resolve();
    }
    expect(await answers).toEqual(['first', 'mid', 'high', 'higher', 'low']);
    await batcher.close();
    expect(calls).toEqual([['first'], ['higher'], ['mid'], ['high'], ['low']]);
  });
});
