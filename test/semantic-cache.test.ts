/**
 * The semantic result cache (`resultCache: { semantic: true }`, issue 13 part 1): its options checked where they are
 * written, its index of vectors (the bound that skips most entries never changes what is found), and properties of
 * whole pipelines: a hit never crosses scopes or other fields, never answers an error, and answers only from an
 * entry at or above the threshold that the merge guard allows. Timing rules are in
 * marbles/semanticCache.marble.test.ts.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { map, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SemanticIndex, type Probe } from '../src/dedup/semanticCache.js';
import { batchDedup, createBatcher, createBatchStats, type BatchResult, type Embedder } from '../src/index.js';
import * as lite from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';
import { testScheduler } from '../marbles/helpers.js';

const echo = async (items: readonly string[]) => items.map((item) => item.toUpperCase());

describe('resultCache.semantic: options', () => {
  it('is refused with the exact strategy, naming the option and the strategies that have it', () => {
    expect(() => createBatcher<string, string>({ execute: echo, resultCache: { ttlMs: 100, semantic: true } })).toThrow(
      /^createBatcher: resultCache\.semantic needs dedupStrategy 'embedding' or 'hybrid' and no dedupFunction$/,
    );
  });

  it('is refused beside a dedupFunction, which replaces the embeddings it compares', () => {
    expect(() =>
      createBatcher<string, string>({
        execute: echo,
        dedupStrategy: 'hybrid',
        dedupFunction: () => 1,
        resultCache: { ttlMs: 100, semantic: true },
      }),
    ).toThrow(/^createBatcher: resultCache\.semantic needs dedupStrategy 'embedding' or 'hybrid' and no dedupFunction$/);
  });

  it('must be a boolean', () => {
    expect(() =>
      createBatcher<string, string>({ execute: echo, dedupStrategy: 'hybrid', resultCache: { ttlMs: 100, semantic: 'yes' as unknown as boolean } }),
    ).toThrow(/resultCache\.semantic must be true or false, got "yes"/);
  });

  it('is taken with embedding and hybrid, and semantic: false with any strategy', () => {
    for (const dedupStrategy of ['embedding', 'hybrid'] as const) {
      expect(() => createBatcher<string, string>({ execute: echo, dedupStrategy, resultCache: { ttlMs: 100, semantic: true } }).close()).not.toThrow();
    }
    expect(() => createBatcher<string, string>({ execute: echo, resultCache: { ttlMs: 100, semantic: false } }).close()).not.toThrow();
  });

  it('makes configure() refuse a switch to the exact strategy, changing nothing', () => {
    const batcher = createBatcher<string, string>({ execute: echo, dedupStrategy: 'hybrid', resultCache: { ttlMs: 100, semantic: true } });
    expect(() => batcher.configure({ dedupStrategy: 'exact' })).toThrow(/^createBatcher\.configure: resultCache\.semantic needs dedupStrategy/);
    batcher.close();
  });

  it('cannot be turned on or off by configure()', () => {
    const batcher = createBatcher<string, string>({ execute: echo, dedupStrategy: 'hybrid', resultCache: { ttlMs: 100 } });
    expect(() => batcher.configure({ resultCache: { ttlMs: 100, semantic: true } })).toThrow(/resultCache cannot be changed on a running batcher/);
    expect(() => batcher.configure({ resultCache: { ttlMs: 100, semantic: false } })).not.toThrow();
    batcher.close();
  });

  it.each([
    ['createBatcher', () => lite.createBatcher<string, string>({ execute: echo, resultCache: lite.resultCache({ ttlMs: 100, semantic: true }) })],
    ['batchDedup', () => lite.batchDedup<string, string>({ execute: echo, resultCache: lite.resultCache({ ttlMs: 100, semantic: true }) })],
  ])('is refused by rxjs-batch-dedup/lite (%s), naming the entry point that has it', (name, create) => {
    expect(create).toThrow(TypeError);
    expect(create).toThrow(
      new RegExp(`^${name}: resultCache\\.semantic is an option of similarity dedup: import from 'rxjs-batch-dedup'`),
    );
  });

  /** The source files a module loads at run time (type-only imports are erased), followed from `entry`. */
  function loaded(entry: string): Set<string> {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8');
      for (const [, what, from] of code.matchAll(/^(?:import|export)\s+(type\s+)?[^'";]*?from\s+'(\.[^']+)'/gm)) {
        if (what === undefined) visit(resolve(dirname(file), from!.replace(/\.js$/, '.ts')));
      }
    };
    visit(entry);
    return seen;
  }

  it('is not loaded by rxjs-batch-dedup/lite, and is by the main entry point', () => {
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
    const index = join(src, 'dedup', 'semanticCache.ts');
    expect(loaded(join(src, 'lite', 'index.ts')).has(index)).toBe(false);
    expect(loaded(join(src, 'index.ts')).has(index)).toBe(true);
  });

  it('leaves the exact result cache of rxjs-batch-dedup/lite as it was', () => {
    expect(() => lite.createBatcher<string, string>({ execute: echo, resultCache: lite.resultCache({ ttlMs: 100, semantic: false }) }).close()).not.toThrow();
  });
});

