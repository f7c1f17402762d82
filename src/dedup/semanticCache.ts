import type { ResolvedMetric } from './metric.js';
import { salientOrderAgrees, salientTokens, type SalientTokens } from './mergeGuard.js';
import type { NearIndex } from './strategy.js';

/**
 * The semantic side of the result cache (`resultCache: { semantic: true }`): the vectors of cached results, by
 * group, to find the cached result nearest a batch leader's text. Only the similarity plug-in loads it (see
 * `semanticDedup` in options.ts), so `rxjs-batch-dedup/lite` never does.
 *
 * A probe is what the similarity deduper computed for a leader of a batch: its group (scope, the request without
 * its text and, with the built-in guard, the guard signature: see `groupKeyFunction` in semantic.ts), its text
 * and its vector (the one of the embedding cache: one embedding per text). A cached result is found for a probe
 * only in the probe's group, at a similarity of at least the threshold, when the merge guard allows the pair: the
 * very rules by which two requests of one batch merge. The entries themselves (their value, age and recency) are
 * the exact cache's (`SlotTable` in src/internal/inFlight.ts): this holds their vectors, and forgets one when the
 * table does.
 */
export interface Probe {
  readonly group: string;
  readonly text: string;
  readonly vector: Float32Array;
}

/** How many of an entry's largest coordinates the first check of a pair reads. */
const TOP = 8;
/** Below this, rounding cannot make a bound look lower than the score it bounds (see `nearest`). */
const MARGIN = 1e-9;

interface Row<H> {
  readonly entry: H;
  readonly probe: Probe;
  /** Sum of the squares of the vector, in the order the batch scores it. */
  readonly squared: number;
  /** The TOP largest coordinates (by magnitude) of the unit vector, and their dimensions; empty when unbounded. */
  readonly topDims: Int32Array;
  readonly topValues: Float64Array;
  /** Norm of the unit vector without those coordinates, rounded up: the bound adds it. Infinity: no bound. */
  readonly rest: number;
  tokens: SalientTokens | undefined;
}

/**
 * Vectors of cached results by group. The lookup of a probe scores the entries of its group only. For cosine
 * (the default metric) each entry keeps its TOP largest coordinates, and a pair whose dot product over those,
 * plus the norm of the entry's other coordinates (Cauchy-Schwarz), is below the threshold is refused after TOP
 * multiplications: at the thresholds used for dedup nearly every unrelated entry is. A pair not refused is scored
 * as the batch scores it (the same sums in the same order, so a cached result is found exactly when the two
 * requests would have merged in one batch). Any other metric is called on every entry of the group.
 */
export class SemanticIndex<H> implements NearIndex<H> {
  private readonly groups = new Map<string, Set<Row<H>>>();
  private readonly rows = new Map<H, Row<H>>();

  /**
   * @param guard `true`: the pairwise half of the built-in guard (names and numbers in the same order; its
   *   signature half is in the group); a function: a custom guard, asked `(cached text, new text)`; `false`: none
   */
  constructor(
    private readonly metric: ResolvedMetric,
    private readonly threshold: number,
    private readonly guard: boolean | ((a: string, b: string) => boolean),
  ) {}

  get size(): number {
    return this.rows.size;
  }

  add(entry: H, probe: unknown): void {
    const p = probe as Probe;
    this.remove(entry);
    const row = rowOf(entry, p, this.metric.kind === 'cosine');
    let group = this.groups.get(p.group);
    if (!group) this.groups.set(p.group, (group = new Set()));
    group.add(row);
    this.rows.set(entry, row);
  }

  remove(entry: H): void {
    const row = this.rows.get(entry);
    if (!row) return;
    this.rows.delete(entry);
    const group = this.groups.get(row.probe.group)!;
    group.delete(row);
    if (group.size === 0) this.groups.delete(row.probe.group);
  }

  /**
   * The entry nearest the first probe (a batch leader's): of its group, scoring at least the threshold, allowed by
   * the guard, the highest score (the oldest entry on a tie), among those that are as near every other probe
   * (the requests merged into that leader: all are answered from the entry) and `live` (the table's age check).
   */
  nearest(probes: readonly unknown[], live: (entry: H) => boolean): H | undefined {
    const queries = (probes as readonly Probe[]).map((probe) => ({ probe, ...queryOf(probe.vector, this.metric.kind === 'cosine') }));
    const leader = queries[0];
    const group = leader && this.groups.get(leader.probe.group);
    if (!group) return undefined;
    let best: Row<H> | undefined;
    let bestScore = -Infinity;
    for (const row of group) {
      const score = this.near(row, leader, bestScore);
      if (score === undefined) continue;
      let all = true;
      for (let q = 1; q < queries.length && all; q++) all = this.near(row, queries[q]!, -Infinity) !== undefined;
      if (!all || !live(row.entry)) continue;
      best = row;
      bestScore = score;
    }
    return best?.entry;
  }

