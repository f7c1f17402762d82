/**
 * `rxjs-batch-dedup/lite` (src/lite/index.ts): the core without similarity dedup. It deduplicates exactly and with a
 * `dedupFunction` like the main entry, and refuses the similarity strategies and their options at creation (and in
 * `configure()`), naming the entry point that has them. See docs/decisions.md, "Pay for what you use".
 */
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import * as full from '../src/index.js';
import { adaptiveWindow, batchDedup, createBatcher, dedupBy, engine, priorities, type Batcher } from '../src/lite/index.js';
import { simulatedBackend, virtualClock } from '../src/testing/index.js';

const upper = (s: string) => s.toUpperCase();
const echo = async (items: readonly string[]) => items.map(upper);
const FIX = /is similarity dedup: import from 'rxjs-batch-dedup' \(or 'rxjs-batch-dedup\/operators'\), which has it/;

const creators = {
  createBatcher: (options: object) => createBatcher<string, string>({ execute: echo, ...options }),
  batchDedup: (options: object) => batchDedup<string, string>({ execute: echo, ...options }),
  dedupBy: (options: object) => dedupBy<string>(options),
};

describe('rxjs-batch-dedup/lite', () => {
  it('createBatcher executes equal requests once and answers each caller with its own result', async () => {
    const clock = virtualClock();
    const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 5, compute: upper });
    const batcher = createBatcher<string, string>({ execute: backend.execute, windowMs: 10, scheduler: clock.scheduler });
    const results = batcher.processAll(['a', 'b', 'a']);
    clock.runAll();
    await expect(results).resolves.toEqual(['A', 'B', 'A']);
    expect(backend.calls.map((call) => call.items)).toEqual([['a', 'b']]);
  });

  it('dedupBy with a dedupFunction merges what it scores at or above the threshold', async () => {
    const sameFirstLetter = (a: string, b: string) => (a[0] === b[0] ? 1 : 0);
    const out = await lastValueFrom(from([['apple', 'avocado', 'banana']]).pipe(dedupBy({ dedupFunction: sameFirstLetter }), toArray()));
    expect(out).toEqual([{ items: ['apple', 'avocado', 'banana'], unique: ['apple', 'banana'], leaderOf: [0, 0, 1] }]);
  });

  describe.each(Object.entries(creators))('%s', (name, create) => {
    it.each(['embedding', 'hybrid'])("refuses dedupStrategy '%s' at creation, naming the entry point that has it", (strategy) => {
      expect(() => create({ dedupStrategy: strategy })).toThrow(TypeError);
      expect(() => create({ dedupStrategy: strategy })).toThrow(new RegExp(`^${name}: dedupStrategy '${strategy}' ${FIX.source}`));
    });

    it.each([
      ['embed', () => [new Float32Array([1])]],
      ['text', (r: string) => r],
      ['metric', 'cosine'],
      ['mergeGuard', false],
      ['embedCacheSize', 10],
      ['embedTimeoutMs', 100],
    ])('refuses %s, an option only similarity dedup reads', (option, value) => {
      expect(() => create({ [option]: value })).toThrow(new RegExp(`^${name}: ${option} is an option of similarity dedup: import from 'rxjs-batch-dedup'`));
    });

    it('still names an unknown strategy as unknown, and still checks the scheduler', () => {
      expect(() => create({ dedupStrategy: 'fuzzy' })).toThrow(/dedupStrategy/);
      expect(() => create({ dedupStrategy: 'fuzzy' })).not.toThrow(FIX);
      expect(() => create({ scheduler: {} })).toThrow(/scheduler must be an RxJS SchedulerLike/);
    });
  });

  it("configure() refuses a switch to 'hybrid' and changes nothing: the batcher goes on with exact dedup", async () => {
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({
      execute: async (items) => {
        calls.push([...items]);
        return items.map(upper);
      },
      windowMs: 0,
      engine: engine(), // configure() is the engine's
    });
    expect(() => batcher.configure({ dedupStrategy: 'hybrid' })).toThrow(/^createBatcher\.configure: dedupStrategy 'hybrid' is similarity dedup/);
    await expect(batcher.processAll(['x', 'x'])).resolves.toEqual(['X', 'X']);
    await batcher.close();
    expect(calls).toEqual([['x']]);
  });

  it('the main entry point takes the same similarity options (the difference is the entry, not the options)', async () => {
    const batcher = full.createBatcher<string, string>({ execute: echo, dedupStrategy: 'hybrid', mergeGuard: false, windowMs: 0 });
    batcher.configure({ dedupThreshold: 0.9 });
    await expect(batcher.processAll(['a b c', 'a b c'])).resolves.toEqual(['A B C', 'A B C']);
    await batcher.close();
    expect(() => full.dedupBy({ dedupStrategy: 'embedding', embedCacheSize: 10 })).not.toThrow();
    expect(() => full.batchDedup({ execute: echo, dedupStrategy: 'hybrid' })).not.toThrow();
  });

  describe('opt-in features: the object that carries the code, and the flat form refused', () => {
    const engines = { createBatcher: creators.createBatcher, batchDedup: creators.batchDedup };

    /** When the backend is called for a lone request, on a batcher made with `options`. */
    async function loneRequestSentAt(options: object, change?: object): Promise<number> {
      const clock = virtualClock();
      const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 1, compute: upper });
      const batcher = createBatcher<string, string>({ execute: backend.execute, windowMs: 50, scheduler: clock.scheduler, ...options });
      // Made with a feature's object: on the engine, which has configure().
      if (change) (batcher as Batcher<string, string>).configure(change);
      const result = batcher.process('a');
      clock.runAll();
      await expect(result).resolves.toBe('A');
      return backend.calls[0]!.at;
    }

    describe('adaptive: adaptiveWindow()', () => {
      it('moves the window: a lone request goes at minWindowMs, not after windowMs', async () => {
        expect(await loneRequestSentAt({})).toBe(50);
        expect(await loneRequestSentAt({ adaptive: adaptiveWindow({ minWindowMs: 5, maxWindowMs: 100 }) })).toBe(5);
      });

      it('configure() still changes its settings live, over those given to adaptiveWindow()', async () => {
        const adaptive = adaptiveWindow({ minWindowMs: 5, maxWindowMs: 100 });
        expect(await loneRequestSentAt({ adaptive }, { minWindowMs: 20 })).toBe(20);
      });

      it('configure() takes the same object as no change, and refuses another', () => {
        const adaptive = adaptiveWindow();
        const batcher = createBatcher<string, string>({ execute: echo, adaptive });
        expect(() => batcher.configure({ adaptive })).not.toThrow();
        expect(() => batcher.configure({ adaptive: adaptiveWindow() })).toThrow(/^createBatcher\.configure: adaptive cannot be changed on a running batcher/);
      });

      it('checks its own options when called, naming itself', () => {
        expect(() => adaptiveWindow({ minWindowMs: 50, maxWindowMs: 10 })).toThrow(/^adaptiveWindow: minWindowMs \(50\) must not exceed maxWindowMs \(10\)/);
        expect(() => adaptiveWindow({ targetLatency: 5 } as never)).toThrow(/^adaptiveWindow: unknown option targetLatency; its options are targetLatencyMs/);
      });

      it.each(Object.entries(engines))('%s refuses adaptive: true, naming adaptiveWindow() and its import', (name, create) => {
        expect(() => create({ adaptive: true })).toThrow(TypeError);
        expect(() => create({ adaptive: true })).toThrow(
          new RegExp(`^${name}: adaptive: true needs adaptiveWindow\\(\\) in rxjs-batch-dedup/lite: import \\{ adaptiveWindow \\} from 'rxjs-batch-dedup/lite'`),
        );
        expect(() => create({ adaptive: false })).not.toThrow();
      });

      it('the main entry point takes both forms', () => {
        expect(() => full.createBatcher({ execute: echo, adaptive: true, targetLatencyMs: 50 })).not.toThrow();
        expect(() => full.createBatcher({ execute: echo, adaptive: full.adaptiveWindow({ targetLatencyMs: 50 }) })).not.toThrow();
      });
    });

    describe('priorities: priorities()', () => {
      /** The order the backend receives `requests` in, all waiting while the one slot is busy with a first batch. */
      async function orderSent(options: object, change?: object): Promise<string[]> {
        const clock = virtualClock();
        const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 10, compute: upper });
        const batcher = createBatcher<string, string>({
          execute: backend.execute,
          windowMs: 0,
          maxSize: 1,
          concurrency: 1,
          scheduler: clock.scheduler,
          ...options,
        });
        // Made with a feature's object: on the engine, which has configure().
      if (change) (batcher as Batcher<string, string>).configure(change);
        const results = batcher.processAll(['first', 'low', 'high', 'mid']);
        clock.runAll();
        await results;
        return backend.calls.map((call) => call.items[0]!);
      }
      const urgency = (r: string) => ({ high: 3, mid: 2 })[r] ?? 0;

      it('orders the waiting requests by priority, most urgent first', async () => {
        expect(await orderSent({})).toEqual(['first', 'low', 'high', 'mid']);
        expect(await orderSent({ priorities: priorities({ priority: urgency }) })).toEqual(['first', 'high', 'mid', 'low']);
      });

      it('configure() still changes priority(request) live', async () => {
        const reversed = (r: string) => -urgency(r);
        expect(await orderSent({ priorities: priorities({ priority: urgency }) }, { priority: reversed })).toEqual(['first', 'low', 'mid', 'high']);
      });

      it('takes a per-call priority of process() with priorities(), and refuses one without', async () => {
        const batcher = createBatcher<string, string>({ execute: echo, windowMs: 0, priorities: priorities() });
        await expect(batcher.process('a', { priority: 2 })).resolves.toBe('A');
        const plain = createBatcher<string, string>({ execute: echo, windowMs: 0 });
        // @ts-expect-error priority needs priorities()
    await expect(plain.process('a', { priority: 2 })).rejects.toThrow(/priority 2 was given/);
      });

      it('checks its own options when called, naming itself', () => {
        expect(() => priorities({ agingPerSecond: -1 })).toThrow(/^priorities: agingPerSecond/);
        expect(() => priorities({ priority: 3 } as never)).toThrow(/^priorities: priority/);
        expect(() => priorities({ aging: 1 } as never)).toThrow(/^priorities: unknown option aging; its options are priority, agingPerSecond/);
      });

      it.each(Object.entries(engines))('%s refuses enablePriorities: true, naming priorities() and its import', (name, create) => {
        expect(() => create({ enablePriorities: true })).toThrow(TypeError);
        expect(() => create({ enablePriorities: true })).toThrow(
          new RegExp(`^${name}: enablePriorities: true needs priorities\\(\\) in rxjs-batch-dedup/lite: import \\{ priorities \\} from 'rxjs-batch-dedup/lite'`),
        );
        expect(() => create({ priorities: { priority: urgency } })).toThrow(new RegExp(`^${name}: priorities must be made by priorities\\(\\)`));
      });

      it('configure() takes the same object as no change, and refuses another', () => {
        const given = priorities();
        const batcher = createBatcher<string, string>({ execute: echo, priorities: given });
        expect(() => batcher.configure({ priorities: given })).not.toThrow();
        expect(() => batcher.configure({ priorities: priorities() })).toThrow(/^createBatcher\.configure: priorities cannot be changed on a running batcher/);
      });

      it('the main entry point takes both forms, and orders alike', async () => {
        const sent = async (options: object) => {
          const clock = virtualClock();
          const backend = simulatedBackend({ scheduler: clock.scheduler, durationMs: () => 10, compute: upper });
          const batcher = full.createBatcher<string, string>({ execute: backend.execute, windowMs: 0, maxSize: 1, concurrency: 1, scheduler: clock.scheduler, ...options });
          const results = batcher.processAll(['first', 'low', 'high', 'mid']);
          clock.runAll();
          await results;
          return backend.calls.map((call) => call.items[0]!);
        };
        expect(await sent({ enablePriorities: true, priority: urgency })).toEqual(['first', 'high', 'mid', 'low']);
        expect(await sent({ priorities: full.priorities({ priority: urgency }) })).toEqual(['first', 'high', 'mid', 'low']);
      });
    });
  });
});
