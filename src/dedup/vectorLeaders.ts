import { describeValue } from '../base/describeValue.js';
import { COLUMN_SCAN_WASM } from './columnScanWasm.js';
import type { ResolvedMetric } from './metric.js';

/**
 * Greedy leader assignment over vectors, in arrival order: each candidate joins the most similar existing leader
 * of its group scoring at least `threshold` (the earliest on a tie), or becomes a leader. The result is exactly
 * that of the naive loop scoring every (leader, candidate) pair; only the work differs.
 *
 * For cosine (see docs/decisions.md, "Exact pruning of semantic dedup", "Semantic dedup: the candidate's
 * coordinates against leader columns" and "16-bit leader columns"): each row's norm is computed once, each
 * candidate picks its 16 largest coordinates (by magnitude), and each leader is stored as a unit vector in 16-bit
 * integers, dimension by dimension. A pair is first checked on the candidate's coordinates only: their part of
 * the dot product plus the Cauchy-Schwarz bound of the rest is an upper bound of the cosine, and below the
 * threshold (less a margin for rounding) it proves the pair cannot merge. At a high threshold this refuses about
 * 93 % of unrelated pairs after 4 multiplications, 99.7 % after 8 and nearly all after 16; the limit depends on
 * the candidate alone, so the check runs down the leaders' columns, eight leaders at a time in WebAssembly SIMD
 * (in JavaScript where WebAssembly is missing, with the same integers). A pair it does not refuse is checked on
 * its coordinates in order, summed four ways with bounds at checkpoints (`CosineRows.classify`), and scored
 * (`CosineRows.score`) in ml-distance's order, so the score agrees with ml-distance's `cosine` to the last bit.
 * A batch of up to 64 candidates skips the columns: each pair goes to `classify` directly, and a candidate left
 * with a single leader surely above the threshold joins it without the score (docs/decisions.md, "Semantic dedup
 * of a small batch"). Rows whose squared norm is tiny or huge, where that formula is not the cosine, are scored
 * in full. With a threshold of 0 no bound can refuse anything, and every pair is scored. Any other metric is
 * called on every pair (no bound is known for it).
 *
 * @param groups Group of each candidate; only candidates of equal group are compared.
 * @param rows Row of each candidate in `vectors`.
 * @param vectors The distinct vectors, all of length `dimensions`.
 * @param allowMerge Asked only for pairs at or above the threshold (a custom merge guard).
 * @return For each candidate, the index of its leader among the candidates (itself when it leads).
 */
export function vectorLeaders(
  groups: readonly string[],
  rows: readonly number[],
  vectors: readonly ArrayLike<number>[],
  dimensions: number,
  metric: ResolvedMetric,
  threshold: number,
  allowMerge?: (leader: number, candidate: number) => boolean,
): number[] {
  if (metric.kind === 'cosine') {
    const cosine = new CosineRows(vectors, dimensions, threshold);
    try {
      if (cosine.prunes && groups.length > smallBatch) return prunedCosineLeaders(groups, rows, cosine, threshold, allowMerge);
      // A small batch (or no bound): every pair, most settled by `classify` without the exact score.
      return naiveLeaders(groups, rows, (a, b) => cosine.score(a, b), threshold, allowMerge, cosine.prunes ? cosine : undefined);
    } finally {
      cosine.release();
    }
  }
  const score = metric.score;
  return naiveLeaders(groups, rows, (a, b) => clampScore(score(vectors[a]!, vectors[b]!)), threshold, allowMerge);
}

/**
 * The specification: every (leader, candidate) pair of a group scored, in arrival order. With `bounds` (cosine
 * in a small batch: `CosineRows.classify`), a pair they put surely below the threshold is skipped, and a candidate
 * left with one leader, surely above it, joins that one if the guard allows, without its score: the pairs skipped
 * score below the threshold in the naive loop, so they could neither merge nor be best there, and it asks the guard
 * about the one pair left alone. The leaders left otherwise are scored as the naive loop scores them, in order.
 */
function naiveLeaders(
  groups: readonly string[],
  rows: readonly number[],
  score: (a: number, b: number) => number,
  threshold: number,
  allowMerge?: (leader: number, candidate: number) => boolean,
  bounds?: CosineRows,
): number[] {
  const leaderOf: number[] = [];
  const leadersByGroup = new Map<string, number[]>();
  // The candidate's leaders not skipped, in order (emptied after each candidate), and where the last of them
  // stands (`classify`: 1 when surely above the threshold).
  const left: number[] = [];
  let last = 0;
  for (let i = 0; i < groups.length; i++) {
    let leaders = leadersByGroup.get(groups[i]!);
    if (!leaders) leadersByGroup.set(groups[i]!, (leaders = []));
    for (const leader of leaders) {
      const where = bounds ? bounds.classify(rows[leader]!, rows[i]!) : 0;
      if (where >= 0) {
        left.push(leader);
        last = where;
      }
    }
    let best = -1;
    let bestScore = -Infinity;
    if (left.length === 1 && last > 0) {
      if (!allowMerge || allowMerge(left[0]!, i)) best = left[0]!;
    } else {
      for (const leader of left) {
        const s = score(rows[leader]!, rows[i]!);
        if (s >= threshold && s > bestScore && (!allowMerge || allowMerge(leader, i))) {
          best = leader;
          bestScore = s;
        }
      }
    }
    left.length = 0;
    if (best === -1) leaders.push(i);
    leaderOf.push(best === -1 ? i : best);
  }
  return leaderOf;
}

/**
 * How many of a candidate's largest coordinates (by magnitude) the first checks read: three stages, of its HALF,
 * SECOND and TOP largest.
 */
const TOP = 16;
const HALF = 4;
const SECOND = 8;
/** At most how many large coordinates of a candidate `CosineRows.candidate` picks its largest from. */
const PICKS = 32;
/** Leaders per block of `LeaderColumns` (fewer in a smaller group); a multiple of 8, for the WebAssembly scan. */
const BLOCK = 64;
/**
 * Bytes at the start of the WebAssembly memory for the candidate: its TOP coordinates in 16-bit pairs (TOP / 2
 * i32), then TOP column offsets (i32).
 */
