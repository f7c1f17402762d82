/**
 * src/dedup/vectorLeaders.ts where the stop-21 mutation run (issue 17, the ranges no run had measured: the column
 * kernel's set-up, `LeaderColumns`, and `CosineRows`' per-row numbers) found behaviour no test guarded. As in
 * test/mutation-vectorLeaders-s20, most edits there give the same leaders with more work, so the rows are handed
 * in behind a Proxy that counts coordinate reads; the kernel is compiled once per module, so the tests of its
 * set-up import a fresh copy of the module (`vi.resetModules`), and count the WebAssembly compiles and the typed
 * arrays a search allocates. Every answer is also held to the naive all-pairs loop.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricByName } from '../src/dedup/metric.js';
import * as shared from '../src/dedup/vectorLeaders.js';
import { counted, lcg, naive, peaked } from './support-vectorLeaders.js';

const cosine = metricByName('cosine')!;
type Module = typeof shared;

/** A fresh copy of the module: no kernel compiled yet, no numbers kept from an earlier search. */
async function fresh(): Promise<Module> {
  vi.resetModules();
  return (await import('../src/dedup/vectorLeaders.js')) as Module;
}

function run(
  module: Module,
  vectors: readonly ArrayLike<number>[],
  dims: number,
  threshold: number,
  groups: readonly string[] = vectors.map(() => 'g'),
): { leaders: number[]; readsPerCoordinate: number } {
  const reads = { n: 0 };
  const leaders = module.vectorLeaders(groups, vectors.map((_, i) => i), counted(vectors, reads), dims, cosine, threshold);
  return { leaders, readsPerCoordinate: reads.n / (vectors.length * dims) };
}

/** Counts the WebAssembly modules compiled while `body` runs. */
function compiles<T>(body: () => T): { value: T; compiled: number } {
  const Module = WebAssembly.Module;
  let compiled = 0;
  (WebAssembly as { Module: typeof WebAssembly.Module }).Module = class extends Module {
    constructor(bytes: BufferSource) {
      compiled++;
      super(bytes);
    }
  };
  try {
    return { value: body(), compiled };
  } finally {
    (WebAssembly as { Module: typeof WebAssembly.Module }).Module = Module;
  }
}

afterEach(() => {
  // A later file (one module graph under Stryker) imports a copy of its own, not one this file left without a
  // kernel (the compile that fails, below).
  vi.resetModules();
});

describe('vectorLeaders: the WebAssembly kernel is compiled once, and used', () => {
  it('a fresh module compiles it at its first use, uses it (32-bit rows read about 2.2 times each), and compiles nothing after', async () => {
    const module = await fresh();
    const rows = peaked(200, 384, 3).map((v) => Float32Array.from(v));
    const { value, compiled } = compiles(() => {
      expect(module.columnKernelInUse()).toBe(true);
      return [run(module, rows, 384, 0.9), run(module, rows, 384, 0.9)];
    });
    expect(compiled).toBe(1);
    for (const { leaders, readsPerCoordinate } of value) {
      expect(leaders).toEqual(rows.map((_, i) => i));
      // Through the JavaScript scan (the kernel unusable): about 3.2.
      expect(readsPerCoordinate).toBeLessThan(2.5);
    }
  });

  it('where compiling fails (no SIMD, a content security policy), it is tried once, and every batch runs in JavaScript with the naive loop\'s leaders', async () => {
    const module = await fresh();
    const Module = WebAssembly.Module;
    let tried = 0;
    (WebAssembly as { Module: typeof WebAssembly.Module }).Module = class extends Module {
      constructor(bytes: BufferSource) {
        tried++;
        throw new WebAssembly.CompileError('WebAssembly.Module(): Compiling function #0 failed: invalid simd opcode');
        super(bytes);
      }
    };
    try {
      expect(module.columnKernelInUse()).toBe(false);
      const random = lcg(7);
      const centres = peaked(10, 64, 5);
      const rows = Array.from({ length: 120 }, (_, i) => Float32Array.from(centres[i % 10]!.map((x) => x + 0.05 * random())));
      for (let k = 0; k < 2; k++) {
        const { leaders, readsPerCoordinate } = run(module, rows, 64, 0.9);
        expect(leaders).toEqual(naive(rows, 0.9));
        expect(readsPerCoordinate).toBeGreaterThan(0);
      }
      expect(module.columnKernelInUse()).toBe(false);
    } finally {
      (WebAssembly as { Module: typeof WebAssembly.Module }).Module = Module;
    }
    expect(tried).toBe(1);
  });
});

