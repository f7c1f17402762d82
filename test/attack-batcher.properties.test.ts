/**
 * H-ATK1: the promise bridge over the hostile domain the other properties do not draw (see docs/reliability.md,
 * "How the properties are built"): `close()`, `configure()` and `process()` called re-entrantly from inside
 * `key`, `scope`, `priority`, `execute` and a result's callback; keys and scopes that read like
 * `Object.prototype`'s own names (`'__proto__'`, `'constructor'`, objects with such fields); priorities
 * `Infinity`, `-Infinity`, `-0` with a huge aging rate; durations of `2^53` and `Number.MAX_VALUE` on a host
 * clock; execute output that throws while read (a `Proxy`), sparse output, synchronous answers. Judged as
 * everywhere: one settlement per accepted request, its own answer (key and scope), `close()` resolving only
 * once every accepted request has settled and leaving no timer, honest stats, `maxSize` and `concurrency` kept,
 * no call holding two equal requests. Both entry points (main and lite), /lite on both of its paths: the lean core
 * (its default: without what only the engine has, `configure()` must throw naming `engine()`, and only
 * `totalRequests` of the stats is there) and the engine (`engine: engine()`).
 */
import fc from 'fast-check';
import { map, NEVER, timer } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { BatcherClosedError, BatchTimeoutError, createBatcher, type Batcher, type DedupKey, type DedupScope } from '../src/index.js';
import { createBatcher as createLiteBatcher } from '../src/lite/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';
import { hostClock, keyArb, runMoments, sameKey, sameScope, turn } from './support.js';
import { engine, priorities, resultCache } from '../src/lite/index.js';

/** Keys that read like the names an object already has, on top of the usual hostile keys. */
const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const protoKeyArb: fc.Arbitrary<DedupKey> = fc.oneof(
  fc.constantFrom<DedupKey>(...PROTO_NAMES),
  fc.constantFrom(...PROTO_NAMES).map((name) => JSON.parse(`{${JSON.stringify(name)}:1}`) as DedupKey),
  fc.constantFrom(...PROTO_NAMES).map((name) => [name]),
  fc.constant<DedupKey>({}),
  keyArb,
);
const protoScopeArb = fc.constantFrom<DedupScope>('__proto__', 'constructor', 'toString', 0, -0, Infinity, -Infinity, 1n, undefined, '');

interface Req {
  readonly id: number;
  readonly key: DedupKey;
  readonly scope: DedupScope;
}
interface Echo {
  readonly echo: Req;
}

type Where = 'key' | 'scope' | 'priority' | 'execute' | 'result';
type Action = 'close' | 'configure' | 'configure-bad' | 'process';
interface Hook {
  readonly where: Where;
  /** On which call of that function (0-based) it acts. */
  readonly nth: number;
  readonly action: Action;
}

const BACKENDS = ['sync', 'later', 'promise', 'rejects', 'throws', 'short', 'proxy', 'never'] as const;
type Backend = (typeof BACKENDS)[number];

const HUGE = [2 ** 31, 2 ** 53, Number.MAX_VALUE, Infinity];
const smallOrHuge = (min: number, max: number) =>
  fc.oneof({ weight: 4, arbitrary: fc.integer({ min, max }) }, { weight: 1, arbitrary: fc.constantFrom(...HUGE) });

const optionsArb = fc.record({
  windowMs: smallOrHuge(0, 8),
  maxWaitMs: fc.option(smallOrHuge(1, 12), { nil: undefined }),
  maxSize: fc.integer({ min: 1, max: 4 }),
  concurrency: fc.integer({ min: 1, max: 3 }),
  processingTimeoutMs: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constantFrom(2 ** 53, Number.MAX_VALUE, Infinity)),
  requestTimeoutMs: fc.option(smallOrHuge(1, 30), { nil: undefined }),
  onTimeout: fc.constantFrom<'reject' | 'individual'>('reject', 'individual'),
  dedupInFlight: fc.boolean(),
  enablePriorities: fc.boolean(),
  cache: fc.boolean(),
  scopeBy: fc.constantFrom<'function' | 'call'>('function', 'call'),
});