const SCRATCH_BYTES = TOP * 6;
/**
 * The columns hold unit vectors' coordinates times SCALE, rounded to integers (16 bits), and so do a candidate's
 * TOP coordinates: the first checks sum exact integer products (see `CosineRows.candidate`).
 */
const SCALE = 32767;
/** A memory grown past this for a batch is let go after it (the next batch makes a new one), not kept for ever. */
const KEEP_MEMORY_BYTES = 64 * 2 ** 20;
/**
 * Scratch of `CosineRows.candidate`, which calls nothing that could start another search: the dimensions of a
 * candidate's large coordinates, and the largest magnitudes.
 */
const PICKED = new Int32Array(PICKS);
const TOP_MAGNITUDES = new Float64Array(TOP);

/**
 * The first checks of the search, eight leaders at a time in WebAssembly SIMD, and the per-row work around them
 * (scripts/gen-column-scan.mjs).
 */
interface ColumnKernel {
  readonly memory: WebAssembly.Memory;
  /** The first leader in [from, end) whose checks pass, or -1 (see scripts/gen-column-scan.mjs). */
  readonly scan: (cols: number, width: number, stride: number, end: number, from: number, first: number, second: number, third: number) => number;
  /** The indexes of the f32 row at `row` whose square is at least `floor`, written from `out`; how many (up to max). */
  readonly pick: (row: number, n: number, floor: number, out: number, max: number) => number;
  /** `data[dst / 2 + k * step / 2] = row[k] * scale` for k < n, truncated to 16 bits as an Int16Array store does. */
  readonly unit: (row: number, n: number, scale: number, dst: number, step: number) => void;
}

/**
 * Up to how many candidates a batch skips the leader columns: every (leader, candidate) pair is checked on its
 * coordinates in order, with the checkpoints' bounds (`CosineRows.classify`), with nothing set up per leader.
 * Below this the columns' set-up (each leader's unit vector written, each candidate's largest coordinates sorted)
 * costs more than the pairs they spare; see docs/decisions.md, "Semantic dedup of a small batch".
 */
const SMALL_BATCH = 64;
let smallBatch = SMALL_BATCH;

/**
 * Sets up to how many candidates a batch takes the small-batch path (SMALL_BATCH by default; 0: never), and returns
 * the previous setting. Only for tests, which hold both paths to the naive loop at every size.
 * @internal
 */
export function setSmallBatch(limit: number | undefined): number {
  const was = smallBatch;
  smallBatch = limit ?? SMALL_BATCH;
  return was;
}

/** undefined: not tried yet; null: not available here (no WebAssembly, no SIMD, or compiling is not allowed). */
let kernel: ColumnKernel | null | undefined;
let kernelAllowed = true;
/** Whether a search is using the WebAssembly memory (see `prunedCosineLeaders`). */
let kernelBusy = false;

/**
 * Whether the search may use the WebAssembly scan (where it is available). Only for tests, which run both
 * kernels against the naive loop; the plain JavaScript scan is what runs where WebAssembly is missing.
 * @internal
 */
export function allowColumnKernel(allowed: boolean): boolean {
  const was = kernelAllowed;
  kernelAllowed = allowed;
  return was;
}

/**
 * Whether the search uses the WebAssembly scan here and now (false where WebAssembly or its SIMD is missing, or
 * after `allowColumnKernel(false)`). For tests, which must know which scan they check.
 * @internal
 */
export function columnKernelInUse(): boolean {
  return columnKernel() !== undefined;
}

function columnKernel(): ColumnKernel | undefined {
  if (!kernelAllowed) return undefined;
  if (kernel === undefined) {
    kernel = null;
    try {
      // Throws where WebAssembly is missing (a ReferenceError), where its SIMD is (a CompileError), and where
      // compiling from bytes is forbidden (a content security policy, some edge runtimes): `kernel` then stays
      // null, set before the try.
      const { exports } = new WebAssembly.Instance(new WebAssembly.Module(COLUMN_SCAN_WASM));
      kernel = {
        memory: exports['memory'] as WebAssembly.Memory,
        scan: exports['scan'] as ColumnKernel['scan'],
        pick: exports['pick'] as ColumnKernel['pick'],
        unit: exports['unit'] as ColumnKernel['unit'],
      };
    } catch {
      // No WebAssembly scan here: the JavaScript one runs, with the same integers.
    }
  }
  return kernel ?? undefined;
}

/**
 * The leaders of one group, as unit vectors times SCALE rounded to 16-bit integers, stored dimension by dimension
 * in blocks of `width` leaders: coordinate d of leader j is `data[base + (j / width) * stride + d * width + j %
 * width]`. A candidate's first checks read, block by block, the columns of its own TOP largest coordinates:
 * contiguous runs, no index array. A leader the bounds do not hold for (`CosineRows.bounded`) is listed in
 * `loose`: the scans stop before it, and it is scored whatever the checks would say.
 */
class LeaderColumns {
  count = 0;
  /** Candidate index of each leader. */
  readonly ids: Int32Array;
  /** Row (in `vectors`) of each leader. */
  readonly rows: Int32Array;
  readonly width: number;
  /** Coordinates per block. */
  readonly stride: number;
  /** The leaders the bounds do not hold for, in order: never refused. */
  readonly loose: number[] = [];

  /**
   * @param capacity the candidates of the group: at most that many lead
   * @param data where the blocks are, shared by the groups of a batch (the WebAssembly memory, or an array)
   * @param base where this group's first block starts in `data`
   */
  constructor(
    capacity: number,
    dimensions: number,
    readonly data: Int16Array,
    readonly base: number,
  ) {
    this.ids = new Int32Array(capacity);
    this.rows = new Int32Array(capacity);
    this.width = widthOf(capacity);
    this.stride = this.width * dimensions;
  }

