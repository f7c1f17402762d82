/**
 * src/dedup/vectorLeaders.ts where the stop-21 mutation run (issue 17, the ranges no run had measured: the column
 * kernel's set-up, `LeaderColumns`, and `CosineRows`' per-row numbers) found behaviour no test guarded. As in
 * test/mutation-vectorLeaders-s20, most edits there give the same leaders with more work, so the rows are handed
 * in behind a Proxy that counts coordinate reads; the kernel is compiled once per module, so the tests of its
 * set-up import a fresh copy of the module (`vi.resetModules`), and count the WebAssembly compiles and the typed
 * arrays a search allocates. Every answer is also held to the naive all-pairs loop.
 */
import { similarity } from 'ml-distance';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { metricByName } from '../src/dedup/metric.js';
import * as shared from '../src/dedup/vectorLeaders.js';

const cosine = metricByName('cosine')!;
type Module = typeof shared;

/** A fresh copy of the module: no kernel compiled yet, no numbers kept from an earlier search. */
async function fresh(): Promise<Module> {
  vi.resetModules();
  return (await import('../src/dedup/vectorLeaders.js')) as Module;
}

function lcg(seed: number): () => number {
  let state = seed;
  return () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

/** The rows behind proxies that count the coordinates read (`reads.n`); `length` is not counted. */
function counted<T extends ArrayLike<number>>(rows: readonly T[], reads: { n: number }): T[] {
  return rows.map(
    (row) =>
      new Proxy(row, {
        get(target, key) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads.n++;
          const value = Reflect.get(target, key, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      }),
  );
}

/** n vectors, each with 8 large coordinates at random dimensions and small noise elsewhere: unrelated pairs. */
function peaked(n: number, dims: number, seed: number, scale = 1): number[][] {
  const random = lcg(seed);
  return Array.from({ length: n }, () => {
    const v = Array.from({ length: dims }, () => 0.01 * random() * scale);
    for (let k = 0; k < 8; k++) v[Math.floor(((random() + 1) / 2) * dims) % dims] = (1 + 0.5 * random()) * scale;
    return v;
  });
}

/** The specification: every pair with ml-distance's cosine, greedy in arrival order. */
function naive(vectors: readonly ArrayLike<number>[], threshold: number, groups?: readonly string[]): number[] {
  const leaderOf: number[] = [];
  const leaders: number[] = [];
  vectors.forEach((v, i) => {
    let best = -1;
    let bestScore = -Infinity;
    for (const l of leaders) {
      if (groups && groups[l] !== groups[i]) continue;
      const raw = similarity.cosine(Array.from(vectors[l]!), Array.from(v));
      const s = Number.isNaN(raw) ? 0 : Math.min(1, Math.max(0, raw));
      if (s >= threshold && s > bestScore) {
        best = l;
        bestScore = s;
      }
    }
    if (best === -1) leaders.push(i);
    leaderOf.push(best === -1 ? i : best);
  });
  return leaderOf;
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
  // The next file gets the module as it imports it.
  vi.resetModules();
});

describe('vectorLeaders: the WebAssembly kernel is compiled once, and used', () => {
  it('a fresh module compiles it at its first search of a large batch, uses it (32-bit rows read about 2.2 times each), and compiles nothing after', async () => {
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