/** Valid live changes (never of the key or scope: the judge below compares under the one key), and refused ones. */
const LIVE: readonly Record<string, unknown>[] = [
  { windowMs: 0 },
  { windowMs: 2 ** 53 },
  // minSize with it: after { maxSize: 3, minSize: 2 } a maxSize of 1 alone is rightly refused (minSize above maxSize).
  { maxSize: 1, minSize: 1 },
  { maxSize: 3, minSize: 2 },
  { concurrency: 1 },
  { concurrency: 3 },
  { processingTimeoutMs: 5 },
  { onTimeout: 'individual' },
  { requestTimeoutMs: 3 },
  { requestTimeoutMs: Infinity },
  { maxWaitMs: Number.MAX_VALUE },
  { maxQueueSize: 2 },
  { enableDedup: false },
  { enableDedup: true },
];
const REFUSED: readonly Record<string, unknown>[] = [
  { windowMs: Number.NaN },
  { maxSize: 0 },
  { concurrency: 1.5 },
  { processingTimeoutMs: -1 },
  { requestTimeoutMs: Number.NaN },
  { minSize: 9, maxSize: 2 },
  { enablePriorities: 'yes' },
  { adaptive: true },
  { dedupInFlight: 'maybe' },
  { windwMs: 5 },
  { signal: () => undefined },
];

const callArb = fc.record({
  at: fc.integer({ min: 0, max: 25 }),
  requests: fc.array(fc.record({ key: protoKeyArb, scope: protoScopeArb, priority: fc.constantFrom(0, -0, 1, Infinity, -Infinity) }), { minLength: 1, maxLength: 3 }),
  timeoutMs: fc.option(smallOrHuge(1, 30), { nil: undefined }),
  abortAt: fc.option(fc.integer({ min: 0, max: 30 }), { nil: undefined }),
});

const hookArb = fc.record({
  where: fc.constantFrom<Where>('key', 'scope', 'priority', 'execute', 'result'),
  nth: fc.integer({ min: 0, max: 6 }),
  action: fc.constantFrom<Action>('close', 'configure', 'configure-bad', 'process'),
});

/** What the run saw, judged at the end. */
interface Log {
  readonly problems: string[];
}

const liteOnEngine = ((options: object) => createLiteBatcher({ ...(options as { execute: () => [] }), engine: engine() })) as typeof createLiteBatcher;
/** [name, createBatcher, on the lean core] */
const ENTRIES = [
  ['main', createBatcher, false],
  ['lite, lean core', createLiteBatcher, true],
  ['lite with engine()', liteOnEngine, false],
] as const;