describe('vectorLeaders with the WebAssembly scan: rows of numbers are never copied to 32 bits', () => {
  it('150 rows of numbers at a scale 32 bits cannot hold (1e-50: a zero in a Float32Array) merge as the naive loop merges them', async () => {
    const module = await fresh();
    expect(module.columnKernelInUse()).toBe(true);
    const random = lcg(67);
    // Near copies of 10 peaked rows, all times 1e-50: squared norms about 1e-100, in the range the bounds hold for.
    // A 32-bit copy of such a row is zeros, whose columns would refuse every pair.
    const centres = peaked(10, 48, 71);
    const rows = Array.from({ length: 150 }, (_, i) => centres[i % 10]!.map((x) => (x + 0.02 * random()) * 1e-50));
    expect(Float32Array.from(rows[0]!).every((x) => x === 0)).toBe(true);
    const { leaders } = run(module, rows, 48, 0.9);
    expect(leaders).toEqual(naive(rows, 0.9));
    expect(new Set(leaders).size).toBe(10);
  });
});

/** Counts the Float64Arrays made with a length (not the views of one) while `body` runs. */
function allocations<T>(body: () => T): { value: T; made: number[] } {
  const Real = globalThis.Float64Array;
  const made: number[] = [];
  globalThis.Float64Array = new Proxy(Real, {
    construct(target, args: unknown[], newTarget) {
      if (typeof args[0] === 'number') made.push(args[0]);
      return Reflect.construct(target, args, newTarget) as object;
    },
  });
  try {
    return { value: body(), made };
  } finally {
    globalThis.Float64Array = Real;
  }
}

/** `n` rows, each nonzero on its own run of `dims / n` coordinates: every pair orthogonal (nothing merges above 0). */
function orthogonal(n: number, dims: number, seed: number): number[][] {
  const random = lcg(seed);
  const width = Math.floor(dims / n);
  return Array.from({ length: n }, (_, i) => Array.from({ length: dims }, (_, d) => (d >= i * width && d < (i + 1) * width ? 1 + random() / 2 : 0)));
}

describe('vectorLeaders: the per-row numbers (norms, tails) are kept from one search for the next', () => {
  it('a batch as large as the last one makes no new array; a larger one makes one, which the next batches keep', async () => {
    const module = await fresh();
    const random = lcg(73);
    // 24 rows of 32 dimensions at 0.9: 24 x (2 + 5 checkpoints) = 168 numbers; 48 rows: 336.
    const small = Array.from({ length: 24 }, () => Array.from({ length: 32 }, random));
    const large = Array.from({ length: 48 }, () => Array.from({ length: 32 }, random));
    const first = allocations(() => module.vectorLeaders(small.map(() => 'g'), small.map((_, i) => i), small, 32, cosine, 0.9));
    expect(first.value).toEqual(naive(small, 0.9));
    expect(first.made).toEqual([168]);
    const again = allocations(() => module.vectorLeaders(small.map(() => 'g'), small.map((_, i) => i), small, 32, cosine, 0.9));
    expect(again.value).toEqual(naive(small, 0.9));
    expect(again.made).toEqual([]);
    const larger = allocations(() => module.vectorLeaders(large.map(() => 'g'), large.map((_, i) => i), large, 32, cosine, 0.9));
    expect(larger.value).toEqual(naive(large, 0.9));
    expect(larger.made).toEqual([336]);
    for (const batch of [large, small, large]) {
      const next = allocations(() => module.vectorLeaders(batch.map(() => 'g'), batch.map((_, i) => i), batch, 32, cosine, 0.9));
      expect(next.value).toEqual(naive(batch, 0.9));
      expect(next.made).toEqual([]);
    }
  });
});

