/**
 * Stop 22 (helper op): the pipeline driven from inside the user functions of its dedup step. test/attack-engine
 * .properties.test.ts drives batchDedup from `key`, `scope`, `priority`, `signal`, `execute` and a result, with
 * exact dedup; here the functions that similarity dedup and a `dedupFunction` call when a batch forms (`text`,
 * `embed`, `metric`, `mergeGuard`, `dedupFunction`, and `key`, `scope` there), as well as `signal`, `execute` and
 * a result, send another request, end the source, unsubscribe or abort a request's signal, on `batchDedup` (every
 * strategy, embed-ahead, in-flight dedup, the result cache, exact or semantic, `requestTimeoutMs`, `maxQueueSize`,
 * priorities and signals) and on `bufferWindow` or `adaptiveBuffer` → `dedupBy` → `fanOut` (with or without a
 * feedback channel), on a clock that steps back and forth. Embedders answer at once, later, never, throw, reject
 * or give the wrong count; every text embeds alike but the numbered ones, so only the scope (`0`/`-0`, `'0'`,
 * `0n`, `'a'`, none: not a field of the request) and the merge guard keep requests apart.
 *
 * Judged: without an unsubscription, every request sent gets exactly one result before the ending, which is the
 * source's; a result not `deduplicated` is the request's own, and none comes from another scope; no timer is left.
 * After an unsubscription: no result, no `execute` or `embed` call, no timer, and every call still owed answers
 * aborted. Found the engine and similarity bugs of test/attack-operators-s22.test.ts: kept as examples.
 */
import fc from 'fast-check';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adaptiveBuffer, batchDedup, bufferWindow, createBatchFeedback, dedupBy, fanOut, type BatchResult, type DedupScope } from '../src/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { hostClock, runNextMoment, turn } from './support.js';

/** Its text is its only field: id, scope and signal are not enumerable, so the rest of the request is always equal. */
interface Req {
  readonly query: string;
  readonly id: number;
  readonly scope: DedupScope;
  readonly ac: AbortController;
}
type Where = 'text' | 'embed' | 'dedupFunction' | 'mergeGuard' | 'metric' | 'scope' | 'execute' | 'result' | 'key' | 'signal';
type Action = 'next' | 'complete' | 'error' | 'unsubscribe' | 'abort';
const TEXTS = ['alpha', 'alpha', 'bravo', 'order 12', 'order 13', ''];
const SCOPES: DedupScope[] = [undefined, 0, -0, '0', 0n, 'a'];
const WHERES: Where[] = ['text', 'embed', 'dedupFunction', 'mergeGuard', 'metric', 'scope', 'execute', 'result', 'key', 'signal'];

const settingsArb = fc.record({
  windowMs: fc.constantFrom(0, 1, 3, 2 ** 31),
  maxSize: fc.integer({ min: 1, max: 4 }),
  concurrency: fc.integer({ min: 1, max: 2 }),
  strategy: fc.constantFrom('embedding' as const, 'hybrid' as const, 'function' as const, 'exact' as const),
  embedAhead: fc.constantFrom(undefined, true, false),
  embedKind: fc.constantFrom('sync', 'later', 'never', 'throws', 'rejects', 'wrong-count'),
  customGuard: fc.boolean(),
  customMetric: fc.boolean(),
  customText: fc.boolean(),
  embedTimeoutMs: fc.constantFrom(1, 5, Infinity),
  dedupInFlight: fc.boolean(),
  cache: fc.constantFrom('none', 'exact', 'semantic'),
  requestTimeoutMs: fc.constantFrom(undefined, 1, 4),
  execKind: fc.constantFrom('sync', 'later', 'throws'),
  maxQueueSize: fc.constantFrom(undefined, 1, 3),
  enablePriorities: fc.boolean(),
  withSignals: fc.boolean(),
  adaptive: fc.boolean(),
  withFeedback: fc.boolean(),
  clockStart: fc.constantFrom(0, 1_700_000_000_000),
  steps: fc.array(fc.constantFrom(-86_400_000, -5, -1, 1, 7, 3_600_000), { maxLength: 4 }),
});
type Settings = typeof settingsArb extends fc.Arbitrary<infer S> ? S : never;
const arrivalsArb = fc.array(fc.record({ at: fc.integer({ min: 0, max: 10 }), t: fc.nat({ max: TEXTS.length - 1 }), s: fc.nat({ max: SCOPES.length - 1 }) }), {
  minLength: 1,
  maxLength: 16,
});
type Arrivals = typeof arrivalsArb extends fc.Arbitrary<infer A> ? A : never;
const hooksArb = fc.array(
  fc.record({
    where: fc.constantFrom(...WHERES),
    nth: fc.integer({ min: 0, max: 5 }),
    action: fc.constantFrom<Action>('next', 'next', 'complete', 'error', 'unsubscribe', 'abort', 'abort'),
  }),
  { maxLength: 6 },
);
type Hooks = typeof hooksArb extends fc.Arbitrary<infer H> ? H : never;

