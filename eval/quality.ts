import { similarity } from 'ml-distance';
import { createDeduper, resolveDedupOptions } from '../src/dedup/options.js';
import type { Embedder } from '../src/dedup/embedder.js';
import { defaultMergeGuard } from '../src/dedup/mergeGuard.js';
import type { LabelledPair } from './data.js';
import { seededRandom } from '../bench/lib/random.js';

/** How often the "duplicate" decisions were right: the merges made and the duplicates caught. */
export interface Score {
  readonly merges: number;
  readonly truePositives: number;
  readonly positives: number;
  /** Of the merges, the share that humans labelled duplicate; null when nothing was merged. */
  readonly precision: number | null;
  readonly recall: number;
}

/** What the strategies need to decide on one pair, computed once per pair and embedder. */
export interface PairFacts {
  readonly duplicate: boolean;
  readonly identical: boolean;
  readonly cosine: number;
  readonly guardAllows: boolean;
}

export type Decision = 'exact' | 'embedding' | 'embedding, no guard' | 'hybrid' | 'hybrid, no guard';

/** Embeds every text once; later calls are served from memory (so every run below embeds nothing twice). */
export function memoize(embed: Embedder): Embedder {
  const table = new Map<string, ArrayLike<number>>();
  return (texts: string[]) => {
    const missing = texts.filter((t) => !table.has(t));
    if (missing.length > 0) {
      const vectors = embed(missing) as ArrayLike<number>[];
      missing.forEach((t, i) => table.set(t, vectors[i]!));
    }
    return texts.map((t) => table.get(t)!);
  };
}

export function pairFacts(pairs: readonly LabelledPair[], embed: Embedder): PairFacts[] {
  const texts = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const vectors = embed(texts) as ArrayLike<number>[];
  const vectorOf = new Map(texts.map((t, i) => [t, vectors[i]!]));
  return pairs.map((p) => {
    const cosine = similarity.cosine(vectorOf.get(p.a) as Float32Array, vectorOf.get(p.b) as Float32Array);
    return {
      duplicate: p.duplicate,
      identical: p.a === p.b,
      cosine: Number.isNaN(cosine) ? 0 : cosine,
      guardAllows: defaultMergeGuard(p.a, p.b),
    };
  });
}

export function decide(fact: PairFacts, decision: Decision, threshold: number): boolean {
  const similar = fact.cosine >= threshold;
  switch (decision) {
    case 'exact':
      return fact.identical;
    case 'embedding':
      return similar && fact.guardAllows;
    case 'embedding, no guard':
      return similar;
    case 'hybrid':
      return fact.identical || (similar && fact.guardAllows);
    case 'hybrid, no guard':
      return fact.identical || similar;
  }
}

export function score(facts: readonly PairFacts[], decision: Decision, threshold: number): Score {
  let merges = 0;
  let truePositives = 0;
  let positives = 0;
  for (const fact of facts) {
    if (fact.duplicate) positives++;
    if (decide(fact, decision, threshold)) {
      merges++;
      if (fact.duplicate) truePositives++;
    }
  }
  return { merges, truePositives, positives, precision: merges ? truePositives / merges : null, recall: truePositives / positives };
}

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * The simulated stream: pairs in a seeded random order, both sentences of 16 pairs per batch of 32, shuffled
 * within the batch, so a pair's two sentences always meet in one batch (as near-simultaneous paraphrases do).
 */
export function simulatedStream(pairs: readonly LabelledPair[], batchSize = 32, seed = 7): string[][] {
  const random = seededRandom(seed);
  const order = shuffle([...pairs], random);
  const batches: string[][] = [];
  const perBatch = batchSize / 2;
  for (let start = 0; start < order.length; start += perBatch) {
    batches.push(shuffle(order.slice(start, start + perBatch).flatMap((p) => [p.a, p.b]), random));
  }
  return batches;
}

export interface StreamScore {
  readonly requests: number;
  readonly executed: number;
  /** Share of requests answered by another request's execution. */
  readonly dedupRate: number;
  /** Share of merged requests whose leader is identical to it or labelled its duplicate; null without merges. */
  readonly mergePrecision: number | null;
}

/** Runs the library's own deduper over the simulated stream. */
export function runStream(
  batches: readonly string[][],
  pairs: readonly LabelledPair[],
  options: { strategy: 'exact' | 'embedding' | 'hybrid'; threshold: number; embed: Embedder; mergeGuard: boolean },
): StreamScore {
  const duplicates = new Set(pairs.filter((p) => p.duplicate).flatMap((p) => [`${p.a}\u0000${p.b}`, `${p.b}\u0000${p.a}`]));
  const dedup = createDeduper(
    resolveDedupOptions<string>('eval', {
      dedupStrategy: options.strategy,
      dedupThreshold: options.threshold,
      embed: options.embed,
      mergeGuard: options.mergeGuard,
    }),
    { onFallback: (error) => { throw error; } },
  );
  let requests = 0;
  let executed = 0;
  let merged = 0;
  let rightMerges = 0;
  for (const batch of batches) {
    const out = dedup(batch);
    if (out instanceof Promise) throw new Error('the evaluation embedders are synchronous');
    requests += batch.length;
    executed += out.unique.length;
    // A leader is the first item of its group; every later item of the group was merged into it.
    const seen = new Set<number>();
    out.leaderOf.forEach((leader, i) => {
      if (!seen.has(leader)) {
        seen.add(leader);
        return;
      }
      const leaderText = out.unique[leader]!;
      const text = batch[i]!;
      merged++;
      if (leaderText === text || duplicates.has(`${text}\u0000${leaderText}`)) rightMerges++;
    });
  }
  return { requests, executed, dedupRate: 1 - executed / requests, mergePrecision: merged ? rightMerges / merged : null };
}