describe('vectorLeaders at a threshold within the rounding margin of 0: every pair scored, no bound', () => {
  // marginFor(1000) = 1e-9 + 1000 * 2^-50: at that threshold or below, the bound (threshold less the margin) is not
  // above 0, and every pair is scored in full as the naive loop scores it: 8 rows, each read once for its norm and
  // twice for each of its 7 pairs: 8 reads of each coordinate, exactly.
  it.each([
    ['1e-9', 1e-9],
    ['the margin itself', 1e-9 + 1000 * 2 ** -50],
  ])('at %s, 8 orthogonal rows of 1,000 dimensions: each coordinate read exactly 8 times', async (_name, threshold) => {
    const module = await fresh();
    const rows = orthogonal(8, 1000, 79);
    const { leaders, readsPerCoordinate } = run(module, rows, 1000, threshold);
    expect(leaders).toEqual(naive(rows, threshold));
    expect(leaders).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(readsPerCoordinate).toBe(8);
  });

  it('just above the margin, the same rows are refused on their bounds: fewer reads', async () => {
    const module = await fresh();
    const rows = orthogonal(8, 1000, 79);
    const { leaders, readsPerCoordinate } = run(module, rows, 1000, 2e-9);
    expect(leaders).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(readsPerCoordinate).toBeLessThan(8);
  });
});

/**
 * A candidate of 400 dimensions: `a2`, `b2`, `c2` the squares of its coordinates 0-3, 4-7 and 8-15 (its largest, in
 * that order), the rest of its squared norm of 1 spread thin over the other 384 (below what `candidate` picks).
 */
function shaped(a2: number, b2: number, c2: number): number[] {
  const rest = Math.sqrt((1 - 4 * a2 - 4 * b2 - 8 * c2) / 384);
  return Array.from({ length: 400 }, (_, d) => (d < 4 ? Math.sqrt(a2) : d < 8 ? Math.sqrt(b2) : d < 16 ? Math.sqrt(c2) : d % 2 ? rest : -rest));
}

function unitOn(dims: Readonly<Record<number, number>>): number[] {
  const v = new Array<number>(400).fill(0);
  for (const [d, x] of Object.entries(dims)) v[Number(d)] = x;
  return v;
}

describe('vectorLeaders: the JavaScript scan refuses exactly the pairs the WebAssembly scan refuses', () => {
  // One leader, then one candidate, through the leader columns (setSmallBatch(0)), as rows of numbers (read where
  // they are by both scans: the same reads but for the pairs a scan lets through to `classify`). Each pair is
  // refused by one check of the three and let through by the others (u: the candidate, r_k: its norm outside its
  // k largest coordinates):
  // - on its 4 largest: u = (0.1 x 4, 0.075 x 4 squared, 0.3 thin), the leader on u's coordinates 4-7: r_4 = 0.775
  //   is below 0.9, though the 8 largest give 0.548 + 0.548;
  // - on its 8 largest: u = (0.0504 x 8, 0.0121 x 8 squared, 0.5 thin), the leader along coordinate 8: r_8 = 0.773
  //   is below 0.795, though the 16 largest give 0.11 + 0.707 (and the 4 largest 0.894);
  // - on its 16 largest: the same u, the leader along minus coordinate 8: -0.11 + 0.707 is below 0.7, though the
  //   4 and 8 largest give 0.894 and 0.773.
  it.each([
    ['the candidate\'s 4 largest coordinates', shaped(0.1, 0.075, 0), unitOn({ 4: 0.5, 5: 0.5, 6: 0.5, 7: 0.5 }), 0.9],
    ['the candidate\'s 8 largest coordinates', shaped(0.0504, 0.0504, 0.0121), unitOn({ 8: 1 }), 0.795],
    ['the candidate\'s 16 largest coordinates', shaped(0.0504, 0.0504, 0.0121), unitOn({ 8: -1 }), 0.7],
  ])('a pair refused on %s alone: the same reads with either scan', (_check, candidate, leader, threshold) => {
    const rows = [leader, candidate];
    const was = shared.setSmallBatch(0);
    const allowed = shared.allowColumnKernel(true);
    try {
      expect(shared.columnKernelInUse()).toBe(true);
      const reads = { n: 0 };
      const wasm = shared.vectorLeaders(['g', 'g'], [0, 1], counted(rows, reads), 400, cosine, threshold);
      shared.allowColumnKernel(false);
      const readsJs = { n: 0 };
      const js = shared.vectorLeaders(['g', 'g'], [0, 1], counted(rows, readsJs), 400, cosine, threshold);
      expect(wasm).toEqual([0, 1]);
      expect(js).toEqual([0, 1]);
      // (About 2,800: the rows for their norms, summed four side by side (the two rows and twice the first), the
      // candidate's picks, each row's column entries as a leader. A pair let through to `classify` reads more.)
      expect(readsJs.n).toBe(reads.n);
    } finally {
      shared.allowColumnKernel(allowed);
      shared.setSmallBatch(was);
    }
  });
});

