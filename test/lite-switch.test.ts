/**
 * The switch of `/lite` to the lean core (issue 18, stop 18): `createBatcher` and `batchDedup` of
 * `rxjs-batch-dedup/lite` run on the lean core by default and on the fused engine when an object that brings it is
 * given (`engine()`, `adaptiveWindow()`, `priorities()`, `resultCache()`); the lean path refuses what only the
 * engine has, naming what to import, at creation (options) and at the call (the methods); a bundle of the default
 * path holds no engine. `// @ts-expect-error` lines fail `tsc -p tsconfig.tools.json` if the types let them by.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { firstValueFrom, from, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  adaptiveWindow,
  batchDedup,
  createBatcher,
  createBatchStats,
  engine,
  priorities,
  resultCache,
  type Batcher,
  type LeanBatcher,
} from '../src/lite/index.js';

const echo = async (items: readonly string[]) => items.map((s) => s.toUpperCase());
const IMPORT_ENGINE = /engine: engine\(\) \(import \{ engine \} from 'rxjs-batch-dedup\/lite'\)/;

describe('/lite on the lean core by default', () => {
  it.each(['configure', 'processStreaming'] as const)('%s() throws a TypeError naming engine() and its import', async (name) => {
    const batcher = createBatcher<string, string>({ execute: echo });
    // @ts-expect-error the lean batcher has none of the engine's methods
    const call = () => batcher[name]({});
    expect(call).toThrow(TypeError);
    expect(call).toThrow(new RegExp(`^createBatcher\\.${name}: this batcher runs on /lite's lean core`));
    expect(call).toThrow(IMPORT_ENGINE);
    await batcher.close();
  });

  it('reading stats$ throws a TypeError naming engine() and its import', async () => {
    const batcher = createBatcher<string, string>({ execute: echo });
    // @ts-expect-error the lean batcher has no stats$
    expect(() => batcher.stats$).toThrow(/^createBatcher\.stats\$: this batcher runs on \/lite's lean core/);
    await batcher.close();
  });

  it('getStats() gives the lean counters: requests, batches, deduplicated, executed items', async () => {
    const batcher: LeanBatcher<string, string> = createBatcher<string, string>({ execute: echo, windowMs: 0 });
    await expect(batcher.processAll(['a', 'b', 'a'])).resolves.toEqual(['A', 'B', 'A']);
    expect(batcher.getStats()).toEqual({ totalRequests: 3, totalBatches: 1, deduplicated: 1, executedItems: 2 });
    await batcher.close();
  });

  describe.each([
    ['createBatcher', (options: object) => createBatcher<string, string>({ execute: echo, ...options })],
    ['batchDedup', (options: object) => batchDedup<string, string>({ execute: echo, ...options })],
  ])('%s refuses at creation what only the engine has, naming the object to import', (name, create) => {
    it.each([
      ['stats: ', { stats: createBatchStats() }, 'engine'],
      ['maxQueueSize: 10', { maxQueueSize: 10 }, 'engine'],
      ['dedupFunction: ', { dedupFunction: () => 1 }, 'engine'],
      ['dedupThreshold: 0.5', { dedupThreshold: 0.5 }, 'engine'],
      ['onTimeout: "individual"', { onTimeout: 'individual' }, 'engine'],
      ['costPerRequestUsd: 0.01', { costPerRequestUsd: 0.01 }, 'engine'],
      ['targetLatencyMs: 100', { targetLatencyMs: 100 }, 'adaptiveWindow'],
      ['priorityAgingPerSecond: 2', { priorityAgingPerSecond: 2 }, 'priorities'],
      ['engine: true', { engine: true }, 'engine'],
    ])('%s', (what, options, factory) => {
      const make = () => create(options);
      expect(make).toThrow(TypeError);
      expect(make).toThrow(new RegExp(`^${name}: ${what.replace(/[$()]/g, '\\$&')}`));
      expect(make).toThrow(`needs ${factory}() in rxjs-batch-dedup/lite: import { ${factory} } from 'rxjs-batch-dedup/lite'`);
    });

    it('refuses an unknown name, listing what /lite takes', () => {
      expect(() => create({ windwMs: 5 })).toThrow(new RegExp(`^${name}: unknown option windwMs; /lite takes windowMs, maxSize, minSize`));
    });

    it('takes a feature turned off (false) as the engine does', () => {
      expect(() => create({ adaptive: false, enablePriorities: false })).not.toThrow();
    });
  });

  it("engine() refuses options: they are createBatcher's", () => {
    expect(() => engine({ windowMs: 5 } as never)).toThrow(/^engine: takes no options/);
  });
});

describe('/lite on the engine, brought by an object', () => {
  it.each([
    ['engine()', () => ({ engine: engine() })],
    ['adaptiveWindow()', () => ({ adaptive: adaptiveWindow() })],
    ['priorities()', () => ({ priorities: priorities() })],
    ['resultCache()', () => ({ resultCache: resultCache({ ttlMs: 100 }) })],
  ])('%s gives createBatcher configure(), processStreaming and stats$', async (_, features) => {
    const batcher = createBatcher<string, string>({ execute: echo, windowMs: 0, ...features() }) as Batcher<string, string>;
    expect(() => batcher.configure({ windowMs: 1 })).not.toThrow();
    const results: string[] = [];
    for await (const r of batcher.processStreaming(['a', 'b'])) results.push(String(r.value));
    expect(results.sort()).toEqual(['A', 'B']);
    expect(await firstValueFrom(batcher.stats$)).toMatchObject({ totalRequests: 2 });
    await batcher.close();
  });

  it('engine() takes the engine options the lean core refuses: stats, maxQueueSize, dedupFunction', async () => {
    const stats = createBatchStats();
    const batcher = createBatcher<string, string>({
      execute: echo,
      windowMs: 0,
      engine: engine(),
      stats,
      maxQueueSize: 10,
      dedupFunction: (a, b) => (a[0] === b[0] ? 1 : 0),
    });
    await expect(batcher.processAll(['ab', 'ac'])).resolves.toEqual(['AB', 'AB']);
    expect(stats.snapshot().deduplicated).toBe(1);
    await batcher.close();
  });

  it('engine() gives batchDedup the stats recorder and streamed results', async () => {
    const stats = createBatchStats();
    const streamed = (items: string[]) => from(items.map((value, index) => ({ index, value: value.toUpperCase() })));
    const out = await firstValueFrom(from(['a', 'b']).pipe(batchDedup({ execute: streamed, engine: engine(), stats }), toArray()));
    expect(out.map((r) => r.value).sort()).toEqual(['A', 'B']);
    expect(stats.snapshot().totalRequests).toBe(2);
  });

  it("the object's engine is not enumerable: the feature reads as before", () => {
    expect(Object.keys(adaptiveWindow())).toEqual(['feature', 'options', 'create']);
    expect(Object.keys(engine())).toEqual(['feature']);
  });
});

describe("the default path's bundle holds no engine", () => {
  it.each(['createBatcher', 'batchDedup'])('%s from /lite, bundled alone, reaches neither the engine nor the main entry files', async (name) => {
    const root = join(import.meta.dirname, '..');
    const result = await build({
      stdin: { contents: `export { ${name} } from './src/lite/index.ts';`, resolveDir: root, loader: 'ts' },
      bundle: true,
      write: false,
      minify: true,
      treeShaking: true,
      format: 'esm',
      platform: 'browser',
      external: ['rxjs', 'rxjs/*'],
      metafile: true,
    });
    // What the output holds (the metafile's inputs also list the files parsed and then shaken off).
    const [output] = Object.values(result.metafile.outputs);
    const inputs = Object.entries(output!.inputs).filter(([, input]) => input.bytesInOutput > 0).map(([path]) => path);
    expect(inputs).toContain('src/lite/core.ts');
    for (const heavy of ['src/internal/engine.ts', 'src/batcher/createBatcher.ts', 'src/operators/batchDedup.ts', 'src/internal/pipelineConfig.ts', 'src/lite/engine.ts']) {
      expect(inputs).not.toContain(heavy);
    }
  });
});
