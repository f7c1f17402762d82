import type { ResolvedMetric } from './metric.js';

/**
 * Greedy leader assignment over vectors, in arrival order: each candidate joins the most similar existing leader
 * of its group scoring at least `threshold` (the earliest on a tie), or becomes a leader. The result is exactly
 * that of the naive loop scoring every (leader, candidate) pair; only the work differs.
 *
 * For cosine (see docs/decisions.md, "Exact pruning of semantic dedup"): each row's norm is computed once, and
 * each leader keeps its 8 largest coordinates (by magnitude) and the norm of the rest. A pair is first checked
 * on those coordinates only: their part of the dot product plus the Cauchy-Schwarz bound of the rest is an upper
 * bound of the cosine, and below the threshold (less a margin for rounding) it proves the pair cannot merge. At
 * a high threshold this refuses about 93 % of unrelated pairs after 4 multiplications and 99.7 % after 8, from a
 * small per-group table that stays in the CPU cache. A pair it does not refuse is scored (`CosineRows.score`),
 * with early exits at checkpoints, and in ml-distance's order so the score agrees with ml-distance's `cosine` to
 * the last bit. Rows whose squared norm is tiny or huge, where that formula is not the cosine, are scored in full.
 * With a threshold of 0 no bound can refuse anything, and every pair is scored. Any other metric is called on
 * every pair (no bound is known for it).
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
    if (cosine.prunes) return prunedCosineLeaders(groups, rows, cosine, threshold, allowMerge);
    return naiveLeaders(groups, rows, (a, b) => cosine.fullScore(a, b), threshold, allowMerge);
  }
  const score = metric.score;
  return naiveLeaders(groups, rows, (a, b) => clampScore(score(vectors[a]!, vectors[b]!)), threshold, allowMerge);
}

/** The specification: every (leader, candidate) pair of a group scored, in arrival order. */
function naiveLeaders(
  groups: readonly string[],
  rows: readonly number[],
  score: (a: number, b: number) => number,
  threshold: number,
  allowMerge?: (leader: number, candidate: number) => boolean,
): number[] {
  const leaderOf = new Array<number>(groups.length);
  const leadersByGroup = new Map<string, number[]>();
  for (let i = 0; i < groups.length; i++) {
    let leaders = leadersByGroup.get(groups[i]!);
    if (!leaders) leadersByGroup.set(groups[i]!, (leaders = []));
    let best = -1;
    let bestScore = -Infinity;
    for (const leader of leaders) {
      const s = score(rows[leader]!, rows[i]!);
      if (s >= threshold && s > bestScore && (!allowMerge || allowMerge(leader, i))) {
        best = leader;
        bestScore = s;
      }
    }
    if (best === -1) {
      leaders.push(i);
      leaderOf[i] = i;
    } else {
      leaderOf[i] = best;
    }
  }
  return leaderOf;
}

/** How many of a leader's largest coordinates (by magnitude) the first checks read: two stages of TOP / 2. */
const TOP = 8;
const HALF = TOP / 2;
/** Per leader in `LeaderTable.bounds`: its HALF largest coordinates, a limit, the next HALF, a limit. */
const SLOT = TOP + 2;

/**
 * The leaders of one group, side by side, so the first checks of a candidate read two small arrays: for each
 * leader, the dimensions of its TOP largest coordinates, those coordinates divided by its norm, and the limits
 * the first checks compare against.
 */
class LeaderTable {
  count = 0;
  /** Candidate index of each leader. */
  readonly ids: Int32Array;
  /** Row (in `vectors`) of each leader. */
  readonly rows: Int32Array;
  /** top[j * TOP + k]: dimension of leader j's k-th largest coordinate. */
  readonly top: Int32Array;
  /**
   * bounds[j * SLOT + ...]: leader j's HALF largest coordinates over its norm, the limit of the first check, the
   * next HALF coordinates over its norm, the limit of the second check (see `prunedCosineLeaders`).
   */
  readonly bounds: Float64Array;

  /** @param capacity the candidates of the group: at most that many lead */
  constructor(capacity: number) {
    this.ids = new Int32Array(capacity);
    this.rows = new Int32Array(capacity);
    this.top = new Int32Array(capacity * TOP);
    this.bounds = new Float64Array(capacity * SLOT);
  }

  add(id: number, row: number, cosine: CosineRows): void {
    const j = this.count++;
    this.ids[j] = id;
    this.rows[j] = row;
    const b = j * SLOT;
    if (!cosine.bounded[row]) {
      // A leader the bounds do not hold for (a zero row, among others) gets limits every candidate passes
      // (-Infinity): it is scored in full.
      this.bounds[b + HALF] = -Infinity;
      this.bounds[b + SLOT - 1] = -Infinity;
      return;
    }
    cosine.largest(row, this.top, j * TOP, this.bounds, b);
  }
}