describe('vectorLeaders: a metric that returns no number', () => {
  it.each([
    ['a string', '0.99', '"0.99"'],
    ['a boolean', true, 'true'],
    ['a bigint', 1n, '1n'],
    ['NaN', NaN, 'NaN'],
  ])('%s is refused, named in the message (MalformedEmbeddingError)', (_what, value, shown) => {
    const metric = { kind: 'function', name: 'odd', score: () => value as unknown as number } as const;
    const rows = [[1, 0], [0, 1]];
    expect(() => shared.vectorLeaders(['g', 'g'], [0, 1], rows, 2, metric, 0.5)).toThrow(shared.MalformedEmbeddingError);
    expect(() => shared.vectorLeaders(['g', 'g'], [0, 1], rows, 2, metric, 0.5)).toThrow(`malformed embeddings: the metric returned ${shown}`);
  });

  it('scores below 0 count as 0 and above 1 as 1: at threshold 0 a negative score merges, at 1 a score of 1.5 does, and -0.5 does not at 1e-12', () => {
    const rows = [[1], [1], [1]];
    const metric = (value: number) => ({ kind: 'function', name: 'odd', score: () => value }) as const;
    expect(shared.vectorLeaders(['g', 'g', 'g'], [0, 1, 2], rows, 1, metric(-0.5), 0)).toEqual([0, 0, 0]);
    expect(shared.vectorLeaders(['g', 'g', 'g'], [0, 1, 2], rows, 1, metric(1.5), 1)).toEqual([0, 0, 0]);
    expect(shared.vectorLeaders(['g', 'g', 'g'], [0, 1, 2], rows, 1, metric(-0.5), 1e-12)).toEqual([0, 1, 2]);
    expect(shared.vectorLeaders(['g', 'g', 'g'], [0, 1, 2], rows, 1, metric(0.7), 0.8)).toEqual([0, 1, 2]);
  });

  it('a score above 1 ties with 1: the earliest leader wins', () => {
    // Rows 0 and 1 unrelated; row 2 scores 1 with row 0 and 1.5 with row 1.
    const table: Record<string, number> = { '0,1': 0, '0,2': 1, '1,2': 1.5 };
    const metric = { kind: 'function', name: 'table', score: (a: ArrayLike<number>, b: ArrayLike<number>) => table[`${a[0]},${b[0]}`]! } as const;
    expect(shared.vectorLeaders(['g', 'g', 'g'], [0, 1, 2], [[0], [1], [2]], 1, metric, 0.9)).toEqual([0, 1, 0]);
  });
});

/** Counts the Int16Arrays made with a length (the leader columns, where the JavaScript scan runs) while `body` runs. */
function columnCells<T>(body: () => T): { value: T; made: number[] } {
  const Real = globalThis.Int16Array;
  const made: number[] = [];
  globalThis.Int16Array = new Proxy(Real, {
    construct(target, args: unknown[], newTarget) {
      if (typeof args[0] === 'number') made.push(args[0]);
      return Reflect.construct(target, args, newTarget) as object;
    },
  });
  try {
    return { value: body(), made };
  } finally {
    globalThis.Int16Array = Real;
  }
}

