import { similarity as similarities } from 'ml-distance';

/** A similarity between two vectors; higher is more similar. Scores are clamped to [0, 1] before use. */
export type VectorSimilarity = (a: ArrayLike<number>, b: ArrayLike<number>) => number;

/** The names `metric` accepts: every vector similarity `ml-distance` exports. */
export const METRIC_NAMES: readonly string[] = /* @__PURE__ */ metricNames();

/** Pure, so that a bundle that never reads `METRIC_NAMES` drops it. */
function metricNames(): string[] {
  return Object.keys(similarities)
    .filter((name) => typeof (similarities as Record<string, unknown>)[name] === 'function')
    .sort();
}

/** A resolved metric: `'cosine'` gets a fast path over precomputed norms, anything else is called per pair. */
export type ResolvedMetric = { readonly kind: 'cosine' } | { readonly kind: 'function'; readonly name: string; readonly score: VectorSimilarity };

/** Looks a similarity up by name; undefined when `ml-distance` has none of that name. */
export function metricByName(name: string): ResolvedMetric | undefined {
  if (name === 'cosine') return { kind: 'cosine' };
  if (!METRIC_NAMES.includes(name)) return undefined;
  const score = (similarities as unknown as Record<string, VectorSimilarity>)[name]!;
  return { kind: 'function', name, score };
}
