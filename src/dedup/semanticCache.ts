import type { ResolvedMetric } from './metric.js';
import { salientOrderAgrees, salientTokens, type SalientTokens } from './mergeGuard.js';
import type { DedupedBatch } from '../types.js';
import type { NearIndex, ProbedBatch } from './strategy.js';

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

/** A vector's squared norm (summed in the order the batch sums it) and, for the cosine, its unit vector. */
interface Prepared {
  readonly probe: Probe;
  readonly squared: number;
  readonly unit: Float64Array | undefined;
  tokens?: SalientTokens;
}

interface Row<H> {
  readonly entry: H;
  readonly probe: Probe;
  readonly squared: number;
  tokens?: SalientTokens;
  /** Dimensions of the TOP largest coordinates (by magnitude) of the unit vector, and those coordinates. */
  readonly top: number[];
  readonly weights: number[];
  /** Norm of the unit vector without those coordinates, rounded up (Infinity: no bound holds for the row). */
  readonly rest: number;
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

  add(entry: H, probe: unknown): void {
    this.remove(entry);
    const { probe: p, squared, unit } = this.prepare(probe as Probe);
    // The TOP largest coordinates: the dimensions sorted by magnitude, the first TOP (the sort is stable: ties
    // stay in the order of their dimensions).
    const top = unit ? [...unit.keys()].sort((a, b) => Math.abs(unit[b]!) - Math.abs(unit[a]!)).slice(0, TOP) : [];
    const weights = top.map((d) => unit![d]!);
    let topSquared = 0;
    for (const w of weights) topSquared += w * w;
    // |unit without the top|^2 = 1 - |top|^2, rounded up so that rounding never makes the bound too low.
    const rest = unit ? Math.sqrt(Math.max(0, 1 - topSquared) + 1e-12) + 1e-9 : Infinity;
    const row: Row<H> = { entry, probe: p, squared, top, weights, rest };
    const group = this.groups.get(p.group) ?? new Set();
    this.groups.set(p.group, group.add(row));
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
  /**
   * Each unique item of the batch whose probes find a cached result near all of them (`find`: the table's
   * `nearest`, for a leader whose slot it holds) is answered from it, with every request of the batch it stands
   * for (`hit`); the rest of the batch is executed.
   */
  answer<E>(
    batch: ProbedBatch<E>,
    find: (leader: E, probes: readonly unknown[]) => H | undefined,
    hit: (item: E, entry: H) => void,
  ): DedupedBatch<E> | undefined {
    const { probes, items, leaderOf } = batch;
    if (probes === undefined) return batch;
    // By unique item: the cached entry that answers it.
    let found: Map<number, H> | undefined;
    for (const [leader, group] of probes) {
      const entry = find(items[leader]!, group);
      if (entry !== undefined) (found ??= new Map()).set(leaderOf[leader]!, entry);
    }
    if (found === undefined) return batch;
    // forEach, not an index loop: a bound made '<=' read past the end, found nothing there, and survived.
    items.forEach((item, i) => {
      const entry = found.get(leaderOf[i]!);
      if (entry !== undefined) hit(item, entry);
    });
    return withoutUnique(batch, found);
  }

  nearest(probes: readonly unknown[], live: (entry: H) => boolean): H | undefined {
    const [leader, ...others] = (probes as readonly Probe[]).map((probe) => this.prepare(probe));
    let best: Row<H> | undefined;
    let bestScore = -Infinity;
    for (const row of (leader && this.groups.get(leader.probe.group)) ?? []) {
      const score = this.score(row, leader!, bestScore);
      if (score !== undefined && others.every((other) => this.score(row, other, -Infinity) !== undefined) && live(row.entry)) {
        best = row;
        bestScore = score;
      }
    }
    return best?.entry;
  }

  private prepare(probe: Probe): Prepared {
    const { vector } = probe;
    let squared = 0;
    for (let d = 0; d < vector.length; d++) squared += vector[d]! * vector[d]!;
    // Only the cosine has a bound. The vectors are float32, so a squared norm is 0 or within 1e-90..1e80, where
    // the unit vector is exact to the bound's margins. A zero vector's unit is NaN, and so is every bound it
    // enters: NaN refuses nothing, and its full score, 0, finds nothing either (the bound is used above 0 only).
    const norm = Math.sqrt(squared);
    return { probe, squared, unit: this.metric.kind === 'cosine' ? Float64Array.from(vector, (x) => x / norm) : undefined };
  }

  /**
   * The score of the pair (the cached entry as the earlier request) when it is at least the threshold, above
   * `toBeat`, and the guard allows it.
   */
  private score(row: Row<H>, query: Prepared, toBeat: number): number | undefined {
    const { metric, threshold, guard } = this;
    const cached = row.probe.vector;
    const vector = query.probe.vector;
    let score: number;
    if (metric.kind === 'cosine') {
      // At threshold 0 every pair passes (a negative cosine counts as 0), so nothing may be refused on a bound.
      if (query.unit && threshold > 0) {
        // An upper bound of the cosine of the unit vectors: the top coordinates' part, plus |rest of row| * 1.
        let bound = row.rest;
        for (let k = 0; k < row.top.length; k++) bound += query.unit[row.top[k]!]! * row.weights[k]!;
        if (bound < threshold) return undefined;
      }
      let dot = 0;
      for (let d = 0; d < cached.length; d++) dot += cached[d]! * vector[d]!;
      // A zero vector is similar to nothing: 0 / 0 is NaN, which scores 0 below.
      score = dot / Math.sqrt(row.squared * query.squared);
    } else {
      // A user's metric that throws, or gives no number ('0.99', true): no match, as NaN (the batch's dedup
      // falls back for it; a batch of one has no pair there, and a throw here would escape the engine's timer).
      // The catch is empty: a throw leaves `given` undefined, which the type check refuses.
      let given: unknown;
      try {
        given = metric.score(cached, vector);
      } catch {}
      if (typeof given !== 'number') return undefined;
      score = given;
    }
    score = score > 1 ? 1 : score >= 0 ? score : 0;
    if (!(score >= threshold && score > toBeat)) return undefined;
    if (guard === true) {
      return salientOrderAgrees((row.tokens ??= salientTokens(row.probe.text)), (query.tokens ??= salientTokens(query.probe.text))) ? score : undefined;
    }
    if (guard === false) return score;
    // A user's guard that throws, or answers anything but `true`, refuses the match, as one that returns false.
    // The catch is empty: after a throw the function ends, answering undefined.
    try {
      if (guard(row.probe.text, query.probe.text) === true) return score;
    } catch {}
    return undefined;
  }
}

/** The batch without the unique items in `gone` and the requests they stand for; undefined when none is left. */
function withoutUnique<E>(batch: DedupedBatch<E>, gone: ReadonlyMap<number, unknown>): DedupedBatch<E> | undefined {
  const unique: E[] = [];
  // The index in `unique` of each unique item kept (that of one gone is never read). Made by map, not written
  // into a presized array, whose size and initial contents were equivalent mutants.
  const renumbered = batch.unique.map((item, u) => {
    if (!gone.has(u)) unique.push(item);
    return unique.length - 1;
  });
  const items: E[] = [];
  const leaderOf: number[] = [];
  // Made at the first failed request kept: a batch without failures has none (undefined, not an empty map).
  let failures: Map<number, unknown> | undefined;
  batch.items.forEach((item, i) => {
    const u = batch.leaderOf[i]!;
    // `gone` holds unique indices only: a failed request (u < 0) is never in it.
    if (gone.has(u)) return;
    // A failed request (leader -1) keeps its error, under its new index.
    if (u < 0) {
      (failures ??= new Map()).set(items.length, batch.failures!.get(i));
      leaderOf.push(u);
    } else {
      leaderOf.push(renumbered[u]!);
    }
    items.push(item);
  });
  if (items.length === 0) return undefined;
  return { items, unique, leaderOf, failures };
}