describe('vectorLeaders with the JavaScript scan: the leader columns take a block of 8 leaders per small group, of 64 per large one', () => {
  it.each([
    // 70 groups of one: 8 leaders' columns each (not 64).
    ['70 groups of one', Array.from({ length: 70 }, (_, i) => `g${i}`), 70 * 8 * 48],
    // One group of 70: 2 blocks of 64.
    ['one group of 70', Array.from({ length: 70 }, () => 'g'), 128 * 48],
    // Groups of 3 and 67: 8 and 2 x 64.
    ['groups of 3 and 67', Array.from({ length: 70 }, (_, i) => (i < 3 ? 'a' : 'b')), (8 + 128) * 48],
  ])('%s in 48 dimensions: that many column entries', (_what, groups, cells) => {
    const allowed = shared.allowColumnKernel(false);
    try {
      const rows = peaked(70, 48, 83);
      const { value, made } = columnCells(() => shared.vectorLeaders(groups, rows.map((_, i) => i), rows, 48, cosine, 0.9));
      expect(value).toEqual(naive(rows, 0.9, groups));
      expect(made).toEqual([cells]);
    } finally {
      shared.allowColumnKernel(allowed);
    }
  });
});

describe('vectorLeaders: the checkpoints of a length (1/32, 1/16, 1/8, 1/4, 1/2 of it, none at 0)', () => {
  it.each([
    // 16 dimensions: checkpoints 1, 2, 4, 8 (16 / 32 is 0: none there): 4 rows x (2 + 4) numbers.
    [16, 4 * 6],
    // 384: 12, 24, 48, 96, 192.
    [384, 4 * 7],
    // 4: 1, 2.
    [4, 4 * 4],
    // 1: none.
    [1, 4 * 2],
  ])('in %i dimensions, a search keeps %i numbers for 4 rows', async (dims, numbers) => {
    const module = await fresh();
    const random = lcg(89);
    const rows = Array.from({ length: 4 }, () => Array.from({ length: dims }, random));
    const { value, made } = allocations(() => module.vectorLeaders(['g', 'g', 'g', 'g'], [0, 1, 2, 3], rows, dims, cosine, 0.9));
    expect(value).toEqual(naive(rows, 0.9));
    expect(made).toEqual([numbers]);
  });

  it('are worked out once for batches of one length, again for another', async () => {
    const module = await fresh();
    const random = lcg(97);
    const batch = (dims: number) => Array.from({ length: 8 }, () => Array.from({ length: dims }, random));
    const from = vi.spyOn(Int32Array, 'from');
    try {
      for (const dims of [384, 384, 384, 40, 40, 384]) {
        const rows = batch(dims);
        expect(module.vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), rows, dims, cosine, 0.9)).toEqual(naive(rows, 0.9));
      }
      expect(from).toHaveBeenCalledTimes(3);
    } finally {
      from.mockRestore();
    }
  });
});

describe('vectorLeaders: the rows the bounds hold for have a squared norm within [1e-150, 1e150], both ends in', () => {
  // A row of squared norm exactly 1e-150 (or 1e150; found by search: these two doubles' squares add up to it to
  // the bit) and an unrelated one: the bounds refuse the pair after a few coordinates, as they refuse it for the
  // same row scaled into the range; a row outside it would be scored in full (every coordinate of both read).
  it.each([
    ['1e-150', [7.071096096136723e-76, 7.07103952748109e-76], 2],
    ['1e150', [7.071067811865475e74, 7.071067811865475e74], 0.5],
  ])('a row of squared norm exactly %s: its pairs read as few coordinates as inside the range', (bound, [a, b], inside) => {
    const random = lcg(101);
    const other = [0, 0, ...Array.from({ length: 62 }, random)];
    const edge = [a!, b!, ...new Array<number>(62).fill(0)];
    expect(edge.reduce((s, x) => s + x * x, 0)).toBe(Number(bound));
    const reads = (row: number[]) => {
      const count = { n: 0 };
      const rows = [row, other];
      expect(shared.vectorLeaders(['g', 'g'], [0, 1], counted(rows, count), 64, cosine, 0.9)).toEqual(naive(rows, 0.9));
      return count.n;
    };
    expect(reads(edge)).toBe(reads(edge.map((x) => x * inside)));
  });
});

