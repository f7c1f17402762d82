/**
 * `rxjs-batch-dedup/lite` refuses the flat forms of the opt-in features at compile time as it does at run time
 * (`// @ts-expect-error` below fails `tsc -p tsconfig.tools.json`, the second step of `npm test`, if its type takes
 * one), and its messages about priorities name `priorities()` and its import, not `enablePriorities`. The main
 * entry point's types and messages stay as they were.
 */
import { describe, expect, it } from 'vitest';
import * as full from '../src/index.js';
import { adaptiveWindow, batchDedup, createBatcher, engine, priorities, resultCache, type BatchDedupOptions } from '../src/lite/index.js';

const echo = async (items: readonly string[]) => items.map((s) => s.toUpperCase());
const IMPORT = /import \{ priorities \} from 'rxjs-batch-dedup\/lite'/;

describe('rxjs-batch-dedup/lite: the flat forms refused by its types too', () => {
  it('createBatcher: adaptive: true, enablePriorities: true and a plain resultCache do not compile, and throw', () => {
    // @ts-expect-error adaptive takes adaptiveWindow() on /lite
    expect(() => createBatcher<string, string>({ execute: echo, adaptive: true })).toThrow(/needs adaptiveWindow\(\)/);
    // @ts-expect-error enablePriorities is not on /lite: priorities: priorities()
    expect(() => createBatcher<string, string>({ execute: echo, enablePriorities: true })).toThrow(/needs priorities\(\)/);
    // @ts-expect-error resultCache takes resultCache() on /lite
    expect(() => createBatcher<string, string>({ execute: echo, resultCache: { ttlMs: 5 } })).toThrow(/needs resultCache\(\)/);
  });

  it('batchDedup: the same three do not compile, and throw', () => {
    // @ts-expect-error adaptive takes adaptiveWindow() on /lite
    expect(() => batchDedup<string, string>({ execute: echo, adaptive: true })).toThrow(/needs adaptiveWindow\(\)/);
    // @ts-expect-error enablePriorities is not on /lite
    expect(() => batchDedup<string, string>({ execute: echo, enablePriorities: true })).toThrow(/needs priorities\(\)/);
    // @ts-expect-error resultCache takes resultCache() on /lite
    expect(() => batchDedup<string, string>({ execute: echo, resultCache: { ttlMs: 5 } })).toThrow(/needs resultCache\(\)/);
  });

  it('configure() of a /lite batcher: adaptive: true does not compile, and throws', () => {
    const batcher = createBatcher<string, string>({ execute: echo, engine: engine() });
    // @ts-expect-error adaptive takes adaptiveWindow() on /lite
    expect(() => batcher.configure({ adaptive: true })).toThrow(/needs adaptiveWindow\(\)/);
    batcher.close();
  });

  it("/lite's BatchDedupOptions takes the objects, and the main entry's options every form", () => {
    const lite: BatchDedupOptions<string, string> = {
      execute: echo,
      adaptive: adaptiveWindow(),
      priorities: priorities(),
      resultCache: resultCache({ ttlMs: 5 }),
    };
    const main: full.BatchDedupOptions<string, string> = { execute: echo, adaptive: true, enablePriorities: true, resultCache: { ttlMs: 5 } };
    expect(() => createBatcher(lite).close()).not.toThrow();
    expect(() => full.createBatcher(main).close()).not.toThrow();
    // The main entry's createBatcher is a /lite one (it takes more); the reverse is refused above.
    const make: typeof createBatcher = full.createBatcher;
    expect(() => make(lite).close()).not.toThrow();
  });
});

describe('rxjs-batch-dedup/lite: priority without priorities() names priorities() and its import', () => {
  it.each([
    ['createBatcher', (options: object) => createBatcher<string, string>({ execute: echo, ...options })],
    ['batchDedup', (options: object) => batchDedup<string, string>({ execute: echo, ...options })],
  ])('%s refuses a priority function, saying to add priorities({ priority })', (name, create) => {
    const make = () => create({ priority: () => 1 });
    expect(make).toThrow(TypeError);
    expect(make).toThrow(
      new RegExp(`^${name}: priority is set but no priorities\\(\\) is given, so nothing would order by it; add priorities: priorities\\(\\{ priority \\}\\)`),
    );
    expect(make).toThrow(IMPORT);
    expect(make).not.toThrow(/enablePriorities/);
  });

  it('configure({ priority }) without priorities() is refused the same way', () => {
    const batcher = createBatcher<string, string>({ execute: echo, engine: engine() });
    expect(() => batcher.configure({ priority: () => 1 })).toThrow(/^createBatcher\.configure: priority is set but no priorities\(\) is given/);
    batcher.close();
  });

  it('process(request, { priority }) without priorities() rejects naming priorities() and its import', async () => {
    const batcher = createBatcher<string, string>({ execute: echo, windowMs: 0 });
    // @ts-expect-error priority is the engine's: it needs priorities()
    const answer = batcher.process('a', { priority: 2 });
    await expect(answer).rejects.toThrow(
      /^createBatcher\.process: priority 2 was given but no priorities\(\) is given, so nothing would order by it; create the batcher with priorities: priorities\(\)/,
    );
    await expect(answer).rejects.toThrow(IMPORT);
    await batcher.close();
  });

  it('the main entry point still names enablePriorities', async () => {
    expect(() => full.createBatcher<string, string>({ execute: echo, priority: () => 1 })).toThrow(/add enablePriorities: true, or leave priority out$/);
    const batcher = full.createBatcher<string, string>({ execute: echo, windowMs: 0 });
    await expect(batcher.process('a', { priority: 2 })).rejects.toThrow(/create the batcher with enablePriorities: true to order/);
    await batcher.close();
  });
});
