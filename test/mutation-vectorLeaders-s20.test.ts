/**
 * src/dedup/vectorLeaders.ts where the stop-20 mutation run found behaviour no test guarded. Most of its edits
 * give the same leaders, only slower (a bound made looser, a path taken at the wrong size), so the differential
 * tests (test/dedup-leaders, test/dedup-small) cannot tell: these tests hand the rows over behind a Proxy that
 * counts every coordinate read, the work the search promises to spare (docs/decisions.md, "Exact pruning of
 * semantic dedup", "Semantic dedup of a small batch").
 */
import { similarity } from 'ml-distance';
import { afterEach, describe, expect, it } from 'vitest';
import { allowColumnKernel, setSmallBatch, vectorLeaders } from '../src/dedup/vectorLeaders.js';
import { cosine, counted, lcg, naive, peaked, run } from './support-vectorLeaders.js';

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s: the work it spares', (_scan, wasm) => {
  let allowed: boolean | undefined;
  afterEach(() => {
    if (allowed !== undefined) allowColumnKernel(allowed);
    allowed = undefined;
  });

  it.each([
    ['numbers', false],
    ['Float32Array rows', true],
  ])('a batch of 200 unrelated candidates (%s) goes through the leader columns: about 3 reads of each coordinate, no pair scored', (_rows, f32) => {
    allowed = allowColumnKernel(wasm);
    const raw = peaked(200, 384, 3);
    const rows = f32 ? raw.map((v) => Float32Array.from(v)) : raw;
    const { leaders, readsPerCoordinate } = run(rows, 384, 0.9);
    expect(leaders).toEqual(raw.map((_, i) => i));
    // Each row read once for its norm, once as a candidate (its largest coordinates), once as a leader (its
    // column entries): 3; the pairs, refused on the candidate's largest coordinates, read nothing. Every pair
    // checked on its coordinates instead (the small batch's way) reads about 12 times as much. With the
    // WebAssembly scan, 32-bit rows are copied to its memory once per candidate and picked and written from there:
    // about 2.2.
    expect(readsPerCoordinate).toBeLessThan(wasm && f32 ? 2.5 : 3.5);
  });

  it('two groups of 100 unrelated candidates, interleaved: each group its own columns, still about 3 reads of each coordinate', () => {
    allowed = allowColumnKernel(wasm);
    const raw = peaked(200, 384, 23);
    const groups = raw.map((_, i) => (i % 2 === 0 ? 'even' : 'odd'));
    const reads = { n: 0 };
    const leaders = vectorLeaders(groups, raw.map((_, i) => i), counted(raw, reads), 384, cosine, 0.9);
    expect(leaders).toEqual(raw.map((_, i) => i));
    expect(reads.n / (200 * 384)).toBeLessThan(3.5);
  });

  it('a batch of 16 candidates skips the leader columns: fewer than 2 reads of each coordinate at 0.98', () => {
    allowed = allowColumnKernel(wasm);
    const random = lcg(11);
    const raw = Array.from({ length: 16 }, () => Array.from({ length: 384 }, random));
    const { leaders, readsPerCoordinate } = run(raw, 384, 0.98);
    expect(leaders).toEqual(naive(raw, 0.98));
    // Once for the norms, then each pair stopped at the first checkpoint (1/32 of the coordinates) or so: about
    // 1.5. The leader columns' set-up alone reads every row twice more (about 3.9 in all).
    expect(readsPerCoordinate).toBeLessThan(2);
  });
});

describe('vectorLeaders: the small-batch limit', () => {
  it('a batch of exactly 64 candidates is small, of 65 is not (the columns only pay past it)', () => {
    const random = lcg(5);
    const raw = Array.from({ length: 65 }, () => Array.from({ length: 384 }, random));
    const sixtyFour = run(raw.slice(0, 64), 384, 0.98);
    const was = setSmallBatch(63);
    try {
      const asLarge = run(raw.slice(0, 64), 384, 0.98);
      expect(asLarge.leaders).toEqual(sixtyFour.leaders);
      expect(sixtyFour.readsPerCoordinate).not.toBe(asLarge.readsPerCoordinate);
    } finally {
      setSmallBatch(was);
    }
    const sixtyFive = run(raw, 384, 0.98);
    const was2 = setSmallBatch(65);
    try {
      const asSmall = run(raw, 384, 0.98);
      expect(asSmall.leaders).toEqual(sixtyFive.leaders);
      expect(sixtyFive.readsPerCoordinate).not.toBe(asSmall.readsPerCoordinate);
    } finally {
      setSmallBatch(was2);
    }
  });
});