describe('vectorLeaders: the per-row numbers of a search are kept for the next one up to 2^17 numbers (1 MB)', () => {
  // Rows of one dimension (no checkpoint: 2 numbers a row, its squared norm and norm), each in a group of its own
  // (nothing compared), at threshold 0 (every pair scored: no bound needed).
  it.each([
    ['2^17 numbers (65,536 rows) are kept', 65_536, []],
    ['2^17 + 8 (65,540 rows, as 4 rows are summed side by side) are not', 65_537, [131_080]],
  ])('%s', async (_what, n, again) => {
    const module = await fresh();
    const rows = Array.from({ length: n }, () => [1]);
    const groups = rows.map((_, i) => `g${i}`);
    const search = () => allocations(() => module.vectorLeaders(groups, rows.map((_, i) => i), rows, 1, cosine, 0));
    const first = search();
    expect(first.made).toEqual([2 * Math.ceil(n / 4) * 4]);
    expect(first.value).toEqual(rows.map((_, i) => i));
    expect(search().made).toEqual(again);
  });
});

describe('vectorLeaders at threshold 0: no bound, so no norms of the rows\' tails kept', () => {
  it('4 rows of 384 dimensions keep 2 numbers each (squared norm and norm), not 2 + 5 checkpoints', async () => {
    const module = await fresh();
    const random = lcg(103);
    const rows = Array.from({ length: 4 }, () => Array.from({ length: 384 }, random));
    const { value, made } = allocations(() => module.vectorLeaders(['g', 'g', 'g', 'g'], [0, 1, 2, 3], rows, 384, cosine, 0));
    expect(value).toEqual(naive(rows, 0));
    expect(made).toEqual([4 * 2]);
  });
});

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s: a candidate\'s largest coordinates are picked above 4 / dimensions of its squared norm', (_scan, wasm) => {
  it('200 unrelated rows whose first 40 coordinates are middling (0.15) and 8 others large: the large ones are picked, and the pairs refused on them', () => {
    const allowed = shared.allowColumnKernel(wasm);
    try {
      const random = lcg(107);
      // Squared norm about 13: the floor 4 / 384 of it is about 0.14, above the middling coordinates' 0.0225. Picked
      // at a quarter of it (or any floor below 0.0225), the first 32 middling coordinates would fill the picks, and
      // no pair would be refused on them.
      const rows = Array.from({ length: 200 }, () => {
        const v = Array.from({ length: 384 }, (_, d) => (d < 40 ? (random() < 0 ? -0.15 : 0.15) : 0.001 * random()));
        for (let k = 0; k < 8; k++) v[100 + 35 * k + Math.floor(((random() + 1) / 2) * 35)] = 1 + 0.5 * random();
        return Float32Array.from(v);
      });
      const { leaders, readsPerCoordinate } = run(shared, rows, 384, 0.9);
      expect(leaders).toEqual(naive(rows, 0.9));
      expect(readsPerCoordinate).toBeLessThan(wasm ? 2.5 : 3.5);
    } finally {
      shared.allowColumnKernel(allowed);
    }
  });
});