  /**
   * Adds the row as the next leader; with `wasm`, the row is at byte `rowAt` of the WebAssembly memory (32-bit
   * rows only, and only a row the bounds hold for: `searchColumns` passes no `wasm` for any other), and its column
   * entries are written there (the same integers as `CosineRows.writeUnit`).
   */
  add(id: number, row: number, cosine: CosineRows, wasm?: ColumnKernel, rowAt = 0): void {
    const j = this.count++;
    this.ids[j] = id;
    this.rows[j] = row;
    const { width } = this;
    const block = (j / width) | 0;
    const at = this.base + block * this.stride + (j - block * width);
    if (wasm) wasm.unit(rowAt, cosine.dimensions, SCALE / cosine.norm[row]!, at * 2, width * 2);
    else if (!cosine.writeUnit(row, this.data, at, width)) this.loose.push(j);
  }

  /**
   * The first leader in [from, end) that the first checks (see `prunedCosineLeaders`) do not refuse, for a
   * candidate with the largest coordinates `q` (times SCALE, rounded) in dimensions `dims` and the integer limits
   * `first` and `second`; -1 when none is. The plain JavaScript scan; `ColumnKernel.scan` does the same eight
   * leaders at a time, with the same integers, so both return the same leader.
   */
  unrefuted(from: number, end: number, q: Int32Array, dims: Int32Array, first: number, second: number, third: number): number {
    const { width, data, stride, base } = this;
    // Stryker disable next-line EqualityOperator: a leader at `end` checked too is returned as `end`, or the scan gives -1: the caller takes both as `end`
    for (let j = from; j < end; j++) {
      const block = (j / width) | 0;
      const at = base + block * stride + j - block * width;
      // Exact: products below 2^30, sums below 2^31 (see `CosineRows.candidate`).
      let a = 0;
      let t = 0;
      for (; t < HALF; t++) a += q[t]! * data[at + dims[t]! * width]!;
      // Stryker disable next-line EqualityOperator: a sum equal to the floored limit is below the threshold as surely (the proof at `CosineRows.candidate` leaves 2.5e-4 of the 4.9e-4 margin): refusing it too changes no answer, and no test can practically set up an exact tie of these integers
      if (a < first) continue;
      for (; t < SECOND; t++) a += q[t]! * data[at + dims[t]! * width]!;
      // Stryker disable next-line EqualityOperator: as above
      if (a < second) continue;
      for (; t < TOP; t++) a += q[t]! * data[at + dims[t]! * width]!;
      // Stryker disable next-line EqualityOperator: as above
      if (a < third) continue;
      return j;
    }
    return -1;
  }
}

/** Leaders per block for a group of `capacity` candidates: a multiple of 8, at most BLOCK. */
function widthOf(capacity: number): number {
  return Math.min(BLOCK, (capacity + 7) & ~7);
}

/**
 * The greedy assignment of `naiveLeaders` for cosine, with bounds in front of every pair. For unit vectors u (the
 * candidate) and v (a leader), with T the candidate's largest coordinates, Cauchy-Schwarz on the other
 * coordinates gives
 *
 *   u . v <= sum over t in T of u[t] * v[t]  +  |u without T| * |v without T|
 *         <= sum over t in T of u[t] * v[t]  +  |u without T|
 *
 * so a pair whose sum over T is below `threshold - |u without T|` (less a margin for rounding, see
 * `CosineRows.candidate`) scores below the threshold in the naive loop too: there it could neither merge nor be
 * best, and skipping it changes nothing. The limit depends on the candidate alone, and the leaders' coordinates
 * on T are read column by column (`LeaderColumns`), in WebAssembly SIMD where it runs, in JavaScript elsewhere.
 * The check is made with the HALF largest coordinates of u, then the SECOND largest, then the TOP largest; a
 * pair that passes all three is checked by `CosineRows.classify` and, unless it refuses, scored (`CosineRows.score`, in ml-distance's order). Leaders are visited in
 * arrival order, and the guard is asked for the same pairs in the same order as in the naive loop.
 */
function prunedCosineLeaders(
  groups: readonly string[],
  rows: readonly number[],
  cosine: CosineRows,
  threshold: number,
  allowMerge?: (leader: number, candidate: number) => boolean,
): number[] {
  const dimensions = cosine.dimensions;
  // Each group's size.
  const sizes = new Map<string, number>();
  for (const group of groups) sizes.set(group, (sizes.get(group) ?? 0) + 1);
  let cells = 0;
  for (const size of sizes.values()) cells += Math.ceil(size / widthOf(size)) * widthOf(size) * dimensions;
  // One search at a time in the WebAssembly memory: a search started from inside another (a custom guard that
  // deduplicates) runs in JavaScript, and leaves the outer one's columns alone.
  let wasm = kernelBusy ? undefined : columnKernel();
  let data: Int16Array | undefined;
  // With 32-bit rows (the semantic deduper's), each candidate's row is copied to the WebAssembly memory after the
  // scratch, its large coordinates picked there (to `picksAt`), and a new leader's columns written from there.
  let rowAt = 0;
  let columnsAt = 0;
  if (wasm) {
    const f32 = cosine.float32;
    rowAt = SCRATCH_BYTES;
    columnsAt = f32 ? rowAt + ((dimensions + 3) & ~3) * 4 + PICKS * 4 : SCRATCH_BYTES;
    const bytes = columnsAt + cells * 2;
    try {
      const have = wasm.memory.buffer.byteLength;
      if (bytes > have) wasm.memory.grow(Math.ceil((bytes - have) / 65536));
      data = new Int16Array(wasm.memory.buffer);
      // The row's padding to a multiple of 4 coordinates: zeros, never picked.
      if (f32) data.fill(0, rowAt / 2, (rowAt + ((dimensions + 3) & ~3) * 4) / 2);
      else rowAt = 0;
    } catch {
      // Out of memory for WebAssembly: this batch goes without, its rows not copied there either.
      wasm = undefined;
      rowAt = 0;
    }
  }
  data ??= new Int16Array(cells);

  if (wasm) kernelBusy = true;
  try {
    return searchColumns(groups, rows, cosine, threshold, allowMerge, sizes, data, wasm, rowAt, columnsAt);
  } finally {
    if (wasm) {
      kernelBusy = false;
      if (wasm.memory.buffer.byteLength > KEEP_MEMORY_BYTES) kernel = undefined;
    }
  }
}