  /** The score of the pair when it is at least the threshold, above `toBeat`, and the guard allows it. */
  private near(row: Row<H>, query: Query, toBeat: number): number | undefined {
    const { probe, unit } = query;
    if (row.rest !== Infinity && unit !== undefined) {
      // Upper bound of the cosine of the unit vectors: the top coordinates' part, plus |rest of row| * 1.
      let bound = row.rest;
      for (let k = 0; k < TOP; k++) bound += unit[row.topDims[k]!]! * row.topValues[k]!;
      if (bound < this.threshold - MARGIN) return undefined;
    }
    const score = this.score(row, probe.vector, query.squared);
    if (!(score >= this.threshold && score > toBeat)) return undefined;
    if (this.guard === false) return score;
    if (typeof this.guard === 'function') return this.guard(row.probe.text, probe.text) ? score : undefined;
    return salientOrderAgrees((row.tokens ??= salientTokens(row.probe.text)), (query.tokens ??= salientTokens(probe.text))) ? score : undefined;
  }

  /** The score of a cached entry (as the earlier request) and a new one, as a batch scores the pair. */
  private score(row: Row<H>, vector: Float32Array, squared: number): number {
    const cached = row.probe.vector;
    if (this.metric.kind !== 'cosine') {
      const s = this.metric.score(cached, vector);
      return Number.isNaN(s) ? 0 : s < 0 ? 0 : s > 1 ? 1 : s;
    }
    if (row.squared === 0 || squared === 0 || cached.length !== vector.length) return 0;
    let dot = 0;
    for (let d = 0; d < cached.length; d++) dot += cached[d]! * vector[d]!;
    const s = dot / Math.sqrt(row.squared * squared);
    return s < 0 ? 0 : s > 1 ? 1 : s;
  }
}

function squaredNorm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let d = 0; d < vector.length; d++) sum += vector[d]! * vector[d]!;
  return sum;
}

/** Rows whose squared norm is within these bounds get a bound; others (zero, tiny, huge) are scored in full. */
function boundable(squared: number, dimensions: number): boolean {
  return squared >= 1e-150 && squared <= 1e150 && dimensions >= TOP;
}

function rowOf<H>(entry: H, probe: Probe, cosine: boolean): Row<H> {
  const vector = probe.vector;
  const squared = squaredNorm(vector);
  const topDims = new Int32Array(TOP);
  const topValues = new Float64Array(TOP);
  if (!cosine || !boundable(squared, vector.length)) return { entry, probe, squared, topDims, topValues, rest: Infinity, tokens: undefined };
  const norm = Math.sqrt(squared);
  // The TOP largest coordinates by magnitude, by insertion into a small sorted list.
  const magnitude = new Float64Array(TOP).fill(-1);
  for (let d = 0; d < vector.length; d++) {
    const m = Math.abs(vector[d]!);
    if (m <= magnitude[TOP - 1]!) continue;
    let k = TOP - 1;
    while (k > 0 && magnitude[k - 1]! < m) {
      magnitude[k] = magnitude[k - 1]!;
      topDims[k] = topDims[k - 1]!;
      k--;
    }
    magnitude[k] = m;
    topDims[k] = d;
  }
  let topSquared = 0;
  for (let k = 0; k < TOP; k++) {
    const value = vector[topDims[k]!]! / norm;
    topValues[k] = value;
    topSquared += value * value;
  }
  // |unit without the top|^2 = 1 - |top|^2, rounded up by a relative 1e-12 (and never below 0).
  const rest = Math.sqrt(Math.max(0, 1 - topSquared) + 1e-12) * (1 + 1e-12);
  return { entry, probe, squared, topDims, topValues, rest, tokens: undefined };
}

interface Query {
  readonly probe: Probe;
  readonly squared: number;
  readonly unit: Float64Array | undefined;
  tokens?: SalientTokens;
}

function queryOf(vector: Float32Array, cosine: boolean): { squared: number; unit: Float64Array | undefined } {
  const squared = squaredNorm(vector);
  if (!cosine || !boundable(squared, vector.length)) return { squared, unit: undefined };
  const norm = Math.sqrt(squared);
  const unit = new Float64Array(vector.length);
  for (let d = 0; d < vector.length; d++) unit[d] = vector[d]! / norm;
  return { squared, unit };
}
