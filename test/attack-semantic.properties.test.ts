/**
 * Similarity dedup through `createBatcher` of the main entry point (H-ATK2), under what the reliability properties
 * do not draw: embedders that answer twice, give typed arrays (one object for every text), zero vectors, reject
 * with `null` or a string; texts that are empty, lone surrogates or 1 MB long; a `dedupFunction` that throws now and
 * then, is not symmetric, or returns a boolean; `dedupThreshold` changed by `configure()` while batches are
 * embedding; embed-ahead on, off or by default. Every text embeds to the same vector, so only the scope and the
 * rest of the request (its key) keep requests apart.
 *
 * Promises checked: every call settles once, with its own answer (an execution for a request of the same scope,
 * and with the same key unless a `dedupFunction` judged them alike) or an Error; `close()` resolves and leaves no
 * timer; an embedder call never carries a text twice, and an embedder that answers well and in time embeds each
 * text once per run (cache on), across `configure()` of the threshold.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBatcher, type DedupKey, type DedupScope, type Embedder } from '../src/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { durationArb, keyPoolsArb, reordered, runMoments, sameKey, sameScope } from './support.js';

interface Req {
  readonly query: string;
  readonly key: DedupKey;
}
interface Echo {
  readonly id: number;
}

const LONG = 'x'.repeat(1 << 20);
const TEXTS = ['alpha question', 'alpha question!', '', '\uD800', '\uDC00 tail', LONG, `${LONG}y`, 'order 1234', 'order 1243'];

const EMBED_KINDS = ['sync', 'async', 'typed-shared', 'twice', 'zero', 'throws', 'rejects-null', 'rejects-string', 'wrong-length', 'never'] as const;
type EmbedKind = (typeof EMBED_KINDS)[number];
const WELL: ReadonlySet<EmbedKind> = new Set<EmbedKind>(['sync', 'async', 'typed-shared', 'twice', 'zero']);

const DEDUP_FUNCTIONS = ['none', 'throws-sometimes', 'asymmetric', 'boolean'] as const;

const scenarioArb = fc.record({
  pools: keyPoolsArb(),
  picks: fc.array(
    fc.record({ at: fc.integer({ min: 0, max: 40 }), key: fc.nat({ max: 1 }), scope: fc.nat({ max: 1 }), copy: fc.boolean(), text: fc.nat({ max: TEXTS.length - 1 }), timeoutMs: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }) }),
    { minLength: 1, maxLength: 16 },
  ),
  strategy: fc.constantFrom('embedding' as const, 'hybrid' as const),
  // Mostly none: a dedupFunction replaces the embedder.
  dedupFunction: fc.oneof({ weight: 4, arbitrary: fc.constant(DEDUP_FUNCTIONS[0]) }, { weight: 2, arbitrary: fc.constantFrom(...DEDUP_FUNCTIONS.slice(1)) }),
  embedKinds: fc.array(
    fc.oneof({ weight: 3, arbitrary: fc.constantFrom<EmbedKind>(...WELL) }, { weight: 2, arbitrary: fc.constantFrom<EmbedKind>(...EMBED_KINDS.filter((k) => !WELL.has(k))) }),
    { minLength: 1, maxLength: 3 },
  ),
  embedDelayMs: fc.integer({ min: 0, max: 8 }),
  embedTimeoutMs: durationArb(1, 15, [Infinity]),
  embedCacheSize: fc.constantFrom(0, 4096),
  embedAhead: fc.constantFrom(false, undefined, true),
  mergeGuard: fc.boolean(),
  threshold: fc.double({ min: 0, max: 1, noNaN: true }),
  reconfigure: fc.array(fc.tuple(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 3 }),
  windowMs: fc.integer({ min: 0, max: 6 }),
  maxSize: fc.integer({ min: 1, max: 6 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  durationMs: fc.integer({ min: 0, max: 6 }),
  closeAt: fc.integer({ min: 0, max: 60 }),
  again: fc.boolean(),
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

async function run(s: Scenario) {
  const clock = virtualClock();
  const vts = clock.scheduler;
  const tracked = trackTimers(vts);
  // With `again`, every request is asked again later (as an equal copy): texts already embedded come back.
  const picks = s.again ? [...s.picks, ...s.picks.map((p) => ({ ...p, at: p.at + 25, copy: true }))] : s.picks;
  const requests = picks.map((p, id) => {
    const pooled = s.pools.keys[p.key % s.pools.keys.length] as DedupKey;
    return { id, at: p.at, timeoutMs: p.timeoutMs, scope: s.pools.scopes[p.scope % s.pools.scopes.length] as DedupScope, request: { query: TEXTS[p.text]!, key: p.copy ? reordered(pooled) : pooled } as Req };
  });
  const idOf = new Map(requests.map((r) => [r.request, r.id]));
  const embedCalls: string[][] = [];
  const vector = () => [0.6, 0.8];
  const embed: Embedder = (texts) => {
    const kind = s.embedKinds[embedCalls.length % s.embedKinds.length]!;
    const k: EmbedKind = kind === 'never' && !Number.isFinite(s.embedTimeoutMs) ? 'async' : kind;
    embedCalls.push([...texts]);
    const later = <V>(answer: (resolve: (v: V) => void, reject: (e: unknown) => void) => void) =>
      new Promise<V>((resolve, reject) => vts.schedule(() => answer(resolve, reject), s.embedDelayMs));
    switch (k) {
      case 'sync':
        return texts.map(vector);
      case 'async':
        return later((resolve) => resolve(texts.map(vector)));
      case 'typed-shared': {
        const shared = new Float32Array([0.6, 0.8]);
        return texts.map(() => shared);
      }
      case 'twice':
        // A thenable that calls back twice: the first answer counts.
        return {
          then(resolve: (v: number[][]) => void) {
            resolve(texts.map(vector));
            resolve(texts.map(() => [1, 0]));
          },
        } as unknown as PromiseLike<number[][]>;
      case 'zero':
        return texts.map(() => [0, 0]);
      case 'throws':
        throw new Error('embed threw');
      case 'rejects-null':
        return later((_, reject) => reject(null));
      case 'rejects-string':
        return later((_, reject) => reject('no vectors'));
      case 'wrong-length':
        return later((resolve) => resolve(texts.map(() => [1, 0, 0]).slice(0, Math.max(0, texts.length - 1))));
      case 'never':
        return new Promise(() => undefined);
    }
  };
  let compared = 0;
  const dedupFunction =
    s.dedupFunction === 'none'
      ? undefined
      : s.dedupFunction === 'throws-sometimes'
        ? (a: Req, b: Req) => {
            if (++compared % 3 === 0) throw new Error('similarity failed');
            return a.query.length === b.query.length ? 1 : 0;
          }
        : s.dedupFunction === 'asymmetric'
          ? (a: Req, b: Req) => (a.query < b.query ? 1 : 0)
          : ((a: Req, b: Req) => a.query.charAt(0) === b.query.charAt(0)) as unknown as (a: Req, b: Req) => number;

  const batcher = createBatcher<Req, Echo>({
    dedupStrategy: s.strategy,
    ...(dedupFunction && { dedupFunction }),
    dedupThreshold: s.threshold,
    key: (r) => r.key,
    embed,
    embedTimeoutMs: s.embedTimeoutMs,
    embedCacheSize: s.embedCacheSize,
    ...(s.embedAhead !== undefined && { embedAhead: s.embedAhead }),
    mergeGuard: s.mergeGuard,
    windowMs: s.windowMs,
    maxSize: s.maxSize,
    concurrency: s.concurrency,
    processingTimeoutMs: 50,
    scheduler: tracked.scheduler,
    execute: (items) => new Promise<Echo[]>((resolve) => vts.schedule(() => resolve(items.map((r) => ({ id: idOf.get(r)! }))), s.durationMs)),
  });
  const settled = new Map<number, { ok: true; value: Echo } | { ok: false; error: unknown }>();
  let twice = 0;
  const note = (id: number, outcome: { ok: true; value: Echo } | { ok: false; error: unknown }) => {
    if (settled.has(id)) twice++;
    settled.set(id, outcome);
  };
  for (const r of requests) {
    vts.schedule(() => {
      batcher.process(r.request, { ...(r.scope !== undefined && { scope: r.scope as string }), ...(r.timeoutMs !== undefined && { timeoutMs: r.timeoutMs }) }).then(
        (value) => note(r.id, { ok: true, value }),
        (error: unknown) => note(r.id, { ok: false, error }),
      );
    }, r.at);
  }
  let closing = false;
  // Only while open: configure() after close() throws BatcherClosedError, as documented.
  for (const [at, threshold] of s.reconfigure) vts.schedule(() => closing || batcher.configure({ dedupThreshold: threshold }), at);
  let closed = false;
  let pendingAtClose = -1;
  vts.schedule(() => {
    closing = true;
    void batcher.close().then(() => {
      closed = true;
      pendingAtClose = tracked.pending();
    });
  }, Math.max(s.closeAt, ...requests.map((r) => r.at)));
  await runMoments(vts, () => closed, 5000);
  return { requests, settled, twice, closed, pendingAtClose, embedCalls, dedupFunction };
}

describe('similarity dedup through createBatcher, with hostile embedders, texts, dedupFunctions and a live threshold', () => {
  it('every call settles once with its own answer; close() resolves with no timer left; one embedding per text', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const r = await run(s);
        expect(r.closed, 'close() resolved').toBe(true);
        expect(r.pendingAtClose).toBe(0);
        expect(r.twice).toBe(0);
        expect([...r.settled.keys()].sort((a, b) => a - b)).toEqual(r.requests.map((q) => q.id));
        const byId = new Map(r.requests.map((q) => [q.id, q]));
        for (const [id, outcome] of r.settled) {
          if (!outcome.ok) {
            expect(outcome.error).toBeInstanceOf(Error);
            continue;
          }
          const own = byId.get(id)!;
          const answeredFor = byId.get(outcome.value.id)!;
          const show = (q: typeof own) => `request ${q.id} (key ${fc.stringify(q.request.key)}, scope ${fc.stringify(q.scope)}, text ${JSON.stringify(q.request.query.slice(0, 20))})`;
          expect(sameScope(answeredFor.scope, own.scope), `${show(own)} answered for ${show(answeredFor)}: another scope`).toBe(true);
          if (!r.dedupFunction) expect(sameKey(answeredFor.request.key, own.request.key), `${show(own)} answered for ${show(answeredFor)}: another key`).toBe(true);
        }
        for (const texts of r.embedCalls) expect(new Set(texts).size, 'a text twice in one embed call').toBe(texts.length);
        const inTime = s.embedDelayMs < s.embedTimeoutMs || !s.embedKinds.includes('async');
        if (s.embedCacheSize > 0 && inTime && s.embedKinds.every((k) => WELL.has(k))) {
          const sent = r.embedCalls.flat();
          expect(new Set(sent).size, `a text embedded twice: ${JSON.stringify(r.embedCalls.map((c) => c.map((t) => t.slice(0, 16))))}`).toBe(sent.length);
        }
      }),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 120) },
    );
  }, 120_000);
});