describe('vectorLeaders, small batch: the checkpoints refuse pairs at any scale the bounds hold for', () => {
  it.each([
    ['1e-40', 1e-40],
    ['1', 1],
    ['1e40', 1e40],
  ])('16 random rows times %s at 0.98: fewer than 2 reads of each coordinate, as at scale 1', (_scale, scale) => {
    const random = lcg(113);
    const rows = Array.from({ length: 16 }, () => Array.from({ length: 384 }, () => random() * scale));
    const { leaders, readsPerCoordinate } = run(shared, rows, 384, 0.98);
    expect(leaders).toEqual(naive(rows, 0.98));
    // Once for the norms, then each pair stopped at the first checkpoint or so (about 1.5); the tails' slack, in
    // proportion to the row's squared norm, refuses as much at any scale.
    expect(readsPerCoordinate).toBeLessThan(2);
  });
});

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s: the groups\' columns lie side by side, and none spills into the next', (_scan, wasm) => {
  it('a leader added to the first group after the second group\'s leaders leaves their columns alone: a near copy still merges', () => {
    const allowed = shared.allowColumnKernel(wasm);
    try {
      const random = lcg(127);
      const dims = 48;
      const spread = () => Array.from({ length: dims }, () => 0.01 * random());
      const on = (d: number, x: number) => {
        const v = spread();
        v[d] = x;
        return v;
      };
      // Group a (2 rows: one block of 8 leaders, its columns first), group b after it, then a's second leader
      // (slot 1, next to b's slot 1 in memory), then a near copy of b's second leader, whose largest coordinate is
      // dimension 0, and 70 unrelated rows of a group c to make the batch large.
      const rows: number[][] = [on(5, 3), on(9, 3), on(0, 5), on(11, 3)];
      const groups = ['a', 'b', 'b', 'a'];
      rows.push(rows[2]!.map((x) => x + 0.01 * random()));
      groups.push('b');
      for (const v of peaked(70, dims, 131)) {
        rows.push(v);
        groups.push('c');
      }
      const leaders = shared.vectorLeaders(groups, rows.map((_, i) => i), rows, dims, cosine, 0.9);
      expect(leaders).toEqual(naive(rows, 0.9, groups));
      expect(leaders[4]).toBe(2);
    } finally {
      shared.allowColumnKernel(allowed);
    }
  });
});

describe('vectorLeaders, small batch: a row with nothing past a checkpoint has a tail of about 0 there, not an unknown one', () => {
  it('16 random rows on the first 12 of 384 dimensions (the first checkpoint) at 0.98: each pair stops at the first checkpoint', () => {
    const random = lcg(137);
    const rows = Array.from({ length: 16 }, () => Array.from({ length: 384 }, (_, d) => (d < 12 ? random() : 0)));
    const { leaders, readsPerCoordinate } = run(shared, rows, 384, 0.98);
    expect(leaders).toEqual(naive(rows, 0.98));
    expect(leaders).toEqual(rows.map((_, i) => i));
    // Once for the norms, then 12 coordinates of both rows for each of the 120 pairs: about 1.47. A tail of
    // sqrt(0 - slack), NaN, would refuse nothing, and every pair would be read in full (about 16).
    expect(readsPerCoordinate).toBeLessThan(1.6);
  });
});

describe('vectorLeaders: a search started from inside another (a guard that deduplicates)', () => {
  it('the larger of the two searches\' numbers is kept for the next batch', async () => {
    const module = await fresh();
    const random = lcg(139);
    // The outer batch: 8 rows of 32 dimensions at 0.9 (8 x 7 = 56 numbers); the inner one, run by the guard on its
    // first call: 48 rows (336 numbers), made while the outer search holds the spare.
    const inner = Array.from({ length: 48 }, () => Array.from({ length: 32 }, random));
    const base = Array.from({ length: 32 }, random);
    const outer = Array.from({ length: 8 }, () => base.map((x) => x + 0.01 * random()));
    let nested = 0;
    const guard = () => {
      if (nested++ === 0) expect(module.vectorLeaders(inner.map(() => 'g'), inner.map((_, i) => i), inner, 32, cosine, 0.9)).toEqual(naive(inner, 0.9));
      return true;
    };
    const first = allocations(() => module.vectorLeaders(outer.map(() => 'g'), outer.map((_, i) => i), outer, 32, cosine, 0.9, guard));
    expect(first.value).toEqual(naive(outer, 0.9));
    expect(nested).toBeGreaterThan(0);
    expect(first.made).toEqual([56, 336]);
    // The next batch of 48 rows finds the inner search's numbers kept.
    const next = allocations(() => module.vectorLeaders(inner.map(() => 'g'), inner.map((_, i) => i), inner, 32, cosine, 0.9));
    expect(next.value).toEqual(naive(inner, 0.9));
    expect(next.made).toEqual([]);
  });
});
