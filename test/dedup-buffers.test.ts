/**
 * The shared vector buffer of similarity dedup (issue 15): without an embedding cache and without a semantic
 * result cache, the copies of one embedder answer are views of one buffer, and once no batch reads them any more
 * that buffer serves the next answer (`Embeddings.release`). No batch may ever see another batch's vectors: a
 * buffer is reused only after every batch reading it has found its leaders, never while one is still being
 * deduplicated, and never when a vector went to a session's ready vectors (embed-ahead) or to a custom metric.
 */
import fc from 'fast-check';
import { queueScheduler, Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Embeddings } from '../src/dedup/embedAhead.js';
import { EmbeddingCache } from '../src/dedup/embeddingCache.js';
import { createDeduper, resolveDedupOptions, type DedupOptions, type Embedder } from '../src/dedup/options.js';
import { virtualClock } from '../src/testing/index.js';
import type { DedupedBatch } from '../src/types.js';

/** A unit vector at `degrees` in the plane of the first two of 4 dimensions: cos(a - b) is their cosine. */
const at = (degrees: number) => [Math.cos((degrees * Math.PI) / 180), Math.sin((degrees * Math.PI) / 180), 0, 0];

/**
 * Batch 1: a ~ b (5 degrees) and c ~ d (3 degrees), a and c apart: leaders a and c. Batch 2: four directions 90
 * degrees apart, no merge. Had batch 2's vectors been written over batch 1's while batch 1 was still being
 * deduplicated, c and d would be 90 degrees apart and would not merge.
 */
const TABLE: Record<string, number[]> = {
  p: at(10), q: at(100), r: at(190), s: at(280),
  a: at(0), b: at(5), c: at(90), d: at(93),
  e: at(45), f: at(135), g: at(225), h: at(315),
};
const BATCH_0 = ['p', 'q', 'r', 's'];
const BATCH_1 = ['a', 'b', 'c', 'd'];
const BATCH_2 = ['e', 'f', 'g', 'h'];
const EXPECTED_1 = { items: BATCH_1, unique: ['a', 'c'], leaderOf: [0, 0, 1, 1] };
const EXPECTED_2 = { items: BATCH_2, unique: BATCH_2, leaderOf: [0, 1, 2, 3] };

function deduper(options: DedupOptions<string>) {
  return createDeduper(resolveDedupOptions('dedupBy', { dedupStrategy: 'embedding', dedupThreshold: 0.98, embedCacheSize: 0, ...options }));
}