/** The candidate loop of `prunedCosineLeaders`, over the columns in `data` (the WebAssembly memory with `wasm`). */
function searchColumns(
  groups: readonly string[],
  rows: readonly number[],
  cosine: CosineRows,
  threshold: number,
  allowMerge: ((leader: number, candidate: number) => boolean) | undefined,
  sizes: ReadonlyMap<string, number>,
  data: Int16Array,
  wasm: ColumnKernel | undefined,
  /** Where each candidate's row is copied in the WebAssembly memory (bytes); 0: not copied (not 32-bit rows). */
  rowAt: number,
  /** Where the columns start in the WebAssembly memory (bytes). */
  columnsAt: number,
): number[] {
  const n = groups.length;
  const dimensions = cosine.dimensions;
  // The candidate, where the WebAssembly scan reads it: its coordinates in pairs, and its columns' byte offsets.
  // (One view of the whole memory: its coordinates from 0, its offsets from TOP / 2.)
  const scratch = wasm ? new Int32Array(data.buffer) : undefined;
  const rowMemory = rowAt > 0 ? new Float32Array(data.buffer, rowAt, dimensions) : undefined;
  const picksAt = rowAt + ((dimensions + 3) & ~3) * 4;
  const picked = rowAt > 0 ? new Int32Array(data.buffer, picksAt, PICKS) : undefined;
  let next = columnsAt / 2;
  const leaderOf: number[] = [];
  const tables = new Map<string, LeaderColumns>();
  // The candidate's TOP largest coordinates: their dimensions, and their values over its norm times SCALE, rounded.
  const dims = new Int32Array(TOP);
  const q = new Int32Array(TOP);
  for (let i = 0; i < n; i++) {
    const group = groups[i]!;
    let table = tables.get(group);
    if (!table) {
      const size = sizes.get(group)!;
      tables.set(group, (table = new LeaderColumns(size, dimensions, data, next)));
      next += Math.ceil(size / widthOf(size)) * widthOf(size) * dimensions;
    }
    const row = rows[i]!;
    let best = -1;
    let bestScore = -Infinity;
    const { count, width, loose } = table;
    // Outside the rows the bounds hold for, every leader is scored, as in the naive loop.
    const prune = count > 0 && cosine.bounded[row] === 1;
    let first = 0;
    let second = 0;
    let third = 0;
    // The row in the WebAssembly memory, if it was copied there for this candidate.
    let copied = false;
    if (prune) {
      if (rowMemory) {
        rowMemory.set(cosine.row(row) as Float32Array);
        copied = true;
        const found = wasm!.pick(rowAt, (dimensions + 3) & ~3, cosine.pickFloor(row), picksAt, PICKS);
        cosine.candidate(row, dims, q, picked, found);
      } else {
        cosine.candidate(row, dims, q);
      }
      first = cosine.first;
      second = cosine.second;
      third = cosine.third;
      if (wasm) {
        for (let t = 0; t < TOP; t++) scratch![TOP / 2 + t] = dims[t]! * width * 2;
        for (let k = 0; k < TOP / 2; k++) scratch![k] = (q[2 * k]! & 0xffff) | (q[2 * k + 1]! << 16);
      }
    }
    const tableRows = table.rows;
    const base = table.base * 2;
    const stride = table.stride * 2;
    // The scans stop before the next loose leader (never refused: it is scored).
    let nextLoose = 0;
    let j = 0;
    while (j < count) {
      if (prune) {
        while (nextLoose < loose.length && loose[nextLoose]! < j) nextLoose++;
        const end = nextLoose < loose.length ? loose[nextLoose]! : count;
        if (j < end) {
          j = wasm ? wasm.scan(base, width, stride, end, j, first, second, third) : table.unrefuted(j, end, q, dims, first, second, third);
          if (j < 0) j = end;
          if (j === count) break;
        }
      }
      const other = tableRows[j]!;
      const score = cosine.classify(other, row) < 0 ? -1 : cosine.score(other, row);
      if (score >= threshold && score > bestScore) {
        const leader = table.ids[j]!;
        if (!allowMerge || allowMerge(leader, i)) {
          best = leader;
          bestScore = score;
        }
      }
      j++;
    }
    if (best === -1) {
      if (rowMemory && cosine.bounded[row] === 1) {
        if (!copied) rowMemory.set(cosine.row(row) as Float32Array);
        table.add(i, row, cosine, wasm, rowAt);
      } else {
        table.add(i, row, cosine);
      }
    }
    leaderOf.push(best === -1 ? i : best);
  }
  return leaderOf;
}

/** Scores above 1 or below 0 (rounding, unbounded metrics, opposite vectors) are clamped; NaN is malformed. */
function clampScore(score: number): number {
  // A number only: '0.99', true or 1n would be coerced by the comparisons with the threshold.
  if (typeof score !== 'number' || Number.isNaN(score)) throw new MalformedEmbeddingError(`the metric returned ${describeValue(score)}`);
  return Math.min(1, Math.max(0, score));
}

/**
 * Rounding may make the bound of a pair exactly at the threshold look a hair below it: never prune that close.
 * The dot product's rounding error is at most about `dimensions * 2^-53` of the product of the norms (well under
 * this margin for any length an embedder returns; `marginFor` widens it past a million dimensions).
 */
const PRUNE_MARGIN = 1e-9;

/** What the first checks lose to rounding, the 16-bit columns first: see `CosineRows.candidate`. */
const COLUMN_MARGIN = 2 ** -11;

/**
 * The integer limit of a check for a limit x of the exact sum: an integer sum A below it is below SCALE^2 * x (the
 * product's rounding is far below 1). In 32 bits with no clamp: x is the threshold (at most 1) less the margins and
 * a norm ratio of at most 1 (to rounding), so within (-1.001, 1), and SCALE^2 is below 2^30.
 */
function integerLimit(x: number): number {
  return Math.floor(x * SCALE * SCALE);
}