describe('vectorLeaders: WebAssembly memory that cannot grow', () => {
  it('the batch runs in JavaScript, with the naive loop\'s leaders', () => {
    const allowed = allowColumnKernel(true);
    const random = lcg(9);
    const dims = 48;
    // Batches first, whose rows and columns stay in the WebAssembly memory: one of 32-bit rows, then one of numbers.
    const first = peaked(100, dims, 13).map((v) => Float32Array.from(v));
    const second = peaked(100, dims, 17);
    for (const batch of [first, second]) expect(vectorLeaders(batch.map(() => 'g'), batch.map((_, i) => i), batch, dims, cosine, 0.9)).toEqual(batch.map((_, i) => i));
    // Then one whose memory reads as empty and will not grow (a runtime out of memory for WebAssembly): near
    // copies of a few peaked vectors, which merge, and whose largest coordinates alone would refuse a pair if the
    // search read what the earlier batches left there.
    const centres = peaked(5, dims, 19);
    const vectors = Array.from({ length: 150 }, (_, i) => Float32Array.from(centres[i % 5]!.map((x) => x + 0.02 * random())));
    const proto = WebAssembly.Memory.prototype;
    const buffer = Object.getOwnPropertyDescriptor(proto, 'buffer')!;
    const grow = Object.getOwnPropertyDescriptor(proto, 'grow')!;
    let grew = 0;
    Object.defineProperty(proto, 'buffer', { configurable: true, get: () => new ArrayBuffer(0) });
    Object.defineProperty(proto, 'grow', {
      configurable: true,
      writable: true,
      value: () => {
        grew++;
        throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
      },
    });
    let leaders: number[];
    try {
      leaders = vectorLeaders(vectors.map(() => 'g'), vectors.map((_, i) => i), vectors, dims, cosine, 0.9);
    } finally {
      Object.defineProperty(proto, 'buffer', buffer);
      Object.defineProperty(proto, 'grow', grow);
      allowColumnKernel(allowed);
    }
    expect(grew).toBe(1);
    expect(leaders).toEqual(naive(vectors, 0.9));
    // And the next batch has its memory again.
    expect(vectorLeaders(first.map(() => 'g'), first.map((_, i) => i), first, dims, cosine, 0.9)).toEqual(first.map((_, i) => i));
  });
});

