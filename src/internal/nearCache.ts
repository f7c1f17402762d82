/**
 * The semantic result cache between dedup and execution (`resultCache.semantic`), as the entry points with
 * similarity dedup wire it in (`withNearCache`): src/batcher/withSimilarity.ts and src/operators/withSimilarity.ts
 * hand it to the pipeline with `semanticDedup`. `rxjs-batch-dedup/lite` does not, so it bundles none of this: a
 * lite pipeline cannot have a semantic cache (it refuses `resultCache.semantic: true`).
 */
import type { SchedulerLike } from 'rxjs';
import { semanticDedup } from '../dedup/options.js';
import type { ProbedBatch, SimilarityDedup } from '../dedup/strategy.js';
import type { BatchStatsRecorder } from '../stats/batchStats.js';
import type { DedupedBatch } from '../types.js';
import type { Outcome } from './batchRun.js';
import type { Envelope } from './envelope.js';
import { SENT } from './inFlight.js';
import type { SharedSlots } from './sharedSlots.js';

/**
 * Each unique item of the batch whose probes find a cached result near all of them (its leader's text, and that
 * of every request merged into it, so no request is answered from an entry farther than the threshold) is
 * answered from it (`answer`, counted as a semantic cache hit), with every request of the batch it stands for
 * and every request that joined it in flight; the others keep their leader's probe, to index their result when
 * it is stored (`SharedSlots.settled`). Only leaders whose slot is in the table in effect are looked up: a probe
 * made under other settings (a `configure()` since they arrived) is neither looked up nor stored. The walk over
 * the batch is the similarity plug-in's (`NearIndex.answer`).
 *
 * @return the batch still to execute (the same one when nothing was found), or undefined when nothing is left
 */
export type NearCache = <T, R, E extends Envelope<T>>(
  slots: SharedSlots<T, R, E>,
  batch: ProbedBatch<E>,
  pipeline: NearCachePipeline,
  answer: (envelope: E, outcome: Outcome<R>, batchId: number, deduplicated: boolean) => void,
) => DedupedBatch<E> | undefined;

/** What of the pipeline's settings the step reads: the clock of the cache's ages, and the stats it counts hits in. */
export interface NearCachePipeline {
  readonly scheduler: SchedulerLike;
  readonly stats: Pick<BatchStatsRecorder, 'recordCacheHit' | 'recordCount'>;
}

/** Similarity dedup with the semantic result cache: what the pipeline of an entry point that has them takes. */
export interface SimilarityPlugIn extends SimilarityDedup {
  readonly nearCache?: NearCache;
}

export const nearCache: NearCache = (slots, batch, pipeline, answer) => {
  const table = slots.current;
  const cache = table.cache;
  const near = cache?.near;
  if (near === undefined) return batch;
  const now = pipeline.scheduler.now();
  return near.answer(
    batch,
    (leader, group) => {
      const pending = slots.ledBy(leader);
      if (pending === undefined || pending.table !== table || pending.state !== SENT) return undefined;
      // An entry found too old, or from the future, is forgotten at once (the index allows it while it looks up).
      const entry = near.nearest(group, (candidate) => cache!.live(candidate, now) || (cache!.forget(candidate), false));
      if (entry === undefined) {
        pending.probe = group[0];
        return undefined;
      }
      return cache!.used(entry);
    },
    (envelope, { value }) => {
      // Its owner may have answered it already (and counted it then).
      if (envelope.answered !== true) {
        pipeline.stats.recordCacheHit();
        pipeline.stats.recordCount('semanticCacheHits', 1);
        answer(envelope, { ok: true, value }, 0, true);
      }
      // Its result is another request's: never stored again under its own key (see `settled`, which does nothing
      // for a request that holds no slot).
      slots.settled(envelope, true, value, 0, true);
    },
  );
};

/** `semanticDedup` with the semantic result cache: what the main and operators entry points give the pipeline. */
export const withNearCache: SimilarityPlugIn = { ...semanticDedup, nearCache };