function marginFor(dimensions: number): number {
  return PRUNE_MARGIN + dimensions * 2 ** -50;
}

/**
 * Where a pair that passed the first checks pauses to check its bound again, in coordinate order: after 1/32,
 * 1/16, 1/8, 1/4 and 1/2 of the dimensions. At a lower threshold most pairs get here, and most stop at one of these.
 * The 1/32 is for the small batch's pairs at a high threshold (`classify` on every pair): at 0.98 over 384
 * random dimensions it refutes about 9 pairs in 10 after 12 products, where the 1/16 took 24 for 999 in 1,000.
 */
function checkpointsOf(dimensions: number): Int32Array {
  if (dimensions !== lastCheckpoints.dimensions) {
    const distinct = [...new Set([dimensions >> 5, dimensions >> 4, dimensions >> 3, dimensions >> 2, dimensions >> 1])].filter((c) => c > 0);
    lastCheckpoints = { dimensions, checkpoints: Int32Array.from(distinct) };
  }
  return lastCheckpoints.checkpoints;
}
/** The checkpoints of the last length asked for (read only): batches of one pipeline all have the same. */
let lastCheckpoints = { dimensions: -1, checkpoints: new Int32Array(0) };

/**
 * The numbers a search keeps per row (squared norms, norms, tails), in one array: taken by a search (a search
 * started from inside another, by a guard, finds none and makes its own), given back when it ends, and kept for
 * the next one unless it is over 2^17 numbers (1 MB). A new typed array per batch costs more than a small batch's
 * whole search of the pairs.
 */
let spareNumbers: Float64Array | undefined;

/**
 * Cosine over the vectors, with what the bounds need computed once per row: its norm and bounds of the norms of
 * its tails at the checkpoints (for every row, in one pass), its TOP largest coordinates (for a row that is a
 * candidate, when it is). The full score is computed as ml-distance's `cosine` does (same sums
 * in the same order), so both agree to the last bit. The rows are read where they are, not copied.
 */
class CosineRows {
  /** Whether a bound can refuse a pair: not at a threshold of 0 (or within the margin of it), which every score meets. */
  readonly prunes: boolean;
  /** threshold less the rounding margin. */
  readonly bound: number;
  /** threshold plus the rounding margin. */
  private readonly above: number;
  private readonly checkpoints: Int32Array;
  private readonly stops: number;
  readonly squaredNorm: Float64Array;
  readonly norm: Float64Array;
  /**
   * 1 for a row whose squared norm is within [1e-150, 1e150]: the product of two of them neither underflows nor
   * overflows, so ml-distance's score of a pair of them is the cosine to rounding, and the bounds hold for it. A
   * pair with a row outside (or a zero row) is scored in full, bounds or not: ml-distance's formula may then give
   * 0 or Infinity (clamped to 1) where the cosine is something else, and the naive loop goes by the formula.
   */
  readonly bounded: Uint8Array;
  /**
   * tails[r * stops + k]: an upper bound of the norm of row r from checkpoint k to the end (for a row the bounds
   * hold for; see the constructor).
   */
  private readonly tails: Float64Array;
  /** Whether every row is a Float32Array (the semantic deduper's rows): the WebAssembly kernel may read copies. */
  readonly float32: boolean;

  constructor(
    private readonly vectors: readonly ArrayLike<number>[],
    readonly dimensions: number,
    threshold: number,
  ) {
    const checkpoints = checkpointsOf(dimensions);
    this.checkpoints = checkpoints;
    this.bound = threshold - marginFor(dimensions);
    this.above = threshold + marginFor(dimensions);
    this.prunes = this.bound > 0;
    // Without pruning (a threshold within the margin of 0), no checkpoint either: every pair is scored in full.
    this.stops = this.prunes ? checkpoints.length : 0;
    const rows = vectors.length;
    const stops = this.stops;
    // Padded to a multiple of 4 rows: the sums are taken four rows at a time.
    const padded = (rows + 3) & ~3;
    const length = padded * (2 + stops);
    let numbers = spareNumbers;
    if (numbers !== undefined && numbers.length >= length) spareNumbers = undefined;
    else numbers = new Float64Array(length);
    this.numbers = numbers;
    const squaredNorm = (this.squaredNorm = numbers.subarray(0, padded));
    this.norm = numbers.subarray(padded, 2 * padded);
    const tails = (this.tails = numbers.subarray(2 * padded, length));
    this.bounded = new Uint8Array(rows);
    let float32 = true;
    for (let r = 0; r < rows; r++) float32 &&= vectors[r] instanceof Float32Array;
    // Each row's sum of squares in coordinate order (ml-distance's, so the score's denominator is its own to the
    // bit), four rows side by side: four chains of additions that do not wait on each other, each the same sums
    // in the same order as one row alone. The partial sums at the checkpoints are kept on the way (in `tails`,
    // turned into the tails' norms below).
    for (let r = 0; r < rows; r += 4) {
      const v0 = vectors[r]!;
      const v1 = vectors[r + 1 < rows ? r + 1 : r]!;
      const v2 = vectors[r + 2 < rows ? r + 2 : r]!;
      const v3 = vectors[r + 3 < rows ? r + 3 : r]!;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let d = 0;
      for (let k = 0; k <= stops; k++) {
        const stop = k < stops ? checkpoints[k]! : dimensions;
        for (; d < stop; d++) {
          const a = v0[d]!;
          const b = v1[d]!;
          const c = v2[d]!;
          const e = v3[d]!;
          s0 += a * a;
          s1 += b * b;
          s2 += c * c;
          s3 += e * e;
        }
        if (k < stops) {
          tails[r * stops + k] = s0;
          tails[(r + 1) * stops + k] = s1;
          tails[(r + 2) * stops + k] = s2;
          tails[(r + 3) * stops + k] = s3;
        }
      }
      squaredNorm[r] = s0;
      squaredNorm[r + 1] = s1;
      squaredNorm[r + 2] = s2;
      squaredNorm[r + 3] = s3;
    }
    // Stryker disable next-line EqualityOperator: a row more is a padding row (4 summed side by side) or past the typed arrays' ends, where writes are dropped: nothing reads it
    for (let r = 0; r < rows; r++) {
      const sum = squaredNorm[r]!;
      this.norm[r] = Math.sqrt(sum);
      const bounded = sum >= 1e-150 && sum <= 1e150;
      this.bounded[r] = bounded ? 1 : 0;
      // The norm of the row from checkpoint k on, from the sums: sqrt(S - P_k + slack), an upper bound of the
      // exact one (for every row, though only `classify` reads them, and only for rows the bounds hold for). With S and P_k the computed sums of n and c_k terms (products and additions each rounded, u =
      // 2^-53), |S - S*| <= n u S* (1 + n u) and |P_k - P_k*| <= n u S* (1 + n u), so the exact tail S* - P_k* is at
      // most S - P_k + 2 n u S (1 + 2 n u); the subtraction, the addition of the slack and the root lose at most
      // 3 u (S + slack) more, and terms that underflow at most n 2^-1074 in all (below 1e-320, next to a slack of
      // at least 1e-165 in this range). The slack (4 n + 32) u S covers all of it for any n below 2^40. It only
      // ever makes a checkpoint refuse less.
      // Stryker disable next-line ArithmeticOperator: n - 8 for n + 8 (64 u S of slack less, still above the rounding's (2 n + 3) u S for n >= 18) could only change a checkpoint's verdict at a tie to the last bits, which no test can set up
      const ulps = dimensions + 8;
      const slack = ulps * 2 ** -51 * sum;
      for (let k = 0; k < stops; k++) tails[r * stops + k] = Math.sqrt(Math.max(0, sum - tails[r * stops + k]!) + slack);
    }
    this.float32 = float32;
  }