describe('vectorLeaders, small batch: a candidate left with one leader surely above the threshold joins it unscored', () => {
  it('8 vectors and a near copy of each: each copy reads its pair once (classify), not twice (classify, then score)', () => {
    const random = lcg(21);
    const dims = 384;
    const originals = Array.from({ length: 8 }, () => Array.from({ length: dims }, random));
    const raw = [...originals, ...originals.map((v) => v.map((x) => x + 0.01 * random()))];
    const { leaders, readsPerCoordinate } = run(raw, dims, 0.9);
    expect(leaders).toEqual(naive(raw, 0.9));
    expect(leaders.slice(8)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // Norms: 1; the copies' pairs with their originals read in full by classify: 8 x 2 / 16 = 1; the other pairs
    // up to a checkpoint: 3.36 in all. Scoring the 8 pairs as well reads 1 more (4.36).
    expect(readsPerCoordinate).toBeLessThan(3.8);
  });
});

describe('vectorLeaders: the WebAssembly memory is kept between batches', () => {
  it('a batch of 2,000 candidates in 384 dimensions (about 1.5 MB of columns) compiles no new module after it', () => {
    const allowed = allowColumnKernel(true);
    const Module = WebAssembly.Module;
    let compiled = 0;
    try {
      const warm = peaked(100, 384, 29).map((v) => Float32Array.from(v));
      vectorLeaders(warm.map(() => 'g'), warm.map((_, i) => i), warm, 384, cosine, 0.9);
      (WebAssembly as { Module: typeof WebAssembly.Module }).Module = class extends Module {
        constructor(bytes: BufferSource) {
          super(bytes);
          compiled++;
        }
      };
      const big = peaked(2000, 384, 31).map((v) => Float32Array.from(v));
      // (Its leaders are the differential tests' business: test/dedup-leaders.)
      expect(vectorLeaders(big.map(() => 'g'), big.map((_, i) => i), big, 384, cosine, 0.9)).toHaveLength(2000);
      expect(vectorLeaders(warm.map(() => 'g'), warm.map((_, i) => i), warm, 384, cosine, 0.9)).toEqual(warm.map((_, i) => i));
    } finally {
      (WebAssembly as { Module: typeof WebAssembly.Module }).Module = Module;
      allowColumnKernel(allowed);
    }
    // Its columns take a 64th of what a memory may keep (64 MB): one column block per 64 leaders, not per leader.
    expect(compiled).toBe(0);
  });
});

describe('vectorLeaders with the WebAssembly scan: where a candidate\'s row, its picks and the columns lie', () => {
  it('a candidate with 32 large coordinates picked (the most kept) leaves the first leaders\' columns alone', () => {
    const allowed = allowColumnKernel(true);
    try {
      const random = lcg(37);
      const dims = 384;
      // Dimension 0 carries 44 % of every row's squared norm, 40 more coordinates are large enough to be picked
      // (the row is picked from the WebAssembly memory, up to 32), the rest is small. 60 rows unrelated but for
      // dimension 0 (cosine about 0.45), then near copies of each of the first 40: each merges with its original.
      const originals = Array.from({ length: 60 }, () => {
        const v = Array.from({ length: dims }, () => 0.01 * random());
        v[0] = 5;
        for (let k = 1; k <= 40; k++) v[k] = (random() < 0 ? -1 : 1) * (0.8 + 0.2 * Math.abs(random()));
        return v;
      });
      const copies = originals.slice(0, 40).map((v) => v.map((x) => x + 0.01 * random()));
      const rows = [...originals, ...copies].map((v) => Float32Array.from(v));
      const leaders = vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), rows, dims, cosine, 0.9);
      expect(leaders).toEqual(naive(rows, 0.9));
      expect(leaders.slice(60)).toEqual(originals.slice(0, 40).map((_, i) => i));
    } finally {
      allowColumnKernel(allowed);
    }
  });
});

describe('vectorLeaders with the WebAssembly scan: a row shorter than the last batch\'s', () => {
  it('never reads a coordinate past a row\'s length (the copy\'s padding to 4 coordinates is zeros, never picked)', () => {
    const allowed = allowColumnKernel(true);
    try {
      // A batch of 40 dimensions whose last 3 are large: the row copied last to the WebAssembly memory leaves them
      // where the next batch's rows of 37 dimensions are padded to 40.
      const before = peaked(100, 40, 41).map((v) => Float32Array.from(v.map((x, d) => (d >= 37 ? 50 : x))));
      vectorLeaders(before.map(() => 'g'), before.map((_, i) => i), before, 40, cosine, 0.9);
      const rows = peaked(100, 37, 43).map((v) => Float32Array.from(v));
      const past: string[] = [];
      const watched = rows.map(
        (row) =>
          new Proxy(row, {
            get(target, key) {
              if (typeof key === 'string' && /^\d+$/.test(key) && Number(key) >= 37) past.push(key);
              const value = Reflect.get(target, key, target) as unknown;
              return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
            },
          }),
      );
      const leaders = vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), watched, 37, cosine, 0.9);
      expect(leaders).toEqual(naive(rows, 0.9));
      expect(past).toEqual([]);
    } finally {
      allowColumnKernel(allowed);
    }
  });
});