/** The batch's score of a pair, as src/dedup/vectorLeaders.ts computes it. */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let p2 = 0;
  let q2 = 0;
  for (let d = 0; d < a.length; d++) {
    dot += a[d]! * b[d]!;
    p2 += a[d]! * a[d]!;
    q2 += b[d]! * b[d]!;
  }
  if (p2 === 0 || q2 === 0) return 0;
  const s = dot / Math.sqrt(p2 * q2);
  return s < 0 ? 0 : s > 1 ? 1 : s;
}

describe('SemanticIndex', () => {
  const probe = (group: string, text: string, vector: number[]): Probe => ({ group, text, vector: new Float32Array(vector) });

  it('finds only entries of the probe group', () => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.9, false);
    index.add('x', probe('tenant x', 'a', [1, 0, 0]));
    expect(index.nearest([probe('tenant y', 'a', [1, 0, 0])], () => true)).toBeUndefined();
    expect(index.nearest([probe('tenant x', 'a', [1, 0, 0])], () => true)).toBe('x');
  });

  it('finds the highest score, and forgets a removed entry', () => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.9, false);
    index.add('far', probe('g', 'a', [0.95, 0.31, 0]));
    index.add('near', probe('g', 'b', [0.99, 0.14, 0]));
    expect(index.nearest([probe('g', 'q', [1, 0, 0])], () => true)).toBe('near');
    index.remove('near');
    expect(index.nearest([probe('g', 'q', [1, 0, 0])], () => true)).toBe('far');
  });

  it('skips an entry `live` refuses, for the next best', () => {
    const index = new SemanticIndex<string>({ kind: 'cosine' }, 0.9, false);
    index.add('far', probe('g', 'a', [0.95, 0.31, 0]));
    index.add('near', probe('g', 'b', [0.99, 0.14, 0]));
    expect(index.nearest([probe('g', 'q', [1, 0, 0])], (entry) => entry !== 'near')).toBe('far');
  });

  it('asks a custom guard (cached text, new text), and the built-in guard for names in order', () => {
    const asked: string[] = [];
    const custom = new SemanticIndex<string>({ kind: 'cosine' }, 0.9, (a, b) => (asked.push(`${a}|${b}`), false));
    custom.add('x', probe('g', 'cached', [1, 0]));
    expect(custom.nearest([probe('g', 'new', [1, 0])], () => true)).toBeUndefined();
    expect(asked).toEqual(['cached|new']);
    const builtIn = new SemanticIndex<string>({ kind: 'cosine' }, 0.9, true);
    builtIn.add('x', probe('g', 'flights from Paris to London', [1, 0]));
    expect(builtIn.nearest([probe('g', 'flights from London to Paris', [1, 0])], () => true)).toBeUndefined();
    expect(builtIn.nearest([probe('g', 'Flights from Paris to London', [1, 0])], () => true)).toBe('x');
  });

  it('calls any other metric on the pair', () => {
    const index = new SemanticIndex<string>({ kind: 'function', name: 'first', score: (a, b) => (a[0] === b[0] ? 1 : 0) }, 0.9, false);
    index.add('x', probe('g', 'a', [3, 0]));
    expect(index.nearest([probe('g', 'b', [3, 9])], () => true)).toBe('x');
    expect(index.nearest([probe('g', 'b', [2, 0])], () => true)).toBeUndefined();
  });

  /**
   * The bound on the top coordinates is an optimisation only: whatever the vectors (sparse, dense, near one
   * another, zero), the entry found is the one of the naive scan: the highest score at or above the threshold,
   * the oldest on a tie, as near every other probe.
   */
  it('finds what scoring every entry finds', () => {
    const dims = 40;
    const coordinate = fc.oneof({ arbitrary: fc.constant(0), weight: 1 }, { arbitrary: fc.integer({ min: -100, max: 100 }).map((x) => x / 100), weight: 3 });
    const vector = fc.array(coordinate, { minLength: dims, maxLength: dims });
    const scenario = fc.record({
      base: vector,
      entries: fc.array(fc.record({ group: fc.constantFrom('g', 'h'), near: fc.boolean(), noise: vector }), { maxLength: 30 }),
      queries: fc.array(fc.record({ near: fc.boolean(), noise: vector }), { minLength: 1, maxLength: 3 }),
      threshold: fc.constantFrom(0.3, 0.8, 0.9, 0.95, 0.99),
    });
    fc.assert(
      fc.property(scenario, ({ base, entries, queries, threshold }) => {
        // "near" vectors are the base plus a little noise, so hits are common.
        const make = (near: boolean, noise: number[]) => new Float32Array(noise.map((x, d) => (near ? base[d]! + 0.1 * x : x)));
        const index = new SemanticIndex<number>({ kind: 'cosine' }, threshold, false);
        const stored = entries.map(({ group, near, noise }, i) => {
          const p: Probe = { group, text: `e${i}`, vector: make(near, noise) };
          index.add(i, p);
          return p;
        });
        const probes = queries.map(({ near, noise }, q) => ({ group: 'g', text: `q${q}`, vector: make(near, noise) }));
        let expected: number | undefined;
        let bestScore = -Infinity;
        stored.forEach((p, i) => {
          if (p.group !== 'g') return;
          const score = cosine(p.vector, probes[0]!.vector);
          if (!(score >= threshold && score > bestScore)) return;
          if (!probes.every((q) => cosine(p.vector, q.vector) >= threshold)) return;
          expected = i;
          bestScore = score;
        });
        expect(index.nearest(probes, () => true)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

interface Ask {
  readonly query: string;
  readonly tenant: string;
  readonly lang: string;
}

describe('the semantic result cache in a pipeline: properties', () => {
  /**
   * Random streams of requests (a few texts, two tenants, two languages) with random vectors, some texts failing
   * their batch, a random custom merge guard: every answer given from the cache (batchId 0) is the value of an
   * earlier fulfilled execution of a request of the same tenant and language, whose text is the same or scores at
   * least the threshold with a guard that allows the pair.
   */
  it('a hit never crosses scopes or other fields, never answers an error, and only answers a near text the guard allows', () => {
    const texts = ['t0', 't1', 't2', 't3', 't4', 't5'];
    const vector = fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })), { minLength: 4, maxLength: 4 });
    const scenario = fc.record({
      base: vector,
      vectors: fc.array(fc.record({ near: fc.boolean(), noise: vector }), { minLength: texts.length, maxLength: texts.length }),
      refused: fc.uniqueArray(fc.tuple(fc.constantFrom(...texts), fc.constantFrom(...texts)), { maxLength: 12 }),
      failing: fc.uniqueArray(fc.constantFrom(...texts), { maxLength: 2 }),
      arrivals: fc.array(
        fc.record({
          gap: fc.integer({ min: 0, max: 6 }),
          query: fc.constantFrom(...texts),
          tenant: fc.constantFrom('x', 'y'),
          lang: fc.constantFrom('en', 'fr'),
        }),
        { minLength: 1, maxLength: 40 },
      ),
      threshold: fc.constantFrom(0.8, 0.9, 0.95),
      strategy: fc.constantFrom('embedding' as const, 'hybrid' as const),
    });
    fc.assert(
      fc.property(scenario, ({ base, vectors, refused, failing, arrivals, threshold, strategy }) => {
        const vectorOf = new Map(
          texts.map((text, i) => {
            const { near, noise } = vectors[i]!;
            return [text, noise.map((x, d) => (near ? base[d]! + 0.1 * x : x))];
          }),
        );
        const embed: Embedder = (batch) => batch.map((text) => vectorOf.get(text)!);
        const refusedPairs = new Set(refused.map(([a, b]) => `${a}|${b}`));
        const guard = (a: string, b: string) => !refusedPairs.has(`${a}|${b}`);
        /** What each execution answered for: its value is the index here. */
        const executions: Ask[] = [];
        const results: BatchResult<Ask, string>[] = [];
        const scheduler = testScheduler();
        scheduler.run(() => {
          const source = arrivals.map(({ query, tenant, lang }): Ask => ({ query, tenant, lang }));
          let at = 0;
          const pipeline = batchDedup<Ask, string>({
            execute: (items) =>
              timer(3, scheduler).pipe(
                map(() => {
                  if (items.some((ask) => failing.includes(ask.query))) throw new Error('backend down');
                  return items.map((ask) => String(executions.push(ask) - 1));
                }),
              ),
            windowMs: 2,
            concurrency: 4,
            dedupStrategy: strategy,
            dedupThreshold: threshold,
            mergeGuard: guard,
            embed,
            scope: (ask) => ask.tenant,
            resultCache: { ttlMs: 40, maxEntries: 4, semantic: true },
            scheduler,
          });
          const frames = source.map((ask, i) => ((at += arrivals[i]!.gap), [at, ask] as const));
          // One arrival per `x`, several in one frame as a group: the k-th `x` is the k-th request.
          scheduler
            .createColdObservable(
              `${Array.from({ length: at + 1 }, (_, frame) => {
                const n = frames.filter(([f]) => f === frame).length;
                return n === 0 ? '-' : n === 1 ? 'x' : `(${'x'.repeat(n)})`;
              }).join('')}|`,
              { x: undefined },
            )
            .pipe(
              map((_, i) => frames[i]![1]),
              pipeline,
            )
            .subscribe((result) => results.push(result));
        });
        expect(results).toHaveLength(arrivals.length);
        for (const result of results) {
          if (result.batchId !== 0) continue;
          const q = result.request;
          expect(result.status, `${JSON.stringify(q)}: a hit answers a value`).toBe('fulfilled');
          const p = executions[Number(result.value)]!;
          expect(p, `${JSON.stringify(q)} answered ${String(result.value)}`).toBeDefined();
          expect(p.tenant).toBe(q.tenant);
          expect(p.lang).toBe(q.lang);
          if (p.query !== q.query) {
            expect(cosine(vectorOf.get(p.query)!, vectorOf.get(q.query)!)).toBeGreaterThanOrEqual(threshold);
            expect(guard(p.query, q.query), `${p.query} -> ${q.query}`).toBe(true);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe('the semantic result cache with the built-in embedder and guard', () => {
  async function twoAsks(first: string, second: string, threshold = 0.94) {
    const clock = virtualClock();
    const executed: string[] = [];
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<string, string>({
      execute: (qs) => qs.map((q) => `answer to ${q} #${executed.push(q)}`),
      windowMs: 1,
      dedupStrategy: 'hybrid',
      dedupThreshold: threshold,
      resultCache: { ttlMs: 60_000, semantic: true },
      stats,
      scheduler: clock.scheduler,
    });
    const a = batcher.process(first);
    clock.runAll();
    const answers = [await a];
    const b = batcher.process(second);
    clock.runAll();
    answers.push(await b);
    batcher.close();
    return { answers, executed, semanticCacheHits: stats.snapshot().semanticCacheHits };
  }

  it('answers the same question typed differently from the cache', async () => {
    await expect(twoAsks('What is the capital of France?', 'what is the capital of france')).resolves.toEqual({
      answers: ['answer to What is the capital of France? #1', 'answer to What is the capital of France? #1'],
      executed: ['What is the capital of France?'],
      semanticCacheHits: 1,
    });
  });

  it('executes a question whose number differs (the guard)', async () => {
    const { executed, semanticCacheHits } = await twoAsks('refund order 1234', 'refund order 1243');
    expect(executed).toEqual(['refund order 1234', 'refund order 1243']);
    expect(semanticCacheHits).toBe(0);
  });

  it('executes a question that says the opposite (the guard)', async () => {
    const { executed } = await twoAsks('how do I enable two factor login', 'how do I disable two factor login');
    expect(executed).toHaveLength(2);
  });
});
