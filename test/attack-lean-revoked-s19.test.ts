/**
 * H-ATK5, stop 19: an `execute` that returns a revoked Proxy (every operation on it throws, `Array.isArray`
 * included) fails its batch: each of its requests is rejected with the TypeError, and the batcher goes on. Before
 * the fix, `/lite`'s lean core called `Array.isArray` on what `execute` returned outside any try: the TypeError
 * escaped the batch, out of the window's timer (an uncaught exception on the real clock) or out of the
 * `process()` call that filled the batch (rejecting that caller alone), the batch stayed counted as running, its
 * other requests were never answered and `close()` never resolved. Main and `/lite` with `engine()` run the same
 * cases.
 */
import { describe, expect, it } from 'vitest';
import { from, lastValueFrom, toArray } from 'rxjs';
import { batchDedup as liteBatchDedup, createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { batchDedup as mainBatchDedup, createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

/** A Proxy of an array, revoked before it is returned. */
function revoked(): unknown {
  const { proxy, revoke } = Proxy.revocable<string[]>([], {});
  revoke();
  return proxy;
}

/** A backend that answers the first call with a revoked Proxy, and every later one properly. */
function backend() {
  const calls: string[][] = [];
  return {
    calls,
    execute: (items: string[]) => {
      calls.push(items);
      return calls.length === 1 ? revoked() : items.map((item) => item.toUpperCase());
    },
  };
}

interface Made {
  process(request: string): Promise<string>;
  close(): Promise<void>;
}
const batchers: [string, (options: object) => Made][] = [
  ['/lite lean core', (options) => createLiteBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
];

const settle = (answer: Promise<string>) =>
  answer.then(
    (value) => `=${value}`,
    (error: unknown) => `!${(error as Error).name}`,
  );

describe.each(batchers)('%s: execute returns a revoked Proxy', (_name, make) => {
  it('formed by its window: every request of the batch is rejected with a TypeError, the next batch runs, close() resolves', async () => {
    const clock = virtualClock();
    const b = backend();
    const batcher = make({ scheduler: clock.scheduler, windowMs: 5, execute: b.execute });
    const first = [batcher.process('a'), batcher.process('b'), batcher.process('a')].map(settle);
    expect(() => clock.advanceBy(5)).not.toThrow();
    expect(await Promise.all(first)).toEqual(['!TypeError', '!TypeError', '!TypeError']);
    const next = settle(batcher.process('c'));
    clock.advanceBy(5);
    expect(await next).toBe('=C');
    await batcher.close();
    expect(b.calls).toEqual([['a', 'b'], ['c']]);
  });

  it('formed inside the process() that fills it (maxSize): every request of the batch is rejected, close() resolves', async () => {
    const clock = virtualClock();
    const b = backend();
    const batcher = make({ scheduler: clock.scheduler, windowMs: 5, maxSize: 2, execute: b.execute });
    const first = [batcher.process('a'), batcher.process('b')].map(settle);
    expect(await Promise.all(first)).toEqual(['!TypeError', '!TypeError']);
    await batcher.close();
    expect(b.calls).toEqual([['a', 'b']]);
  });
});

describe.each(batchers)('%s: a thenable answers with a revoked Proxy', (_name, make) => {
  it('every request of the batch is rejected with a TypeError, close() resolves', async () => {
    const clock = virtualClock();
    const batcher = make({ scheduler: clock.scheduler, windowMs: 5, execute: () => ({ then: (answer: (value: unknown) => void) => answer(revoked()) }) });
    const first = [batcher.process('a'), batcher.process('b')].map(settle);
    clock.advanceBy(5);
    expect(await Promise.all(first)).toEqual(['!TypeError', '!TypeError']);
    await batcher.close();
  });
});

describe.each([
  ['/lite lean core', liteBatchDedup],
  ['main', mainBatchDedup],
] as const)('%s batchDedup: execute returns a revoked Proxy', (_name, batchDedup) => {
  it('emits one rejected result per request of that batch, then the next batch, then completes', async () => {
    const b = backend();
    const results = await lastValueFrom(
      from(['a', 'b', 'c']).pipe(batchDedup<string, string>({ maxSize: 2, windowMs: 1, execute: b.execute as never }), toArray()),
    );
    expect(results.map((r) => (r.status === 'fulfilled' ? `${r.request}=${r.value}` : `${r.request}!${(r.error as Error).name}`))).toEqual(['a!TypeError', 'b!TypeError', 'c=C']);
  });
});