describe('vectorLeaders: one search at a time in the WebAssembly memory, and it is given back', () => {
  it('after a search with the WebAssembly scan, and after one without, the next search uses it again', () => {
    const allowed = allowColumnKernel(true);
    try {
      const rows = peaked(200, 384, 47).map((v) => Float32Array.from(v));
      // 32-bit rows through the WebAssembly scan read about 2.2 times each coordinate, through the JavaScript one 3.2.
      expect(run(rows, 384, 0.9).readsPerCoordinate).toBeLessThan(2.5);
      expect(run(rows, 384, 0.9).readsPerCoordinate).toBeLessThan(2.5);
      allowColumnKernel(false);
      expect(run(rows, 384, 0.9).readsPerCoordinate).toBeGreaterThan(3);
      allowColumnKernel(true);
      expect(run(rows, 384, 0.9).readsPerCoordinate).toBeLessThan(2.5);
    } finally {
      allowColumnKernel(allowed);
    }
  });
});

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s: which candidates are checked on the columns', (_scan, wasm) => {
  it('a candidate alone in its group is not prepared for the checks: 200 groups of one read each coordinate twice', () => {
    const allowed = allowColumnKernel(wasm);
    try {
      const raw = peaked(200, 384, 53);
      const reads = { n: 0 };
      const leaders = vectorLeaders(raw.map((_, i) => `g${i}`), raw.map((_, i) => i), counted(raw, reads), 384, cosine, 0.9);
      expect(leaders).toEqual(raw.map((_, i) => i));
      // Once for the norms, once for the leader's column entries; its largest coordinates are never looked for.
      expect(reads.n / (200 * 384)).toBeLessThan(2.05);
    } finally {
      allowColumnKernel(allowed);
    }
  });

  it('a candidate the bounds do not hold for is scored against every leader, as the naive loop scores it (a squared norm that underflows with the leader\'s)', () => {
    const allowed = allowColumnKernel(wasm);
    try {
      const random = lcg(59);
      // 70 unrelated leaders (past the small batch), one with a tiny norm (its squared norm 2e-150, just in the
      // range the bounds hold for), then a candidate whose squared norm (1.25e-320) times that one's underflows
      // to 0: ml-distance's formula gives a positive dot product over 0, Infinity, clamped to 1, though the
      // cosine is about 0.32. The naive loop merges them; a bound would refuse the pair.
      // (The others are in dimensions 2 to 7 only: orthogonal to both.)
      const rows: number[][] = Array.from({ length: 70 }, () => [0, 0, ...Array.from({ length: 6 }, random)]);
      rows.push([1e-75, 1e-75, 0, 0, 0, 0, 0, 0]);
      rows.push([1e-160, -0.5e-160, 0, 0, 0, 0, 0, 0]);
      expect(similarity.cosine(rows[70]!, rows[71]!)).toBe(Infinity);
      const leaders = vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), rows, 8, cosine, 0.9);
      expect(leaders).toEqual(naive(rows, 0.9));
      expect(leaders[71]).toBe(70);
    } finally {
      allowColumnKernel(allowed);
    }
  });
});

describe.each([
  ['the WebAssembly scan', true],
  ['the JavaScript scan', false],
])('vectorLeaders with %s: a leader the bounds do not hold for', (_scan, wasm) => {
  it('is never refused by the columns: scored, as the naive loop scores it (its squared norm underflows with the candidate\'s)', () => {
    const allowed = allowColumnKernel(wasm);
    try {
      const random = lcg(61);
      // 70 leaders in dimensions 2 to 7, then one of a tiny norm (squared 1.25e-320: outside the bounds' range, its
      // column entries zeros), then a candidate just inside the range (squared 2e-150) in the same plane: the
      // product of their squared norms underflows, ml-distance's formula gives Infinity (clamped to 1), and the
      // naive loop merges them; its zero column entries would refuse the pair.
      const rows: number[][] = Array.from({ length: 70 }, () => [0, 0, ...Array.from({ length: 6 }, random)]);
      rows.push([1e-160, -0.5e-160, 0, 0, 0, 0, 0, 0]);
      rows.push([1e-75, 1e-75, 0, 0, 0, 0, 0, 0]);
      rows.push([0, 0, ...Array.from({ length: 6 }, random)]);
      expect(similarity.cosine(rows[70]!, rows[71]!)).toBe(Infinity);
      const leaders = vectorLeaders(rows.map(() => 'g'), rows.map((_, i) => i), rows, 8, cosine, 0.9);
      expect(leaders).toEqual(naive(rows, 0.9));
      expect(leaders[71]).toBe(70);
    } finally {
      allowColumnKernel(allowed);
    }
  });
});
