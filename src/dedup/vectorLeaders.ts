import type { ResolvedMetric } from './metric.js';

/**
 * Greedy leader assignment over vectors, in arrival order: each candidate joins the most similar existing leader
 * of its group scoring at least `threshold` (the earliest on a tie), or becomes a leader. Linear in the leaders
 * of its group per candidate.
 *
 * For cosine, norms are computed once per vector, and a pair's dot product stops early when the part computed so
 * far plus the Cauchy-Schwarz bound of the rest (product of the tails' norms) cannot reach the threshold: a
 * proof the pair is below it, so the outcome is exactly that of the full computation, only cheaper.
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
  const rowsScorer = metric.kind === 'cosine' ? new CosineRows(vectors, dimensions, threshold) : new FunctionRows(vectors, metric.score);
  const leaderOf = new Array<number>(groups.length);
  const leadersByGroup = new Map<string, number[]>();
  for (let i = 0; i < groups.length; i++) {
    let leaders = leadersByGroup.get(groups[i]!);
    if (!leaders) leadersByGroup.set(groups[i]!, (leaders = []));
    let best = -1;
    let bestScore = -Infinity;
    for (const leader of leaders) {
      const score = rowsScorer.score(rows[leader]!, rows[i]!);
      if (score >= threshold && score > bestScore && (!allowMerge || allowMerge(leader, i))) {
        best = leader;
        bestScore = score;
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

/** Scores above 1 or below 0 (rounding, unbounded metrics, opposite vectors) are clamped; NaN is malformed. */
function clampScore(score: number): number {
  if (Number.isNaN(score)) throw new MalformedEmbeddingError(`the metric returned ${score}`);
  return score < 0 ? 0 : score > 1 ? 1 : score;
}

/** Any other metric, called on each pair. */
class FunctionRows {
  constructor(
    private readonly vectors: readonly ArrayLike<number>[],
    private readonly metric: (a: ArrayLike<number>, b: ArrayLike<number>) => number,
  ) {}

  score(a: number, b: number): number {
    return clampScore(this.metric(this.vectors[a]!, this.vectors[b]!));
  }
}

// Rounding may make the bound of a pair exactly at the threshold look a hair below it: never prune that close.
const PRUNE_MARGIN = 1e-9;

/**
 * Where a pair's dot product pauses to check its bound: after 1/16, 1/8, 1/4 and 1/2 of the dimensions. At a
 * high threshold most unrelated pairs are refused at the first stop (the rest of a unit vector can add at most
 * the product of the tails' norms), at a lower one at a later stop.
 */
function checkpointsOf(dimensions: number): number[] {
  return [...new Set([dimensions >> 4, dimensions >> 3, dimensions >> 2, dimensions >> 1])].filter((c) => c > 0);
}

/**
 * Cosine over a copy of the vectors in one flat array, with each row's norm computed once. The full score is
 * computed as ml-distance's `cosine` does (same sums in the same order), so both agree to the last bit.
 * The first stretch of every row is also kept in a small array of its own: most pairs are refused after it,
 * and reading it for every leader stays within the CPU cache where whole rows would not.
 * A class rather than a closure: V8 inlines its method across instances, one batch after another.
 */
class CosineRows {
  private readonly matrix: Float64Array;
  private readonly checkpoints: Int32Array;
  private readonly headLength: number;
  private readonly heads: Float64Array;
  private readonly squaredNorm: Float64Array;
  private readonly norm: Float64Array;
  /** tails[r * stops + k]: norm of row r from checkpoint k to the end, for the early-exit bound. */
  private readonly tails: Float64Array;
  private readonly bound: number;

  constructor(
    vectors: readonly ArrayLike<number>[],
    private readonly dimensions: number,
    threshold: number,
  ) {
    const count = vectors.length;
    const checkpoints = checkpointsOf(dimensions);
    const stops = checkpoints.length;
    const headLength = checkpoints[0] ?? 0;
    this.matrix = new Float64Array(count * dimensions);
    this.checkpoints = Int32Array.from(checkpoints);
    this.headLength = headLength;
    this.heads = new Float64Array(count * headLength);
    this.squaredNorm = new Float64Array(count);
    this.norm = new Float64Array(count);
    this.tails = new Float64Array(count * stops);
    this.bound = threshold - PRUNE_MARGIN;
    const suffix = new Float64Array(dimensions + 1);
    for (let r = 0; r < count; r++) {
      const vector = vectors[r]!;
      const base = r * dimensions;
      let sum = 0;
      for (let d = 0; d < dimensions; d++) {
        const x = vector[d]!;
        this.matrix[base + d] = x;
        sum += x * x;
      }
      for (let d = 0; d < headLength; d++) this.heads[r * headLength + d] = vector[d]!;
      this.squaredNorm[r] = sum;
      this.norm[r] = Math.sqrt(sum);
      suffix[dimensions] = 0;
      for (let d = dimensions - 1; d >= 0; d--) suffix[d] = suffix[d + 1]! + this.matrix[base + d]! * this.matrix[base + d]!;
      for (let k = 0; k < stops; k++) this.tails[r * stops + k] = Math.sqrt(suffix[checkpoints[k]!]!);
    }
  }

  /** The cosine of rows a and b, or -1 once it is proven below the threshold. */
  score(a: number, b: number): number {
    const norm = this.norm;
    // A zero vector is similar to nothing (its cosine is 0/0).
    if (norm[a] === 0 || norm[b] === 0) return 0;
    const floor = this.bound * norm[a]! * norm[b]!;
    const { heads, headLength, tails, checkpoints, matrix, dimensions } = this;
    const stops = checkpoints.length;
    let dot = 0;
    const headA = a * headLength;
    const headB = b * headLength;
    for (let d = 0; d < headLength; d++) dot += heads[headA + d]! * heads[headB + d]!;
    if (stops > 0 && dot + tails[a * stops]! * tails[b * stops]! < floor) return -1;
    const baseA = a * dimensions;
    const baseB = b * dimensions;
    let d = headLength;
    for (let k = 1; k < stops; k++) {
      const stop = checkpoints[k]!;
      for (; d < stop; d++) dot += matrix[baseA + d]! * matrix[baseB + d]!;
      if (dot + tails[a * stops + k]! * tails[b * stops + k]! < floor) return -1;
    }
    for (; d < dimensions; d++) dot += matrix[baseA + d]! * matrix[baseB + d]!;
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