  /** Where `squaredNorm`, `norm` and `tails` are (see `spareNumbers`). */
  private readonly numbers: Float64Array;

  /** Gives the numbers back for the next search: this one is over (nothing may be asked of it any more). */
  release(): void {
    const numbers = this.numbers;
    if (numbers.length > 2 ** 17) return;
    // Kept if larger than the spare there (none when this search took it).
    // Stryker disable next-line EqualityOperator: `<=` swaps a spare for one of the same length, no different for the next search
    if ((spareNumbers?.length ?? 0) < numbers.length) spareNumbers = numbers;
  }

  /** Row r as given. */
  row(r: number): ArrayLike<number> {
    return this.vectors[r]!;
  }

  /**
   * What a coordinate's square must reach for `candidate` to pick it: 4 / dimensions of the row's squared norm
   * (2 standard deviations of a random direction: about 17 of 384).
   */
  pickFloor(r: number): number {
    return (this.squaredNorm[r]! * 4) / this.dimensions;
  }

  /**
   * Writes row r over its norm, times SCALE and rounded to an integer, into `data` from `at`, `width` apart (a
   * leader's slot in its block, see `LeaderColumns`), and returns true; for a row the bounds do not hold for (a
   * zero row, among others), writes nothing and returns false: such a leader must be scored, never refused (it is
   * `loose`: both scans stop before it, and the WebAssembly one masks the lanes from it on, so its slot is never read).
   */
  writeUnit(r: number, data: Int16Array, at: number, width: number): boolean {
    if (!this.bounded[r]) return false;
    const { dimensions } = this;
    const vector = this.vectors[r]!;
    // |vector[d]| <= norm (to rounding): every value is within [-SCALE, SCALE], so it fits 16 bits. Truncated
    // toward 0 by the store (a Math.round here tripled the cost of the whole loop).
    const scale = SCALE / this.norm[r]!;
    for (let d = 0; d < dimensions; d++) data[at + d * width] = vector[d]! * scale;
    return true;
  }

  /** The integer limits of the first checks of the last `candidate`: see there. */
  first = 0;
  second = 0;
  third = 0;

