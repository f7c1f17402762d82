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
  const similarity = metric.kind === 'cosine' ? cosineScorer(vectors, dimensions, threshold) : functionScorer(vectors, metric.score);
  const leaderOf = new Array<number>(groups.length);
  const leadersByGroup = new Map<string, number[]>();
  for (let i = 0; i < groups.length; i++) {
    let leaders = leadersByGroup.get(groups[i]!);
    if (!leaders) leadersByGroup.set(groups[i]!, (leaders = []));
    let best = -1;
    let bestScore = -Infinity;
    for (const leader of leaders) {
      const score = similarity(rows[leader]!, rows[i]!);
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

/** A similarity between two rows, already clamped to [0, 1]; below-threshold pairs may return any lower value. */
type RowScorer = (a: number, b: number) => number;

/** Scores above 1 or below 0 (rounding, unbounded metrics, opposite vectors) are clamped; NaN is malformed. */
function clampScore(score: number): number {
  if (Number.isNaN(score)) throw new MalformedEmbeddingError(`the metric returned ${score}`);
  return score < 0 ? 0 : score > 1 ? 1 : score;
}

function functionScorer(vectors: readonly ArrayLike<number>[], score: (a: ArrayLike<number>, b: ArrayLike<number>) => number): RowScorer {
  return (a, b) => clampScore(score(vectors[a]!, vectors[b]!));
}

// Rounding may make the bound of a pair exactly at the threshold look a hair below it: never prune that close.
const PRUNE_MARGIN = 1e-9;

/**
 * Cosine over a copy of the vectors in one flat array, with each row's squared norm computed once. The full
 * score is computed as ml-distance's `cosine` does (same sums in the same order), so both agree to the last bit.
 */
function cosineScorer(vectors: readonly ArrayLike<number>[], dimensions: number, threshold: number): RowScorer {
  const count = vectors.length;
  const matrix = new Float64Array(count * dimensions);
  const quarter = dimensions >> 2;
  const half = dimensions >> 1;
  const squaredNorm = new Float64Array(count);
  // Norms of each row from a quarter and from half of the way on, for the early-exit bounds.
  const tailFromQuarter = new Float64Array(count);
  const tailFromHalf = new Float64Array(count);
  for (let r = 0; r < count; r++) {
    const vector = vectors[r]!;
    const base = r * dimensions;
    let sum = 0;
    let fromQuarter = 0;
    let fromHalf = 0;
    for (let d = 0; d < dimensions; d++) {
      const x = vector[d]!;
      matrix[base + d] = x;
      sum += x * x;
      if (d >= quarter) fromQuarter += x * x;
      if (d >= half) fromHalf += x * x;
    }
    squaredNorm[r] = sum;
    tailFromQuarter[r] = Math.sqrt(fromQuarter);
    tailFromHalf[r] = Math.sqrt(fromHalf);
  }
  return (a, b) => {
    const norms = Math.sqrt(squaredNorm[a]! * squaredNorm[b]!);
    // A zero vector is similar to nothing (its cosine is 0/0).
    if (norms === 0) return 0;
    const floor = (threshold - PRUNE_MARGIN) * norms;
    const baseA = a * dimensions;
    const baseB = b * dimensions;
    let dot = 0;
    let d = 0;
    for (; d < quarter; d++) dot += matrix[baseA + d]! * matrix[baseB + d]!;
    if (dot + tailFromQuarter[a]! * tailFromQuarter[b]! < floor) return -1;
    for (; d < half; d++) dot += matrix[baseA + d]! * matrix[baseB + d]!;
    if (dot + tailFromHalf[a]! * tailFromHalf[b]! < floor) return -1;
    for (; d < dimensions; d++) dot += matrix[baseA + d]! * matrix[baseB + d]!;
    return clampScore(dot / norms);
  };
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