/** Rejections a run may give: the backend's, a deadline, an abort by the test. Anything else is a problem. */
const EXPECTED_REJECTION = /backend down|aborted by the test|requestTimeoutMs|processingTimeoutMs|queue is full|QueueFull|maxQueueSize/;

async function run(composed: boolean, o: Settings, arrivals: Arrivals, hooks: Hooks, ending: 'complete' | 'error'): Promise<void> {
  const clock = virtualClock();
  const host = hostClock(clock.scheduler, o.clockStart);
  const tracked = trackTimers(host.scheduler);
  const source = new Subject<Req>();
  const problems: string[] = [];
  const sent: Req[] = [];
  const results: BatchResult<Req, Req>[] = [];
  const counts = new Map<Where, number>();
  const owed: AbortSignal[] = [];
  let sourceEnded: 'complete' | 'error' | undefined;
  let unsubscribed = false;
  let outputEnded: 'complete' | 'error' | undefined;
  let resultsAtEnd = -1;
  let subscription: Subscription | undefined;
  let pendingUnsubscribe = false;

  const send = (t: number, s: number) => {
    if (sourceEnded) return;
    const req = Object.defineProperties({ query: TEXTS[t]! }, { id: { value: sent.length }, scope: { value: SCOPES[s] }, ac: { value: new AbortController() } }) as Req;
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
    if (subscription) subscription.unsubscribe();
    else pendingUnsubscribe = true;
  };
  const act = (where: Where) => {
    const n = counts.get(where) ?? 0;
    counts.set(where, n + 1);
    for (const hook of hooks) {
      if (hook.where !== where || hook.nth !== n) continue;
      if (hook.action === 'next') send(n % TEXTS.length, n % SCOPES.length);
      else if (hook.action === 'unsubscribe') unsubscribe();
      else if (hook.action === 'abort') sent[(n * 7) % Math.max(1, sent.length)]?.ac.abort(new Error('aborted by the test'));
      else end(hook.action);
    }
  };
  /** A thenable that answers on the virtual clock, so no microtask is needed in between. */
  const later = <V>(ms: number, answer: (resolve: (v: V) => void, reject: (e: unknown) => void) => void) =>
    ({ then: (resolve: (v: V) => void, reject: (e: unknown) => void) => void clock.scheduler.schedule(() => answer(resolve, reject), ms) }) as unknown as PromiseLike<V>;
  const vectors = (texts: string[]) => texts.map((t) => (t.startsWith('order') ? [1, 0] : [1, 1]));
  const embed = (texts: string[]) => {
    if (unsubscribed) problems.push(`embed called after the unsubscription with ${texts.length} texts`);
    act('embed');
    switch (o.embedKind) {
      case 'sync':
        return vectors(texts);
      case 'throws':
        throw new Error('embedder down');
      case 'wrong-count':
        return vectors(texts).concat([[1, 1]]);
      case 'never':
        return later<number[][]>(0, () => undefined);
      case 'rejects':
        return later<number[][]>(1, (_, reject) => reject(new Error('embedder down')));
      default:
        return later<number[][]>(2, (resolve) => resolve(vectors(texts)));
    }
  };
  const dedup = {
    scheduler: tracked.scheduler,
    scope: (r: Req) => {
      act('scope');
      return r.scope;
    },
    key: (r: Req) => {
      act('key');
      return r.query;
    },
    ...(o.strategy === 'exact' ? {} : o.strategy === 'function'
      ? {
          dedupFunction: (a: Req, b: Req) => {
            act('dedupFunction');
            return a.query === b.query ? 1 : 0.5;
          },
          dedupThreshold: 0.9,
        }
      : {
          dedupStrategy: o.strategy as 'embedding' | 'hybrid',
          dedupThreshold: 0.9,
          embed,
          // A call that never answers is bounded (Infinity waits for ever, as documented).
          embedTimeoutMs: o.embedKind === 'never' && o.embedTimeoutMs === Infinity ? 3 : o.embedTimeoutMs,
          ...(o.customGuard
            ? {
                mergeGuard: (a: string, b: string) => {
                  act('mergeGuard');
                  return a === b || !/\d/.test(a + b);
                },
              }
            : {}),
          ...(o.customMetric
            ? {
                metric: (a: ArrayLike<number>, b: ArrayLike<number>) => {
                  act('metric');
                  return a[0] === b[0] && a[1] === b[1] ? 1 : 0;
                },
              }
            : {}),
          ...(o.customText
            ? {
                text: (r: Req) => {
                  act('text');
                  return r.query;
                },
              }
            : {}),
        }),
  };
  const execute = (items: Req[], { signal }: { signal: AbortSignal }) => {
    if (unsubscribed) problems.push(`execute called after the unsubscription with ${items.length} items`);
    act('execute');
    if (o.execKind === 'throws') throw new Error('backend down');
    if (o.execKind === 'sync') return items;
    owed.push(signal);
    return later<Req[]>(2, (resolve) => {
      owed.splice(owed.indexOf(signal), 1);
      resolve(items);
    });
  };
  const pipeline = composed
    ? (requests: Observable<Req>) => {
        const feedback = o.withFeedback ? createBatchFeedback(o.concurrency) : undefined;
        const collectorOptions = { scheduler: tracked.scheduler, windowMs: o.windowMs === 2 ** 31 ? 200 : o.windowMs, maxSize: o.maxSize, ...(feedback ? { feedback } : {}) };
        return requests.pipe(
          o.adaptive ? adaptiveBuffer<Req>({ ...collectorOptions, maxWindowMs: 200 }) : bufferWindow<Req>(collectorOptions),
          dedupBy<Req>(dedup),
          fanOut<Req, Req>({ scheduler: tracked.scheduler, execute, ...(feedback ? { feedback } : { concurrency: o.concurrency }) }),
        );
      }
    : batchDedup<Req, Req>({
        ...dedup,
        ...(o.strategy !== 'function' && o.strategy !== 'exact' && o.embedAhead !== undefined ? { embedAhead: o.embedAhead } : {}),
        windowMs: o.windowMs,
        maxSize: o.maxSize,
        concurrency: o.concurrency,
        dedupInFlight: o.dedupInFlight,
        execute,
        ...(o.cache === 'none' ? {} : { resultCache: { ttlMs: 50, semantic: o.cache === 'semantic' && o.strategy !== 'function' && o.strategy !== 'exact' } }),
        ...(o.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: o.requestTimeoutMs }),
        ...(o.maxQueueSize === undefined ? {} : { maxQueueSize: o.maxQueueSize }),
        ...(o.enablePriorities ? { enablePriorities: true, priority: (r: Req) => r.id % 3 } : {}),
        ...(o.withSignals ? { signal: (r: Req) => { act('signal'); return r.ac.signal; } } : {}),
      });

  subscription = source.pipe(pipeline).subscribe({
    next: (r) => {
      if (unsubscribed) problems.push(`a result after the unsubscription: ${r.request.id}`);
      if (outputEnded) problems.push(`a result after the end: ${r.request.id}`);
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

  // Moment by moment, with promise callbacks (an asynchronous dedup step) run in between.
  await turn();
  for (const t of [...new Set(arrivals.map((a) => a.at))].sort((a, b) => a - b)) {
    while (!unsubscribed && (clock.scheduler.actions[0]?.delay ?? Infinity) <= t) {
      runNextMoment(clock.scheduler);
      await turn();
    }
    clock.advanceBy(Math.max(0, t - clock.scheduler.frame));
    await turn();
    const step = o.steps[t % Math.max(1, o.steps.length)];
    if (step !== undefined && t % 3 === 0) host.step(step);
    for (const a of arrivals) if (a.at === t && !unsubscribed) send(a.t, a.s);
    await turn();
  }
  if (!unsubscribed) end(ending);
  await turn();
  for (let i = 0; i < 500 && outputEnded === undefined && !unsubscribed && runNextMoment(clock.scheduler); i++) await turn();

  expect(problems.join('\n')).toBe('');
  if (unsubscribed) {
    expect(tracked.pending()).toBe(0);
    for (const signal of owed) expect(signal.aborted).toBe(true);
    return;
  }
  expect(outputEnded).toBe(sourceEnded);
  expect(resultsAtEnd).toBe(sent.length);
  expect(new Set(results.map((r) => r.request.id)).size).toBe(results.length);
  for (const r of results) {
    if (r.status === 'rejected') {
      expect(String(r.error), `request ${r.request.id}`).toMatch(EXPECTED_REJECTION);
      continue;
    }
    const echo = r.value;
    if (!r.deduplicated) expect(echo.id, `request ${r.request.id} answered with another's result`).toBe(r.request.id);
    // 0 and -0 are one scope; 0, '0' and 0n are three.
    expect(typeof echo.scope === typeof r.request.scope && String(echo.scope) === String(r.request.scope), `request ${r.request.id} answered from another scope`).toBe(true);
  }
  expect(tracked.pending()).toBe(0);
}

const BASE: Settings = {
  windowMs: 0,
  maxSize: 1,
  concurrency: 1,
  strategy: 'embedding',
  embedAhead: undefined,
  embedKind: 'sync',
  customGuard: false,
  customMetric: false,
  customText: false,
  embedTimeoutMs: 1,
  dedupInFlight: false,
  cache: 'none',
  requestTimeoutMs: undefined,
  execKind: 'sync',
  withSignals: false,
  maxQueueSize: undefined,
  enablePriorities: false,
  adaptive: false,
  withFeedback: false,
  clockStart: 0,
  steps: [],
};

describe('the pipeline driven from inside the user functions of its dedup step', () => {
  it('batchDedup: each request answered once, its own or a same-scope merge, before the source ending; after an unsubscription nothing more runs', async () => {
    await fc.assert(
      fc.asyncProperty(settingsArb, arrivalsArb, hooksArb, fc.constantFrom<'complete' | 'error'>('complete', 'error'), (o, arrivals, hooks, ending) =>
        run(false, o, arrivals, hooks, ending),
      ),
      {
        numRuns: 150,
        examples: [
          // Unsubscribed from inside scope() when the batch formed: the batch was still executed.
          [BASE, [{ at: 0, t: 0, s: 0 }], [{ where: 'scope', nth: 0, action: 'unsubscribe' }], 'complete'],
          // The source completed inside the refusal of a leader whose requestTimeoutMs passed: its follower was lost.
          [
            { ...BASE, windowMs: 3, maxSize: 2, strategy: 'hybrid', requestTimeoutMs: 1 },
            [
              { at: 7, t: 2, s: 4 },
              { at: 7, t: 2, s: 4 },
              { at: 8, t: 0, s: 0 },
            ],
            [{ where: 'result', nth: 0, action: 'complete' }],
            'complete',
          ],
          // Unsubscribed from inside scope() read by embed-ahead at arrival: the request's deadline timer was set after.
          [{ ...BASE, embedAhead: true, requestTimeoutMs: 4 }, [{ at: 0, t: 0, s: 0 }], [{ where: 'scope', nth: 0, action: 'unsubscribe' }], 'complete'],
          // Unsubscribed from inside key() when a hybrid batch formed: embed was still called for it.
          [{ ...BASE, strategy: 'hybrid', cache: 'semantic' }, [{ at: 0, t: 0, s: 0 }], [{ where: 'key', nth: 0, action: 'next' }, { where: 'key', nth: 2, action: 'unsubscribe' }], 'complete'],
        ],
      },
    );
  });

  it('bufferWindow or adaptiveBuffer → dedupBy → fanOut, with or without a feedback channel: the same', async () => {
    await fc.assert(
      fc.asyncProperty(settingsArb, arrivalsArb, hooksArb, fc.constantFrom<'complete' | 'error'>('complete', 'error'), (o, arrivals, hooks, ending) =>
        run(true, o, arrivals, hooks, ending),
      ),
      {
        numRuns: 100,
        examples: [
          // Unsubscribed from inside text() when the batch formed: embed was still called for it.
          [
            { ...BASE, maxSize: 2, customText: true },
            [
              { at: 0, t: 0, s: 0 },
              { at: 0, t: 0, s: 1 },
              { at: 0, t: 0, s: 0 },
              { at: 0, t: 0, s: 0 },
            ],
            [{ where: 'text', nth: 2, action: 'unsubscribe' }],
            'complete',
          ],
        ],
      },
    );
  });
});