  /**
   * For row r as a candidate (a row the bounds hold for): writes the dimensions of its TOP largest coordinates by
   * magnitude into `dims`, largest first, and those coordinates over its norm, times SCALE and truncated, into
   * `q` (dimension 0 and value 0 for slots not filled: fewer dimensions than TOP, or picked among fewer); sets
   * `first`, `second` and `third`, the integer limits of the checks on its HALF, SECOND and TOP largest
   * coordinates: floor(SCALE^2 * (`bound` - |u without them| - COLUMN_MARGIN)).
   *
   * Why the limits are conservative. Let u be the candidate over its norm and v a leader over its norm, exact.
   * The check sums, exactly (integers), A = sum over t of q[t] * c[t], where q[t] / SCALE = u[t] (1 + r) + e and
   * c[t] / SCALE = v[t] (1 + r') + e' (c: the leader's column), with |e|, |e'| < 1 / SCALE for the truncation to
   * integers and |r|, |r'| <= (dimensions + 6) * 2^-53 < 2^-26 for the floating-point sums, root and division
   * (for up to 2^27 dimensions). So |u[t] v[t] - q[t] c[t] / SCALE^2| <= |u[t] v[t]| (2r + r^2) + |u[t]| |e'| (1 +
   * r) + |v[t]| |e| (1 + r') + |e e'|, and over the 16 terms, as the sum of |u[t] v[t]| is at most |u| |v| = 1 and
   * the sums of |u[t]| and of |v[t]| at most sqrt(16) each, A / SCALE^2 differs from the exact sum over T by less
   * than 2^-25 + (1 + 2^-25) 2 sqrt(16) / SCALE + 16 / SCALE^2 < 2.5e-4 < COLUMN_MARGIN (2^-11 = 4.9e-4). And as
   * truncation never makes a magnitude larger, |q[t]| <= SCALE |u[t]| (1 + r) and |c[t]| <= SCALE |v[t]| (1 + r'),
   * so A and every partial sum of it are at most SCALE^2 (1 + 2^-25) < 2^31 in magnitude: no 32-bit sum overflows. The
   * rest's norm is over-estimated (the slack below), so A < `first` (an integer no greater than SCALE^2 times the
   * limit) implies that the exact u . v is below `bound` = threshold - `marginFor(dimensions)`, and ml-distance's
   * score of the pair, within that margin of u . v for a row in the bounded range, is below the threshold.
   */
  candidate(r: number, dims: Int32Array, q: Int32Array, picked?: Int32Array, pickedCount = 0): void {
    const vector = this.vectors[r]!;
    const dimensions = this.dimensions;
    // First the coordinates whose square is at least `pickFloor`, in one pass without insertions, up to PICKS of
    // them (or those the WebAssembly `pick` found, in 32 bits: `picked`). Any choice of coordinates gives a valid
    // bound: this one only has to be good, and cheap.
    let picks: Int32Array = PICKED;
    let found = 0;
    if (picked) {
      picks = picked;
      found = pickedCount;
    } else {
      const floor = this.pickFloor(r);
      for (let d = 0; d < dimensions && found < PICKS; d++) {
        const v = vector[d]!;
        // Without a branch (one that random data would mispredict): written always, kept when large.
        picks[found] = d;
        found += +(v * v >= floor);
      }
    }
    // At least SECOND picks: the largest are among them, and the slots they do not fill weigh nothing (any set of
    // coordinates gives a valid bound). Fewer: every coordinate is looked at.
    const fromPicks = found >= SECOND;
    const among = fromPicks ? found : dimensions;
    // The TOP largest magnitudes seen so far, largest first (-1: none yet), by insertion.
    const top = TOP_MAGNITUDES.fill(-1);
    dims.fill(0);
    for (let k = 0; k < among; k++) {
      const d = fromPicks ? picks[k]! : k;
      const m = Math.abs(vector[d]!);
      let t = TOP - 1;
      // Stryker disable next-line EqualityOperator: < lets a magnitude equal to the 16th take its slot, and which of equal magnitudes a check reads is no promise (any coordinates give a valid bound)
      if (m <= top[t]!) continue;
      // Stryker disable next-line EqualityOperator: t >= 0 reads top[-1], undefined, and `undefined < m` is false (the loop stops at 0 either way); <= puts an equal magnitude before its equals, and which of equal magnitudes a check reads is no promise (any coordinates give a valid bound)
      for (; t > 0 && top[t - 1]! < m; t--) {
        top[t] = top[t - 1]!;
        dims[t] = dims[t - 1]!;
      }
      top[t] = m;
      dims[t] = d;
    }
    const norm = this.norm[r]!;
    let head = 0;
    let next = 0;
    let third = 0;
    // Stryker disable next-line EqualityOperator: k <= TOP adds a pass at k = TOP, where top[TOP] is undefined (so v = 0): q[TOP] is past q's end (the store is dropped) and third gains 0
    for (let k = 0; k < TOP; k++) {
      // Slots not filled weigh 0: they add nothing.
      // Stryker disable next-line EqualityOperator: > 0 differs for a slot of magnitude 0, whose coordinate is 0 (or -0): v, q and the sums are the same
      const v = top[k]! >= 0 ? vector[dims[k]!]! : 0;
      // |v| <= norm (to rounding): within [-SCALE, SCALE]. Truncated toward 0, as the columns are.
      q[k] = (v / norm) * SCALE;
      if (k < HALF) head += v * v;
      else if (k < SECOND) next += v * v;
      else third += v * v;
    }
    // The rest's squared norm by difference, widened by a bound of the rounding of the sums so that it stays an
    // upper bound (a norm mostly in the top coordinates would otherwise lose its rest to cancellation).
    const sum = this.squaredNorm[r]!;
    const slack = (dimensions + TOP) * 2 ** -52 * sum;
    const limit = this.bound - COLUMN_MARGIN;
    this.first = integerLimit(limit - Math.sqrt(Math.max(0, sum - head) + slack) / norm);
    this.second = integerLimit(limit - Math.sqrt(Math.max(0, sum - head - next) + slack) / norm);
    this.third = integerLimit(limit - Math.sqrt(Math.max(0, sum - head - next - third) + slack) / norm);
  }

  /**
   * Where ml-distance's score of rows a and b stands against the threshold, from their dot product summed in four
   * sums side by side (a quarter of the sequential sum's latency): -1 when surely below it, 1 when surely at or
   * above it, 0 when within the margin of it (or for a pair the bounds do not hold for), where only the score can
   * tell. At each checkpoint, as `score` does, the sum so far plus the product of the bounds of the tails' norms
   * (Cauchy-Schwarz on the rest) below `bound` times the norms proves it below, without the rest. Sure because two
   * sums of the same products, in any order, differ by at most 2 n u |a| |b| (u = 2^-53), and the score's division
   * and root by a few u more, all within `marginFor(dimensions)` (at least 8 n u + 1e-9) of the threshold, times
   * the product of the norms (itself within 2 n u of that of the computed squared norms).
   */
  classify(a: number, b: number): number {
    if ((this.bounded[a]! & this.bounded[b]!) === 0) return 0;
    const { checkpoints, stops, tails, dimensions } = this;
    const va = this.vectors[a]!;
    const vb = this.vectors[b]!;
    const floor = this.bound * this.norm[a]! * this.norm[b]!;
    let p0 = 0;
    let p1 = 0;
    let p2 = 0;
    let p3 = 0;
    let d = 0;
    // The checkpoints, then the end (k = stops), where the loop leaves with the whole dot product.
    for (let k = 0; ; k++) {
      const stop = k < stops ? checkpoints[k]! : dimensions;
      // Stryker disable next-line ConditionalExpression: false leaves every coordinate to the one-sum loop below: the same products summed in another order, which the margins cover (four sums are for speed)
      for (; d + 3 < stop; d += 4) {
        p0 += va[d]! * vb[d]!;
        p1 += va[d + 1]! * vb[d + 1]!;
        p2 += va[d + 2]! * vb[d + 2]!;
        p3 += va[d + 3]! * vb[d + 3]!;
      }
      for (; d < stop; d++) p0 += va[d]! * vb[d]!;
      if (k === stops) break;
      // Stryker disable next-line EqualityOperator: <= refuses a pair whose bound is exactly the floor as well, which is as sure (its score is at most bound < threshold)
      if (p0 + p1 + (p2 + p3) + tails[a * stops + k]! * tails[b * stops + k]! < floor) return -1;
    }
    const dot = p0 + p1 + (p2 + p3);
    const norms = Math.sqrt(this.squaredNorm[a]! * this.squaredNorm[b]!);
    // Stryker disable next-line EqualityOperator: > and <= differ only for a dot product exactly at a limit, where 0 (score it) gives the same answer as 1 or -1
    return dot >= this.above * norms ? 1 : dot < this.bound * norms ? -1 : 0;
  }

