/**
 * H-ATK1: the operator (`batchDedup`, main and lite) with its source driven re-entrantly from inside the
 * pipeline's own callbacks: `key`, `scope`, `priority`, `signal`, `execute` and a result downstream each may send
 * another request, end the source (complete or error) or unsubscribe, at any of their calls. Keys and scopes read
 * like `Object.prototype`'s names; priorities are `Infinity`, `-Infinity` and `-0`; durations reach `2^53` and
 * `Number.MAX_VALUE`. Judged: without an unsubscription, every request sent gets exactly one result, its own, and
 * the output ends (completes, or forwards the source's error) only after the last; after one, no result, no
 * `execute` call, no timer, and every call still owed results aborted; stats count what was sent and answered.
 * /lite runs on both of its paths: the lean core (its default, without the engine's stats, result cache and
 * priorities; a streamed answer fails its batch there) and the engine (`engine: engine()`).
 */
import fc from 'fast-check';
import { from, map, Subject, timer, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatchStats, type BatchResult, type DedupKey, type DedupScope } from '../src/index.js';
import { batchDedup as liteBatchDedup } from '../src/lite/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { hostClock, keyArb, runNextMoment, sameKey, sameScope } from './support.js';
import { engine, priorities, resultCache } from '../src/lite/index.js';

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
const keyOfArb: fc.Arbitrary<DedupKey> = fc.oneof(
  fc.constantFrom<DedupKey>(...PROTO_NAMES),
  fc.constantFrom(...PROTO_NAMES).map((name) => JSON.parse(`{${JSON.stringify(name)}:[1]}`) as DedupKey),
  keyArb,
);
const scopeOfArb = fc.constantFrom<DedupScope>('__proto__', 'constructor', 0, -0, Infinity, 1n, undefined);

interface Req {
  readonly id: number;
  readonly key: DedupKey;
  readonly scope: DedupScope;
}

type Where = 'key' | 'scope' | 'priority' | 'signal' | 'execute' | 'result';
type Action = 'next' | 'complete' | 'error' | 'unsubscribe';

const HUGE = [2 ** 31, 2 ** 53, Number.MAX_VALUE, Infinity];
const smallOrHuge = (min: number, max: number) =>
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(...HUGE) });

const liteOnEngine = ((options: object) => liteBatchDedup({ ...(options as { execute: () => [] }), engine: engine() })) as typeof liteBatchDedup;
/** [name, batchDedup, on the lean core] */
const ENTRIES = [
  ['main', batchDedup, false],
  ['lite, lean core', liteBatchDedup, true],
  ['lite with engine()', liteOnEngine, false],
] as const;