describe('the shared vector buffer of similarity dedup', () => {
  it('a batch deduplicated from inside another one (its merge guard) gets fresh vectors, and leaves the outer batch its own', () => {
    let inner: DedupedBatch<string> | Promise<DedupedBatch<string>> | undefined;
    const dedup = deduper({
      embed: (texts) => texts.map((t) => TABLE[t]!),
      // Asked first for (a, b), while batch 1 is still being deduplicated: batch 2 is deduplicated right then.
      mergeGuard: () => {
        inner ??= dedup(BATCH_2);
        return true;
      },
    });
    // Batch 0 leaves its buffer for the next answer: batch 1's is copied into it, so batch 2's must not be.
    dedup(BATCH_0);
    const outer = dedup(BATCH_1);
    expect(inner).toEqual(EXPECTED_2);
    expect(outer).toEqual(EXPECTED_1);
  });

  it('an embedder that answers the second batch while the first is still deduplicating: each gets its own vectors', () => {
    // Answers are thenables settled by the test, synchronously: the second one while the first batch is in its
    // merge guard.
    const pending = new Map<string, (vectors: number[][]) => void>();
    const embed: Embedder = (texts) =>
      ({ then: (resolve: (vectors: number[][]) => void) => pending.set(texts[0]!, () => resolve(texts.map((t) => TABLE[t]!))) }) as unknown as Promise<number[][]>;
    let answeredSecond = false;
    const dedup = deduper({
      embed,
      mergeGuard: () => {
        if (!answeredSecond) {
          answeredSecond = true;
          pending.get('e')!([]);
        }
        return true;
      },
    });
    // Batch 0 leaves its buffer for the next answer (batch 1's).
    void dedup(BATCH_0);
    pending.get('p')!([]);
    const first = dedup(BATCH_1) as Promise<DedupedBatch<string>>;
    const second = dedup(BATCH_2) as Promise<DedupedBatch<string>>;
    pending.get('a')!([]);
    expect(answeredSecond).toBe(true);
    return Promise.all([first, second]).then(([one, two]) => {
      expect(one).toEqual(EXPECTED_1);
      expect(two).toEqual(EXPECTED_2);
    });
  });

  it('batches of any sizes through one deduper get the leaders a fresh deduper gives them (no vector left over from a reused buffer)', () => {
    const vector = fc.array(fc.integer({ min: 0, max: 359 }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(fc.array(vector, { minLength: 1, maxLength: 8 }), (batches) => {
        const table = new Map<string, number[]>();
        const texts = batches.map((angles, b) =>
          angles.map((angle, i) => {
            const text = `b${b}i${i}`;
            table.set(text, at(angle));
            return text;
          }),
        );
        const embed: Embedder = (ts) => ts.map((t) => table.get(t)!);
        const shared = deduper({ embed, mergeGuard: false });
        for (const batch of texts) expect(shared(batch)).toEqual(deduper({ embed, mergeGuard: false })(batch));
      }),
      { numRuns: 200 },
    );
  });
});

describe('Embeddings.release (when a shared buffer serves the next answer)', () => {
  const embed: Embedder = (texts) => texts.map((t) => TABLE[t]!);
  const vectorsOf = (call: { outcome: unknown }) => (call.outcome as { vectors: Float32Array[] }).vectors;
  const bufferOf = (call: { outcome: unknown }) => vectorsOf(call)[0]!.buffer;

  it('reuses the buffer of a call whose only batch is done', () => {
    const embeddings = new Embeddings(embed, new EmbeddingCache(0), queueScheduler, Infinity, true);
    const one = embeddings.call(['a', 'b'], undefined, undefined, 1);
    embeddings.release(one);
    const two = embeddings.call(['c', 'd'], undefined, undefined, 1);
    expect(bufferOf(two)).toBe(bufferOf(one));
  });

  it('does not while another batch still reads it', () => {
    const embeddings = new Embeddings(embed, new EmbeddingCache(0), queueScheduler, Infinity, true);
    const one = embeddings.call(['a', 'b'], undefined, undefined, 1);
    one.holders++; // a second batch joined the call
    embeddings.release(one);
    const two = embeddings.call(['c', 'd'], undefined, undefined, 1);
    expect(bufferOf(two)).not.toBe(bufferOf(one));
    expect([...vectorsOf(one)[0]!]).toEqual(TABLE['a']!.map((x) => Math.fround(x)));
  });

  it('does not when the vectors went to queued requests (embed-ahead keeps them past the batch)', () => {
    const embeddings = new Embeddings(embed, new EmbeddingCache(0), queueScheduler, Infinity, true);
    const one = embeddings.call(['a', 'b'], undefined, undefined, 1);
    one.kept = true;
    embeddings.release(one);
    const two = embeddings.call(['c', 'd'], undefined, undefined, 1);
    expect(bufferOf(two)).not.toBe(bufferOf(one));
  });

  it('does not when a session keeps a vector for queued requests: the vector embedded ahead keeps its values', () => {
    const clock = virtualClock();
    const embeddings = new Embeddings(embed, new EmbeddingCache(0), clock.scheduler, Infinity, true);
    const lifetime = new Subscription();
    const session = embeddings.sessionOf<string>(lifetime)!;
    // Two queued requests of one group want 'a' (its tick's call is not made yet: the clock has not moved).
    session.arrived('request 1', 'a', 'group');
    session.arrived('request 2', 'a', 'group');
    const one = embeddings.call(['a', 'b'], lifetime, session, 1);
    embeddings.release(one);
    const two = embeddings.call(['c', 'd'], lifetime, session, 1);
    expect(bufferOf(two)).not.toBe(bufferOf(one));
    expect([...session.take('a')!.vector!]).toEqual(TABLE['a']!.map((x) => Math.fround(x)));
    lifetime.unsubscribe();
  });

  it('never shares or reuses without buffer sharing (an embedding cache keeps vectors)', () => {
    const embeddings = new Embeddings(embed, new EmbeddingCache(10), queueScheduler, Infinity, false);
    const one = embeddings.call(['a', 'b'], undefined, undefined, 1);
    embeddings.release(one);
    const two = embeddings.call(['c', 'd'], undefined, undefined, 1);
    expect(bufferOf(two)).not.toBe(bufferOf(one));
    const vectors = vectorsOf(one);
    expect(vectors[0]!.buffer).not.toBe(vectors[1]!.buffer);
  });
});