/**
 * The greedy assignment of `naiveLeaders` for cosine, with bounds in front of every pair. For unit vectors x and
 * l, with S the largest coordinates of l, Cauchy-Schwarz on the other coordinates gives
 *
 *   x . l <= sum over d in S of x[d] * l[d]  +  |x without S| * |l without S|
 *         <= sum over d in S of x[d] * l[d]  +  |l without S|
 *
 * so a pair whose sum over S is below `threshold - |l without S|` (less a margin for rounding) scores below the
 * threshold in the naive loop too: there it could neither merge nor be best, and skipping it changes nothing.
 * The check is made with the HALF largest coordinates of l, then the TOP largest; a pair that passes both is
 * scored (`CosineRows.score`, itself with early exits, and in ml-distance's order). Leaders are visited in arrival
 * order, and the guard is asked for the same pairs in the same order as in the naive loop.
 */
function prunedCosineLeaders(
  groups: readonly string[],
  rows: readonly number[],
  cosine: CosineRows,
  threshold: number,
  allowMerge?: (leader: number, candidate: number) => boolean,
): number[] {
  const leaderOf = new Array<number>(groups.length);
  const sizes = new Map<string, number>();
  for (const group of groups) sizes.set(group, (sizes.get(group) ?? 0) + 1);
  const tables = new Map<string, LeaderTable>();
  // The candidate over its norm, where the leaders' largest coordinates are looked up.
  const x = new Float64Array(Math.max(cosine.dimensions, 1));
  for (let i = 0; i < groups.length; i++) {
    let table = tables.get(groups[i]!);
    if (!table) tables.set(groups[i]!, (table = new LeaderTable(sizes.get(groups[i]!)!)));
    const row = rows[i]!;
    let best = -1;
    let bestScore = -Infinity;
    // Outside the rows the bounds hold for, a candidate is scored against every leader, as in the naive loop.
    const bounded = cosine.bounded[row];
    const { top, bounds, count } = table;
    if (bounded && count > 0) cosine.unitRow(row, x);
    for (let j = 0; j < count; j++) {
      if (bounded) {
        const t = j * TOP;
        const b = j * SLOT;
        const half = x[top[t]!]! * bounds[b]! + x[top[t + 1]!]! * bounds[b + 1]! + (x[top[t + 2]!]! * bounds[b + 2]! + x[top[t + 3]!]! * bounds[b + 3]!);
        if (half < bounds[b + 4]!) continue;
        const full =
          half + (x[top[t + 4]!]! * bounds[b + 5]! + x[top[t + 5]!]! * bounds[b + 6]! + (x[top[t + 6]!]! * bounds[b + 7]! + x[top[t + 7]!]! * bounds[b + 8]!));
        if (full < bounds[b + 9]!) continue;
      }
      const score = cosine.score(table.rows[j]!, row);
      if (score >= threshold && score > bestScore) {
        const leader = table.ids[j]!;
        if (!allowMerge || allowMerge(leader, i)) {
          best = leader;
          bestScore = score;
        }
      }
    }
    if (best === -1) {
      table.add(i, row, cosine);
      leaderOf[i] = i;
    } else {
      leaderOf[i] = best;
    }
  }
  return leaderOf;
}

/** Scores above 1 or below 0 (rounding, unbounded metrics, opposite vectors) are clamped; NaN is malformed. */
function clampScore(score: number): number {
  if (Number.isNaN(score)) throw new MalformedEmbeddingError(`the metric returned ${score}`);
  return score < 0 ? 0 : score > 1 ? 1 : score;
}

/**
 * Rounding may make the bound of a pair exactly at the threshold look a hair below it: never prune that close.
 * The dot product's rounding error is at most about `dimensions * 2^-53` of the product of the norms (well under
 * this margin for any length an embedder returns; `marginFor` widens it past a million dimensions).
 */
const PRUNE_MARGIN = 1e-9;

function marginFor(dimensions: number): number {
  return PRUNE_MARGIN + dimensions * 2 ** -50;
}

/**
 * Where a pair that passed the first checks pauses to check its bound again, in coordinate order: after 1/16,
 * 1/8, 1/4 and 1/2 of the dimensions. At a lower threshold most pairs get here, and most stop at one of these.
 */
function checkpointsOf(dimensions: number): number[] {
  return [...new Set([dimensions >> 4, dimensions >> 3, dimensions >> 2, dimensions >> 1])].filter((c) => c > 0);
}