describe.each(ENTRIES)('batchDedup (%s) with its source driven from inside its own callbacks', (_, operator, lean) => {
  it('answers each request once with its own result and ends after the last; after an unsubscription nothing more runs', () => {
    fc.assert(
      fc.property(
        fc.record({
          windowMs: smallOrHuge(0, 6),
          maxSize: fc.integer({ min: 1, max: 3 }),
          concurrency: fc.integer({ min: 1, max: 2 }),
          processingTimeoutMs: fc.oneof(fc.integer({ min: 1, max: 20 }), fc.constantFrom(2 ** 53, Infinity)),
          requestTimeoutMs: fc.option(smallOrHuge(1, 20), { nil: undefined }),
          dedupInFlight: fc.boolean(),
          enablePriorities: fc.boolean(),
          withSignal: fc.boolean(),
          cache: fc.boolean(),
        }),
        fc.array(fc.record({ at: fc.integer({ min: 0, max: 15 }), key: keyOfArb, scope: scopeOfArb }), { minLength: 1, maxLength: 8 }),
        fc.array(
          fc.record({
            where: fc.constantFrom<Where>('key', 'scope', 'priority', 'signal', 'execute', 'result'),
            nth: fc.integer({ min: 0, max: 6 }),
            action: fc.constantFrom<Action>('next', 'next', 'complete', 'error', 'unsubscribe'),
          }),
          { maxLength: 3 },
        ),
        fc.array(fc.constantFrom('sync', 'later', 'stream', 'throws'), { minLength: 1, maxLength: 4 }),
        fc.constantFrom<'complete' | 'error'>('complete', 'error'),
        (o, arrivals, hooks, backends, ending) => {
          const clock = virtualClock();
          const tracked = trackTimers(hostClock(clock.scheduler, 1_700_000_000_000).scheduler);
          const stats = createBatchStats({ scheduler: tracked.scheduler });
          const source = new Subject<Req>();
          const problems: string[] = [];
          const sent: Req[] = [];
          const results: BatchResult<Req, { echo: Req }>[] = [];
          const counts: Record<Where, number> = { key: 0, scope: 0, priority: 0, signal: 0, execute: 0, result: 0 };
          const owed: AbortSignal[] = [];
          let nextId = 0;
          let sourceEnded: 'complete' | 'error' | undefined;
          let unsubscribed = false;
          let outputEnded: 'complete' | 'error' | undefined;
          let resultsAtEnd = -1;
          let subscription: Subscription | undefined;
          let pendingUnsubscribe = false;
          let executions = 0;

          const send = (key: DedupKey, scope: DedupScope) => {
            if (sourceEnded) return;
            const req = { id: nextId++, key, scope };
            sent.push(req);
            source.next(req);
          };
          const end = (how: 'complete' | 'error') => {
            if (sourceEnded) return;
            sourceEnded = how;
            if (how === 'complete') source.complete();
            else source.error(new Error('source failed'));
          };
          const unsubscribe = () => {
            if (unsubscribed) return;
            unsubscribed = true;
            // During subscribe() itself there is no subscription yet: it leaves as soon as there is.
            if (subscription) subscription.unsubscribe();
            else pendingUnsubscribe = true;
          };
          const act = (where: Where) => {
            const n = counts[where]++;
            for (const hook of hooks) {
              if (hook.where !== where || hook.nth !== n) continue;
              if (hook.action === 'next') send(PROTO_NAMES[n % PROTO_NAMES.length]!, '__proto__');
              else if (hook.action === 'unsubscribe') unsubscribe();
              else end(hook.action);
            }
          };

          const options = {
            scheduler: tracked.scheduler,
            ...(lean ? {} : { stats }),
            windowMs: o.windowMs,
            maxSize: o.maxSize,
            concurrency: o.concurrency,
            processingTimeoutMs: o.processingTimeoutMs,
            ...(o.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: o.requestTimeoutMs }),
            dedupInFlight: o.dedupInFlight,
            ...(o.cache && !lean ? { resultCache: resultCache({ ttlMs: Number.MAX_VALUE }) } : {}),
            key: (r: Req) => {
              act('key');
              return r.key;
            },
            scope: (r: Req) => {
              act('scope');
              return r.scope;
            },
            ...(o.enablePriorities && !lean
              ? {
                  priorities: priorities({ agingPerSecond: Number.MAX_VALUE }),
                  priority: (r: Req) => {
                    act('priority');
                    return [Infinity, -Infinity, -0, 1][r.id % 4]!;
                  },
                }
              : {}),
            ...(o.withSignal
              ? {
                  signal: (_r: Req) => {
                    act('signal');
                    return undefined;
                  },
                }
              : {}),
            execute: (items: Req[], context: { signal: AbortSignal }) => {
              if (unsubscribed) problems.push(`execute called after the unsubscription with ${items.length} items`);
              act('execute');
              const answers = items.map((echo) => ({ echo }));
              const backend = backends[executions++ % backends.length]!;
              if (backend === 'sync') return answers;
              // On the lean core, every other one answers with an observable of the array (streamed items fail its batch).
              if (backend === 'stream') return lean && executions % 2 === 0 ? from([answers]) : from(answers.map((value, index) => ({ index, value })).reverse());
              if (backend === 'throws') throw new Error('backend down');
              owed.push(context.signal);
              return timer(2, clock.scheduler).pipe(map(() => (owed.splice(owed.indexOf(context.signal), 1), answers)));
            },
          };

          subscription = source.pipe((operator as typeof batchDedup)<Req, { echo: Req }>(options)).subscribe({
            next: (r) => {
              if (unsubscribed) problems.push(`a result after the unsubscription: ${fc.stringify(r.request)}`);
              if (outputEnded) problems.push('a result after the end');
              results.push(r);
              act('result');
            },
            error: (error: unknown) => {
              outputEnded = 'error';
              resultsAtEnd = results.length;
              if (!(error instanceof Error) || error.message !== 'source failed') problems.push(`the output failed with ${String(error)}`);
            },
            complete: () => {
              outputEnded = 'complete';
              resultsAtEnd = results.length;
            },
          });
          if (pendingUnsubscribe) subscription.unsubscribe();

          let now = 0;
          for (const t of [...new Set(arrivals.map((a) => a.at))].sort((a, b) => a - b)) {
            clock.advanceBy(t - now);
            now = t;
            for (const a of arrivals) if (a.at === t && !unsubscribed) send(a.key, a.scope);
          }
          if (!unsubscribed) end(ending);
          const timersAtEnd = () => tracked.pending();
          // Moment by moment: a chained timer of Number.MAX_VALUE ms never runs out, so `runAll` would never end.
          for (let i = 0; i < 500 && outputEnded === undefined && !unsubscribed && runNextMoment(clock.scheduler); i++);

          expect(problems.join('\n')).toBe('');
          if (unsubscribed) {
            expect(timersAtEnd()).toBe(0);
            for (const signal of owed) expect(signal.aborted).toBe(true);
            return;
          }
          // Every request once, its own result, before the end.
          expect(outputEnded).toBe(sourceEnded);
          expect(resultsAtEnd).toBe(sent.length);
          expect(new Set(results.map((r) => r.request.id)).size).toBe(results.length);
          for (const r of results) {
            if (r.status !== 'fulfilled') continue;
            const { echo } = r.value as { echo: Req };
            expect(sameKey(echo.key, r.request.key) && sameScope(echo.scope, r.request.scope), `request ${r.request.id} answered with ${fc.stringify(echo)}`).toBe(true);
          }
          expect(timersAtEnd()).toBe(0);
          if (lean) return; // no stats recorder on the lean core
          const snapshot = stats.snapshot();
          expect(snapshot.totalRequests).toBe(sent.length);
          expect(snapshot.completed).toBe(sent.length);
          expect(snapshot.errors + snapshot.timeouts).toBe(results.filter((r) => r.status === 'rejected').length);
        },
      ),
      {
        numRuns: 200,
        // Seed 1455683712 at 1,639 runs (stop 18): the source completed from inside key() of a request pushed from
        // inside another's key() while a batch executed; the engine ended with that other request unanswered
        // (reliability 117, test/attack-engine-ending-s18). Kept as the first case.
        examples: [
          [
            { windowMs: 2 ** 31, maxSize: 1, concurrency: 1, processingTimeoutMs: 2 ** 53, requestTimeoutMs: undefined, dedupInFlight: false, enablePriorities: false, withSignal: false, cache: false },
            [
              { at: 0, key: JSON.parse('{"__proto__":[1]}') as DedupKey, scope: '__proto__' },
              { at: 0, key: JSON.parse('{"__proto__":[1]}') as DedupKey, scope: '__proto__' },
              { at: 0, key: [], scope: '__proto__' },
              { at: 0, key: 'x', scope: '__proto__' },
              { at: 0, key: [], scope: '__proto__' },
            ],
            [
              { where: 'key', nth: 4, action: 'next' },
              { where: 'key', nth: 5, action: 'complete' },
            ],
            ['sync', 'sync', 'sync', 'later'],
            'complete',
          ],
        ],
      },
    );
  });
});