describe.each(ENTRIES)('createBatcher (%s) over re-entrant calls, look-alike keys and huge durations', (_, make, lean) => {
  it('answers every accepted request once with its own answer; close() waits for exactly them and leaves no timer; stats add up', async () => {
    await fc.assert(
      fc.asyncProperty(
        optionsArb,
        fc.array(callArb, { minLength: 1, maxLength: 8 }),
        fc.array(hookArb, { maxLength: 3 }),
        fc.array(fc.constantFrom(...BACKENDS), { minLength: 1, maxLength: 5 }),
        fc.option(fc.integer({ min: 0, max: 40 }), { nil: undefined }),
        fc.constantFrom(0, 1_700_000_000_000),
        async (o, calls, hooks, backends, closeAt, start) => {
          const clock = virtualClock();
          const tracked = trackTimers(hostClock(clock.scheduler, start).scheduler);
          const log: Log = { problems: [] };
          const counts: Record<Where, number> = { key: 0, scope: 0, priority: 0, execute: 0, result: 0 };
          let nextId = 0;
          /** Every request handed to process(), by id, with how it ended (undefined while unsettled). */
          const requests = new Map<number, { req: Req; scope: DedupScope; outcome?: { ok: boolean; value: unknown } }>();
          let closing: Promise<void> | undefined;
          /** The requests still unsettled when close() resolved (undefined until it does). */
          let closedWithUnsettled: number[] | undefined;
          let timersAtClose = -1;
          let maxSizeEver = o.maxSize;
          let concurrencyEver = o.concurrency;
          let running = 0;
          let executions = 0;

          const close = () => {
            if (closing) return;
            closing = batcher.close();
            // One microtask hop: a request answered synchronously inside process() (re-entrant close(), a
            // synchronous backend) has its handlers attached only after process() returns, behind close()'s.
            void closing.then(async () => {
              await Promise.resolve();
              closedWithUnsettled = [...requests.values()].filter((r) => r.outcome === undefined).map((r) => r.req.id);
              timersAtClose = tracked.pending();
            });
          };
          const accepted = (r: { outcome?: { ok: boolean; value: unknown } }) => !(r.outcome && !r.outcome.ok && r.outcome.value instanceof BatcherClosedError);
          // Whatever a hook does, it must not break the call it runs in: its own errors are judged here.
          const act = (where: Where) => {
            const n = counts[where]++;
            for (const hook of hooks) {
              if (hook.where !== where || hook.nth !== n) continue;
              if (hook.action === 'close') close();
              else if (hook.action === 'process') submit([{ key: 'hooked', scope: undefined, priority: 0 }], undefined, undefined);
              else {
                const partial = hook.action === 'configure' ? LIVE[n % LIVE.length]! : REFUSED[n % REFUSED.length]!;
                // In force from inside configure(), where a batch it makes due may already run.
                if (hook.action === 'configure' && !lean && typeof partial.maxSize === 'number') maxSizeEver = Math.max(maxSizeEver, partial.maxSize);
                if (hook.action === 'configure' && !lean && typeof partial.concurrency === 'number') concurrencyEver = Math.max(concurrencyEver, partial.concurrency);
                try {
                  batcher.configure(partial as never);
                  if (hook.action === 'configure-bad' || lean) log.problems.push(`configure(${fc.stringify(partial)}) accepted`);
                } catch (error) {
                  if (lean) {
                    // The lean core has no configure(): refused whatever it is given, naming engine(), open or closed.
                    if (!(error instanceof TypeError && /^createBatcher\.configure: .*engine: engine\(\)/.test(error.message))) {
                      log.problems.push(`configure(${fc.stringify(partial)}) on the lean core threw ${String(error)}`);
                    }
                    continue;
                  }
                  const expected = batcher.closed ? error instanceof BatcherClosedError : /^createBatcher\.configure: /.test(String((error as Error).message));
                  if (!expected || (hook.action === 'configure' && !batcher.closed)) log.problems.push(`configure(${fc.stringify(partial)}) threw ${String(error)}`);
                }
              }
            }
          };

          const execute = (items: Req[], context: { signal: AbortSignal; individual?: boolean }) => {
            act('execute');
            if (items.length > maxSizeEver) log.problems.push(`a call of ${items.length} items (maxSize ${maxSizeEver})`);
            for (let i = 0; i < items.length; i++) {
              for (let j = i + 1; j < items.length; j++) {
                if (sameKey(items[i]!.key, items[j]!.key) && sameScope(items[i]!.scope, items[j]!.scope)) log.problems.push(`one call holds two equal requests`);
              }
            }
            // An individual retry runs in its batch's slot (docs/decisions.md): only batches count.
            const counted = context.individual !== true;
            if (counted) running++;
            if (running > concurrencyEver) log.problems.push(`${running} calls at once (concurrency ${concurrencyEver})`);
            let done = !counted;
            const finish = () => {
              if (!done) (done = true), running--;
            };
            context.signal.addEventListener('abort', finish, { once: true });
            const answers = items.map((echo) => ({ echo }));
            const backend: Backend = backends[executions++ % backends.length]!;
            // An answer given now counts as the call's end; later ones end when they answer.
            switch (backend) {
              case 'sync':
                finish();
                return answers;
              case 'later':
                return timer(2, clock.scheduler).pipe(map(() => (finish(), answers)));
              case 'promise':
                finish();
                return Promise.resolve(answers);
              case 'rejects':
                finish();
                return Promise.reject(undefined);
              case 'throws':
                finish();
                throw null;
              case 'short':
                finish();
                return answers.slice(1);
              case 'proxy':
                finish();
                return new Proxy(answers, {
                  get(target, name) {
                    if (name === '0') throw new Error('an answer that cannot be read');
                    return Reflect.get(target, name) as unknown;
                  },
                });
              case 'never':
                // Only where processingTimeoutMs ends it.
                if (o.processingTimeoutMs <= 30) return NEVER;
                finish();
                return answers;
            }
          };

          // The lean core takes none of the engine's: onTimeout 'individual', a result cache, priorities.
          const batcher = make<Req, Echo>({
            scheduler: tracked.scheduler,
            windowMs: o.windowMs,
            ...(o.maxWaitMs === undefined ? {} : { maxWaitMs: o.maxWaitMs }),
            maxSize: o.maxSize,
            concurrency: o.concurrency,
            processingTimeoutMs: o.processingTimeoutMs,
            ...(o.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: o.requestTimeoutMs }),
            onTimeout: lean ? 'reject' : o.onTimeout,
            dedupInFlight: o.dedupInFlight,
            ...(o.cache && !lean ? { resultCache: resultCache({ ttlMs: 2 ** 53 }) } : {}),
            key: (r) => {
              act('key');
              return r.key;
            },
            ...(o.scopeBy === 'function'
              ? {
                  scope: (r: Req) => {
                    act('scope');
                    return r.scope;
                  },
                }
              : {}),
            ...(o.enablePriorities && !lean
              ? {
                  priorities: priorities({ agingPerSecond: Number.MAX_VALUE }),
                  priority: (r: Req) => {
                    act('priority');
                    return r.id % 5 === 0 ? Infinity : r.id % 5 === 1 ? -Infinity : r.id % 5 === 2 ? -0 : r.id;
                  },
                }
              : {}),
            execute,
          }) as Batcher<Req, Echo>;

          function submit(
            items: readonly { key: DedupKey; scope: DedupScope; priority: number }[],
            timeoutMs: number | undefined,
            signal: AbortSignal | undefined,
          ): void {
            // With scopes per call, a call's requests share the first one's scope (the executor sees the request only).
            const scope = items[0]!.scope;
            const reqs = items.map((item) => ({ id: nextId++, key: item.key, scope: o.scopeBy === 'call' ? scope : item.scope }));
            for (const req of reqs) requests.set(req.id, { req, scope: req.scope });
            const options = {
              ...(timeoutMs === undefined ? {} : { timeoutMs }),
              ...(signal === undefined ? {} : { signal }),
              ...(o.scopeBy === 'call' ? { scope } : {}),
            };
            const settle = (req: Req, ok: boolean, value: unknown) => {
              const entry = requests.get(req.id)!;
              if (entry.outcome !== undefined) log.problems.push(`request ${req.id} settled twice`);
              entry.outcome = { ok, value };
              act('result');
            };
            for (const req of reqs) {
              let promise: Promise<Echo>;
              try {
                promise = batcher.process(req, options);
              } catch (error) {
                log.problems.push(`process() threw ${String(error)}`);
                continue;
              }
              promise.then(
                (value) => settle(req, true, value),
                (error: unknown) => settle(req, false, error),
              );
            }
          }

          const times = [...new Set([...calls.map((c) => c.at), ...calls.flatMap((c) => (c.abortAt === undefined ? [] : [c.abortAt])), ...(closeAt === undefined ? [] : [closeAt])])].sort((a, b) => a - b);
          const controllers = calls.map(() => new AbortController());
          let now = 0;
          for (const t of times) {
            clock.advanceBy(t - now);
            now = t;
            calls.forEach((call, c) => {
              if (call.abortAt === t && call.abortAt >= call.at) controllers[c]!.abort(new Error(`abort ${c}`));
              if (call.at === t) submit(call.requests, call.timeoutMs, call.abortAt === undefined ? undefined : controllers[c]!.signal);
            });
            if (t === closeAt) close();
            await turn();
          }
          close();
          const finished = await runMoments(clock.scheduler, () => closedWithUnsettled !== undefined, 3000);

          expect(log.problems.join('\n')).toBe('');
          expect(finished).toBe(true);
          // (A call refused by close() rejects with BatcherClosedError a moment later: it was never accepted.)
          expect(closedWithUnsettled!.filter((id) => accepted(requests.get(id)!)).map((id) => fc.stringify(requests.get(id)!.req))).toEqual([]);
          expect(timersAtClose).toBe(0);
          const all = [...requests.values()];
          for (const { req, scope, outcome } of all) {
            if (!accepted({ outcome })) continue;
            expect(outcome, `request ${req.id} settled`).toBeDefined();
            if (outcome!.ok) {
              const { echo } = outcome!.value as Echo;
              expect(sameKey(echo.key, req.key) && sameScope(echo.scope, scope), `request ${req.id} answered with ${fc.stringify(echo)}`).toBe(true);
            }
          }
          const done = all.filter((r) => accepted(r));
          const stats = batcher.getStats();
          expect(stats.totalRequests).toBe(done.length);
          if (lean) return; // the lean core counts requests, batches, deduplicated and executed items only
          expect(stats.completed).toBe(done.length);
          expect(stats.timeouts).toBe(done.filter((r) => !r.outcome!.ok && r.outcome!.value instanceof BatchTimeoutError).length);
          expect(stats.errors).toBe(done.filter((r) => !r.outcome!.ok && !(r.outcome!.value instanceof BatchTimeoutError)).length);
          expect(stats.queueDepth).toBe(0);
          expect(stats.inFlight).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