/**
 * Cosine over the vectors, with what the bounds need computed once per row: its norm (for every row), its TOP
 * largest coordinates (for a row that leads, when it starts to), the norms of its tails at the checkpoints (for a
 * row that gets scored, when it first is). The full score is computed as ml-distance's `cosine` does (same sums
 * in the same order), so both agree to the last bit. The rows are read where they are, not copied.
 */
class CosineRows {
  /** Whether a bound can refuse a pair: not at a threshold of 0 (or within the margin of it), which every score meets. */
  readonly prunes: boolean;
  /** threshold less the rounding margin. */
  readonly bound: number;
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
  /** tails[r * stops + k]: norm of row r from checkpoint k to the end; NaN until row r is first scored. */
  private readonly tails: Float64Array;

  constructor(
    private readonly vectors: readonly ArrayLike<number>[],
    readonly dimensions: number,
    threshold: number,
  ) {
    const checkpoints = checkpointsOf(dimensions);
    this.checkpoints = Int32Array.from(checkpoints);
    this.stops = checkpoints.length;
    this.bound = threshold - marginFor(dimensions);
    this.prunes = this.bound > 0;
    const rows = this.prunes ? vectors.length : 0;
    this.squaredNorm = new Float64Array(rows);
    this.norm = new Float64Array(rows);
    this.tails = new Float64Array(rows * this.stops).fill(Number.NaN);
    this.bounded = new Uint8Array(rows);
    for (let r = 0; r < rows; r++) {
      const vector = vectors[r]!;
      let sum = 0;
      for (let d = 0; d < dimensions; d++) {
        const v = vector[d]!;
        sum += v * v;
      }
      this.squaredNorm[r] = sum;
      this.norm[r] = Math.sqrt(sum);
      this.bounded[r] = sum >= 1e-150 && sum <= 1e150 ? 1 : 0;
    }
  }

  /** Writes row r divided by its norm into `to`. */
  unitRow(r: number, to: Float64Array): void {
    const vector = this.vectors[r]!;
    const norm = this.norm[r]!;
    for (let d = 0; d < this.dimensions; d++) to[d] = vector[d]! / norm;
  }

  /**
   * Writes the dimensions of row r's TOP largest coordinates by magnitude into `top` from `at`, largest first
   * (dimension 0 for slots past the last dimension), and into `bounds` from `b` the layout `LeaderTable.bounds`
   * describes: those coordinates over the row's norm, and the limits, each from an upper bound of the norm of the
   * rest despite rounding.
   */
  largest(r: number, top: Int32Array, at: number, bounds: Float64Array, b: number): void {
    const vector = this.vectors[r]!;
    const dimensions = this.dimensions;
    // The TOP largest magnitudes seen so far, largest first; below 0: none yet.
    let m0 = -1.5, m1 = -1.5, m2 = -1.5, m3 = -1.5, m4 = -1.5, m5 = -1.5, m6 = -1.5, m7 = -1.5;
    let i0 = 0, i1 = 0, i2 = 0, i3 = 0, i4 = 0, i5 = 0, i6 = 0, i7 = 0;
    for (let d = 0; d < dimensions; d++) {
      const m = Math.abs(vector[d]!);
      if (m <= m7) continue;
      // Insertion into the sorted eight (rare after the first few dimensions).
      if (m > m3) {
        m7 = m6; i7 = i6; m6 = m5; i6 = i5; m5 = m4; i5 = i4; m4 = m3; i4 = i3;
        if (m > m1) {
          m3 = m2; i3 = i2; m2 = m1; i2 = i1;
          if (m > m0) { m1 = m0; i1 = i0; m0 = m; i0 = d; }
          else { m1 = m; i1 = d; }
        } else if (m > m2) { m3 = m2; i3 = i2; m2 = m; i2 = d; }
        else { m3 = m; i3 = d; }
      } else if (m > m5) {
        m7 = m6; i7 = i6; m6 = m5; i6 = i5;
        if (m > m4) { m5 = m4; i5 = i4; m4 = m; i4 = d; }
        else { m5 = m; i5 = d; }
      } else if (m > m6) { m7 = m6; i7 = i6; m6 = m; i6 = d; }
      else { m7 = m; i7 = d; }
    }
    top[at] = i0; top[at + 1] = i1; top[at + 2] = i2; top[at + 3] = i3;
    top[at + 4] = i4; top[at + 5] = i5; top[at + 6] = i6; top[at + 7] = i7;
    const filled = Math.min(TOP, dimensions);
    const norm = this.norm[r]!;
    let first = 0;
    let second = 0;
    for (let k = 0; k < TOP; k++) {
      // Slots past the last dimension (fewer dimensions than TOP) weigh 0: they add nothing.
      const v = k < filled ? vector[top[at + k]!]! : 0;
      bounds[b + (k < HALF ? k : k + 1)] = v / norm;
      if (k < HALF) first += v * v;
      else second += v * v;
    }
    // The rest's squared norm by difference, widened by a bound of the rounding of the sums so that it stays an
    // upper bound (a norm mostly in the top coordinates would otherwise lose its rest to cancellation).
    const sum = this.squaredNorm[r]!;
    const slack = (dimensions + TOP) * 2 ** -52 * sum;
    bounds[b + HALF] = this.bound - Math.sqrt(Math.max(0, sum - first) + slack) / norm;
    bounds[b + SLOT - 1] = this.bound - Math.sqrt(Math.max(0, sum - first - second) + slack) / norm;
  }

