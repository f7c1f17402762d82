/**
 * Similarity dedup (`'embedding'`, `'hybrid'`) plugged into the strategies of strategy.ts: its options checked
 * and the deduper they build. The main entry point and `rxjs-batch-dedup/operators` wire it in (`semanticDedup`);
 * `rxjs-batch-dedup/lite` does not, so an app on the lite entry never loads it.
 */
import { asyncScheduler } from 'rxjs';
import * as check from '../base/validate.js';
import { describeValue } from '../base/describeValue.js';
import { describedError, describeThrow } from './keys.js';
import { defaultText, type Embedder } from './embedder.js';
import { createLexicalEmbedder } from './lexicalEmbedder.js';
import { METRIC_NAMES, metricByName, type ResolvedMetric, type VectorSimilarity } from './metric.js';
import { restKeyOf } from './restKey.js';
import { createSemanticDeduper, type SemanticSettings } from './semantic.js';
import { SemanticIndex } from './semanticCache.js';
import {
  createDeduper,
  mapDedup,
  resolveDedupWith,
  type DedupOptions,
  type ResolvedDedup,
  type ResolvedSimilarity,
  type SimilarityDedup,
} from './strategy.js';

export type { Embedder } from './embedder.js';
export {
  createDeduper,
  mapDedup,
  type Deduper,
  type DeduperHooks,
  type DedupOptions,
  type DedupStrategy,
  type ResolvedDedup,
  type SimilarityDedup,
} from './strategy.js';

const DEFAULT_EMBED_CACHE_SIZE = 4096;
/**
 * Remote embedding calls take tens to hundreds of ms and seldom more than a second or two at their slowest; past
 * 5 s the call is far more likely hung than slow, and a batch waiting on it delays every request in it while dedup
 * is only an optimisation. So after 5 s the batch goes on with exact dedup.
 */
const DEFAULT_EMBED_TIMEOUT_MS = 5000;

/** One embedder for every pipeline that does not bring its own: it is stateless. Made at first use. */
let builtInEmbedder: Embedder | undefined;

/** Similarity dedup, for the entry points that offer it. */
export const semanticDedup: SimilarityDedup = {
  resolve: <T>(where: string, options: DedupOptions<T>) => {
    const settings = resolveSemantic(where, options);
    // The semantic result cache (`resultCache.semantic`, an option of batchDedup and createBatcher) looks up the
    // vectors of similarity dedup: nothing embeds the texts with 'exact' or a dedupFunction.
    if (
      (options as { resultCache?: { semantic?: unknown } }).resultCache?.semantic === true &&
      ((options.dedupStrategy ?? 'exact') === 'exact' || options.dedupFunction !== undefined)
    ) {
      check.fail(where, `resultCache.semantic needs dedupStrategy 'embedding' or 'hybrid' and no dedupFunction`, TypeError);
    }
    return similarityOf(settings);
  },
};

/** Checks every dedup option, similarity dedup included. */
export function resolveDedupOptions<T>(where: string, options: DedupOptions<T>): ResolvedDedup<T> {
  return resolveDedupWith(where, options, semanticDedup);
}

function similarityOf<T>(settings: SemanticSettings<T>): ResolvedSimilarity<T> {
  return {
    create: (strategy, grouping, threshold, hooks, probes, previous) => {
      const deduper = createSemanticDeduper(strategy, grouping, settings, threshold, hooks, probes, previous);
      // The semantic result cache's index, at the threshold of this deduper's merges.
      return probes ? Object.assign(deduper, { nearIndex: <H>() => new SemanticIndex<H>(settings.metric, threshold, settings.mergeGuard) }) : deduper;
    },
    map: <U>(unwrap: (wrapper: U) => T) =>
      similarityOf<U>({
        ...settings,
        text: (u) => settings.text(unwrap(u)),
        restKey: (u, text) => settings.restKey(unwrap(u), text),
      }),
  };
}

/** Validates the similarity options whatever the strategy, so a typo fails at creation, not at a later switch. */
function resolveSemantic<T>(where: string, options: DedupOptions<T>): SemanticSettings<T> {
  const embed = check.optionalFunction<Embedder>(where, 'embed', options.embed) ?? (builtInEmbedder ??= createLexicalEmbedder());
  const customText = check.optionalFunction<(request: T) => string>(where, 'text', options.text);
  const cacheSize = check.count(where, 'embedCacheSize', options.embedCacheSize ?? DEFAULT_EMBED_CACHE_SIZE, 0);
  const embedTimeoutMs = options.embedTimeoutMs ?? DEFAULT_EMBED_TIMEOUT_MS;
  check.scheduler(where, options.scheduler);
  const guard = options.mergeGuard ?? true;
  if (typeof guard !== 'boolean' && typeof guard !== 'function') {
    check.fail(where, `mergeGuard must be true, false or a function, got ${check.describe(guard)}`, TypeError);
  }
  return {
    text: customText ? checkedText(where, customText) : defaultText,
    restKey: restKeyOf<T>(where, customText !== undefined),
    embed,
    metric: resolveMetric(where, options.metric),
    cacheSize,
    mergeGuard: guard,
    // Infinity means no bound; anything else is a duration like the others.
    embedTimeoutMs: embedTimeoutMs === Infinity ? Infinity : check.duration(where, 'embedTimeoutMs', embedTimeoutMs, 1),
    scheduler: options.scheduler ?? asyncScheduler,
    embedAhead: options.embedAhead === undefined ? undefined : check.boolean(where, 'embedAhead', options.embedAhead),
  };
}

/** A user's `text`: what it throws, or a value that is not a string, rejects that request naming `text(request)`. */
function checkedText<T>(where: string, text: (request: T) => string): (request: T) => string {
  return (request) => {
    let value: unknown;
    try {
      value = text(request);
    } catch (error) {
      throw describeThrow('text', error, where);
    }
    if (typeof value !== 'string') throw describedError(`${where}: text(request) must return a string, got ${describeValue(value)}`);
    return value;
  };
}

function resolveMetric(where: string, metric: unknown): ResolvedMetric {
  if (metric === undefined) return { kind: 'cosine' };
  // Nothing reads a metric's name: a nameless function keeps its empty one.
  if (typeof metric === 'function') return { kind: 'function', name: metric.name, score: metric as VectorSimilarity };
  // metricByName knows names only: anything but a string is unknown to it too.
  const resolved = metricByName(metric as string);
  if (!resolved) {
    // check.describe, not String: a value without prototype has no text, and String would throw its own TypeError.
    check.fail(where, `metric must be a function or one of the ml-distance similarities ${METRIC_NAMES.map((m) => `'${m}'`).join(', ')}, got ${check.describe(metric)}`, TypeError);
  }
  return resolved;
}
