/**
 * H-BR, stop 22: the error a request gets when its `key(request)` or `scope(request)` throws or returns what no
 * key may be names the call that took the request in (`createBatcher: key(request) threw: ...`, reliability rows
 * 16 and 32). Before the fix, once `configure()` had been called, with any change (`{ windowMs: 1 }`), the key and
 * scope were rebuilt under configure's name and every such error said `createBatcher.configure: key(request)
 * threw: ...`, blaming a configure() call that had succeeded long before, on main and `/lite` with `engine()`.
 * `configure()`'s own refusals keep `createBatcher.configure:` (row 34).
 */
import { describe, expect, it } from 'vitest';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { createBatcher as createMainBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Req {
  readonly key: unknown;
}
interface Made {
  process(request: Req): Promise<string>;
  configure(options: object): void;
  close(): Promise<void>;
}
const makers: [string, (options: object) => Made][] = [
  ['main', (options) => createMainBatcher(options as never) as unknown as Made],
  ['/lite with engine()', (options) => createLiteBatcher({ ...options, engine: engine() } as never) as unknown as Made],
];

function failing(request: Req): unknown {
  if (request.key === 'throw') throw new Error('no key');
  return request.key;
}

describe.each(makers)('%s: a key or scope that fails after a configure()', (_name, make) => {
  function setup(options: object) {
    const clock = virtualClock();
    const batcher = make({ scheduler: clock.scheduler, windowMs: 0, execute: (items: Req[]) => items.map((r) => String(r.key)), ...options });
    return { clock, batcher };
  }

  async function errorOf(batcher: Made, clock: ReturnType<typeof virtualClock>, request: Req): Promise<string> {
    const outcome = batcher.process(request).catch((error: unknown) => error);
    clock.advanceBy(1);
    return String(await outcome);
  }

  it.each<[object, string]>([
    [{ windowMs: 1 }, 'a change of windowMs'],
    [{ key: failing }, 'the same key restated'],
  ])('key(request) that throws, after configure(%o) (%s): the error names createBatcher, as before it', async (change, _what) => {
    const { clock, batcher } = setup({ key: failing });
    const before = await errorOf(batcher, clock, { key: 'throw' });
    expect(before).toBe('TypeError: createBatcher: key(request) threw: no key');
    batcher.configure(change);
    expect(await errorOf(batcher, clock, { key: 'throw' })).toBe(before);
    await batcher.close();
  });

  it('key(request) that returns NaN, after a configure(): the error names createBatcher', async () => {
    const { clock, batcher } = setup({ key: failing });
    batcher.configure({ maxSize: 3 });
    expect(await errorOf(batcher, clock, { key: NaN })).toMatch(/^TypeError: createBatcher: key\(request\) returned NaN; /);
    await batcher.close();
  });

  it('scope(request) that throws, after a configure(): the error names createBatcher', async () => {
    const { clock, batcher } = setup({
      scope: () => {
        throw new Error('no scope');
      },
    });
    batcher.configure({ windowMs: 2 });
    expect(await errorOf(batcher, clock, { key: 'a' })).toBe('TypeError: createBatcher: scope(request) threw: no scope');
    await batcher.close();
  });
});