  private tailsOf(r: number): void {
    const { checkpoints, stops, tails, dimensions } = this;
    const vector = this.vectors[r]!;
    let suffix = 0;
    let d = dimensions;
    for (let k = stops - 1; k >= 0; k--) {
      const stop = checkpoints[k]!;
      for (d--; d >= stop; d--) {
        const v = vector[d]!;
        suffix += v * v;
      }
      d++;
      tails[r * stops + k] = Math.sqrt(suffix);
    }
  }

  /**
   * The cosine of rows a and b, or -1 once a checkpoint proves it below the threshold. The dot product is summed
   * in ml-distance's order; the checkpoints only read it on the way.
   */
  score(a: number, b: number): number {
    const { checkpoints, tails, dimensions } = this;
    // Checkpoints only for a pair the bounds hold for.
    const stops = this.bounded[a]! & this.bounded[b]! ? this.stops : 0;
    if (stops > 0) {
      if (Number.isNaN(tails[a * stops])) this.tailsOf(a);
      if (Number.isNaN(tails[b * stops])) this.tailsOf(b);
    }
    const floor = this.bound * this.norm[a]! * this.norm[b]!;
    const va = this.vectors[a]!;
    const vb = this.vectors[b]!;
    let dot = 0;
    let d = 0;
    for (let k = 0; k < stops; k++) {
      const stop = checkpoints[k]!;
      for (; d < stop; d++) dot += va[d]! * vb[d]!;
      if (dot + tails[a * stops + k]! * tails[b * stops + k]! < floor) return -1;
    }
    for (; d < dimensions; d++) dot += va[d]! * vb[d]!;
    // A zero vector is similar to nothing (its cosine is 0/0).
    if (this.norm[a] === 0 || this.norm[b] === 0) return 0;
    return clampScore(dot / Math.sqrt(this.squaredNorm[a]! * this.squaredNorm[b]!));
  }

  /** The cosine of rows a and b, computed in full as ml-distance does; 0 when either is a zero vector. */
  fullScore(a: number, b: number): number {
    const va = this.vectors[a]!;
    const vb = this.vectors[b]!;
    let dot = 0;
    let p2 = 0;
    let q2 = 0;
    for (let d = 0; d < this.dimensions; d++) {
      dot += va[d]! * vb[d]!;
      p2 += va[d]! * va[d]!;
      q2 += vb[d]! * vb[d]!;
    }
    // A zero vector is similar to nothing (its cosine is 0/0).
    if (p2 === 0 || q2 === 0) return 0;
    return clampScore(dot / Math.sqrt(p2 * q2));
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
 * Checks the embedder's answer: one array-like of finite numbers per text, all of `dimensions` length (the first
 * vector's length when undefined).
 *
 * @return The vectors' length.
 */
export function validateVectors(vectors: unknown, expectedCount: number, dimensions: number | undefined): number {
  if (!Array.isArray(vectors)) throw new MalformedEmbeddingError(`expected an array of vectors, got ${typeof vectors}`);
  if (vectors.length !== expectedCount) {
    throw new MalformedEmbeddingError(`expected ${expectedCount} vectors, got ${vectors.length}`);
  }
  let length = dimensions;
  for (let i = 0; i < vectors.length; i++) {
    const vector = vectors[i] as ArrayLike<number> | null | undefined;
    if (vector === null || typeof vector !== 'object' || typeof vector.length !== 'number') {
      throw new MalformedEmbeddingError(`vector ${i} is not an array of numbers`);
    }
    length ??= vector.length;
    if (vector.length !== length || length === 0) {
      throw new MalformedEmbeddingError(`vector ${i} has ${vector.length} dimensions, expected ${length}`);
    }
    for (let d = 0; d < length; d++) {
      const x = vector[d];
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new MalformedEmbeddingError(`vector ${i} has ${String(x)} at dimension ${d}`);
      }
    }
  }
  return length ?? 0;
}