  /**
   * The cosine of rows a and b as ml-distance computes it (the same sums in the same order, so the same double);
   * the bounds are `classify`'s, asked first.
   */
  score(a: number, b: number): number {
    const va = this.vectors[a]!;
    const vb = this.vectors[b]!;
    let dot = 0;
    for (let d = 0; d < this.dimensions; d++) dot += va[d]! * vb[d]!;
    // A zero vector is similar to nothing (its cosine is 0/0).
    if (this.norm[a] === 0 || this.norm[b] === 0) return 0;
    return clampScore(dot / Math.sqrt(this.squaredNorm[a]! * this.squaredNorm[b]!));
  }
}

/** The embedder returned something that is not one finite vector of the expected length per text. */
export class MalformedEmbeddingError extends Error {
  override readonly name = 'MalformedEmbeddingError';
  constructor(message: string) {
    super(`malformed embeddings: ${message}`);
  }
}

/**
 * The views `copyVectors` made of each shared buffer, by vector index, and their length: kept as long as the buffer
 * is (a WeakMap), so a buffer reused for the next answer is not cut into new views (see there).
 */
const viewsOf = new WeakMap<Float32Array, { readonly length: number; readonly views: Float32Array[] }>();

/**
 * Checks the embedder's answer and copies it to 32-bit vectors, in one pass: one array-like of finite numbers per
 * text, all of `dimensions` length (the first vector's length when undefined). The first fault met, vector by
 * vector and dimension by dimension, is the one reported.
 *
 * @param shared Whether the copies may share one buffer (views of it, one allocation for the whole answer): only
 *   for vectors that are not kept beyond the batch and its queued requests (no embedding cache), as any one of
 *   them keeps the whole buffer alive. Otherwise each vector gets its own.
 * @param reuse With `shared`, a buffer no one reads any more, used instead of a new one when it is large enough.
 * @return The vectors' length, the copies, and the buffer they share (with `shared`).
 */
export function copyVectors(
  vectors: unknown,
  expectedCount: number,
  dimensions: number | undefined,
  shared: boolean,
  reuse?: Float32Array,
): { readonly length: number; readonly vectors: Float32Array[]; readonly buffer: Float32Array | undefined } {
  if (!Array.isArray(vectors)) throw new MalformedEmbeddingError(`expected an array of vectors, got ${typeof vectors}`);
  if (vectors.length !== expectedCount) {
    throw new MalformedEmbeddingError(`expected ${expectedCount} vectors, got ${vectors.length}`);
  }
  let length = dimensions;
  let buffer: Float32Array | undefined;
  let views: { readonly length: number; readonly views: Float32Array[] } | undefined;
  const copies: Float32Array[] = [];
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i] as ArrayLike<number> | null | undefined;
    if (vector === null || typeof vector !== 'object' || typeof vector.length !== 'number') {
      throw new MalformedEmbeddingError(`vector ${i} is not an array of numbers`);
    }
    length ??= vector.length;
    if (vector.length !== length || length === 0) {
      throw new MalformedEmbeddingError(`vector ${i} has ${vector.length} dimensions, expected ${length}`);
    }
    let copy: Float32Array;
    if (shared) {
      if (buffer === undefined) {
        buffer = reuse !== undefined && reuse.length >= vectors.length * length ? reuse : new Float32Array(vectors.length * length);
        // A reused buffer keeps the views made of it last time (nobody reads them any more, or it would not be
        // reused): the same memory at the same places, so they are taken again instead of made anew.
        views = viewsOf.get(buffer);
        if (views === undefined || views.length !== length) viewsOf.set(buffer, (views = { length, views: [] }));
      }
      copy = views!.views[i] ??= buffer.subarray(i * length, (i + 1) * length);
    } else {
      copy = new Float32Array(length);
    }
    // Stryker disable next-line ConditionalExpression,BlockStatement: false (or the block emptied) leaves a 32-bit vector to the check below, which reads it once too and gives the same copy and verdict, only without the memory copy
    if (vector instanceof Float32Array) {
      // Copied as it is (a memory copy), then checked on the copy: the same numbers, so the same verdict. 0 times
      // a finite number is 0 (or -0), times NaN or an infinity NaN, and NaN stays NaN: the products of 0 and every
      // coordinate are 0 exactly when all of them are finite (four products, so that they are taken side by side;
      // not sums of x * 0, which a sign flipped anywhere leaves the same).
      copy.set(vector);
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let d = 0;
      // Stryker disable next-line ConditionalExpression: false leaves every coordinate to the one-product loop below: the same verdict (four products are for speed)
      for (; d + 3 < length; d += 4) {
        s0 *= copy[d]!;
        s1 *= copy[d + 1]!;
        s2 *= copy[d + 2]!;
        s3 *= copy[d + 3]!;
      }
      for (; d < length; d++) s0 *= copy[d]!;
      if (s0 * s1 * s2 * s3 === 0) {
        copies[i] = copy;
        continue;
      }
    }
    // Checked before rounding to 32 bits (a finite 1e300 is accepted, as it always was).
    for (let d = 0; d < length; d++) {
      const x = vector[d];
      // (Number.isFinite is false for anything but a finite number: a string, a bigint, undefined.)
      if (!Number.isFinite(x)) throw new MalformedEmbeddingError(`vector ${i} has ${String(x)} at dimension ${d}`);
      copy[d] = x!;
    }
    copies[i] = copy;
  }
  return { length: length ?? 0, vectors: copies, buffer };
}
