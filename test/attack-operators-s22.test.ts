/**
 * Stop 22 (helper op): `batchDedup`'s subscriber leaving from inside a user function the dedup step calls at batch
 * time (`scope`, `key` in hybrid, `text`, `embed`, `metric`, `mergeGuard`, `dedupFunction`), or inside the answer of
 * a near cached result (`resultCache.semantic`) given while the batch forms. Row 8 of docs/reliability.md: after
 * an unsubscription, no later batch reaches the backend, and no timer is left. Found by a re-entrancy property
 * over those functions (.scratch of stop 22); each case was red before the fix in src/internal/engine.ts: the
 * engine went on to `execute` the batch it had just been disposed of, whose call then kept its processing timer
 * and its unaborted signal for ever.
 */
import { map, range, Subject, take, tap, type OperatorFunction, type Subscription } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { adaptiveBuffer, batchDedup, bufferWindow, createBatchStats, dedupBy, fanOut, type BatchDedupOptions } from '../src/index.js';
import { batchDedup as liteBatchDedup, engine } from '../src/lite/index.js';
import { trackTimers, virtualClock } from '../src/testing/index.js';

interface Req {
  readonly query: string;
  readonly tenant: string;
}

type Where = 'scope' | 'key' | 'text' | 'embed' | 'metric' | 'mergeGuard' | 'dedupFunction';

/** Options under which `where` is called when the batch forms (after both requests were queued). */
function optionsCalling(where: Where, leave: () => void): Partial<BatchDedupOptions<Req, string>> {
  const at = <A extends unknown[], V>(name: Where, fn: (...args: A) => V) => (...args: A): V => {
    if (name === where) leave();
    return fn(...args);
  };
  const embedding = {
    dedupStrategy: where === 'key' ? ('hybrid' as const) : ('embedding' as const),
    dedupThreshold: 0.9,
    embed: at('embed', (texts: string[]) => texts.map(() => [1, 0])),
    ...(where === 'text' ? { text: at('text', (r: Req) => r.query) } : {}),
    ...(where === 'metric' ? { metric: at('metric', () => 1) } : {}),
    // The built-in guard keeps 'one' and 'two' apart before anything is embedded.
    mergeGuard: where === 'mergeGuard' ? at('mergeGuard', () => true) : false,
  };
  if (where === 'dedupFunction') return { dedupFunction: at('dedupFunction', () => 1), dedupThreshold: 0.9, scope: (r: Req) => r.tenant };
  return { ...embedding, scope: at('scope', (r: Req) => r.tenant), key: at('key', (r: Req) => r.query) };
}

const ENTRIES = [
  ['main', batchDedup],
  ['lite with engine()', ((options: object) => liteBatchDedup({ ...(options as { execute: () => [] }), engine: engine() })) as typeof batchDedup],
] as const;

describe('batchDedup: the subscriber leaves from inside a user function of the dedup step', () => {
  const cases: [string, Where, typeof batchDedup][] = [];
  for (const where of ['scope', 'key', 'text', 'embed', 'metric', 'mergeGuard', 'dedupFunction'] as const) cases.push(['main', where, batchDedup]);
  // /lite has no similarity dedup; a dedupFunction runs on its engine.
  cases.push(['lite with engine()', 'dedupFunction', ENTRIES[1][1]]);

  it.each(cases)('%s, %s: the batch is not executed, and no timer is left', (_, where, operator) => {
    const clock = virtualClock();
    const tracked = trackTimers(clock.scheduler);
    const source = new Subject<Req>();
    const calls: AbortSignal[] = [];
    let formed = false;
    let subscription: Subscription | undefined;
    const leave = () => {
      if (formed) subscription!.unsubscribe();
    };
    subscription = source
      .pipe(
        operator<Req, string>({
          scheduler: tracked.scheduler,
          windowMs: 5,
          ...optionsCalling(where, leave),
          execute: (items, { signal }) => {
            calls.push(signal);
            return new Promise<string[]>(() => undefined);
          },
        } as BatchDedupOptions<Req, string>),
      )
      .subscribe();
    source.next({ query: 'alpha one', tenant: 't' });
    source.next({ query: 'alpha two', tenant: 't' });
    formed = true;
    clock.advanceBy(5);

    expect(subscription.closed).toBe(true);
    expect(calls).toHaveLength(0);
    expect(tracked.pending()).toBe(0);
  });
});

describe('batchDedup with resultCache.semantic: the subscriber leaves inside a near cached answer', () => {
  it('the rest of that batch is not executed, and no timer is left', () => {
    const clock = virtualClock();
    const tracked = trackTimers(clock.scheduler);
    const source = new Subject<string>();
    const calls: { items: string[]; signal: AbortSignal }[] = [];
    const answered: string[] = [];
    source
      .pipe(
        batchDedup<string, string>({
          scheduler: tracked.scheduler,
          windowMs: 5,
          dedupStrategy: 'embedding',
          dedupThreshold: 0.9,
          mergeGuard: false,
          // 'a…' texts are near one another; 'c' is near nothing.
          embed: (texts) => texts.map((t) => (t.startsWith('a') ? [1, 0] : [0, 1])),
          resultCache: { ttlMs: 1000, semantic: true },
          execute: (items, { signal }) => {
            calls.push({ items, signal });
            return items[0] === 'a1' ? items.map((q) => q.toUpperCase()) : new Promise<string[]>(() => undefined);
          },
        }),
        take(2),
      )
      .subscribe((r) => answered.push(r.request));
    source.next('a1');
    clock.advanceBy(5);
    // The second batch: 'a2' is answered from a1's cached result, and the subscriber leaves in that answer.
    source.next('a2');
    source.next('c');
    clock.advanceBy(5);

    expect(answered).toEqual(['a1', 'a2']);
    expect(calls.map((c) => c.items)).toEqual([['a1']]);
    expect(tracked.pending()).toBe(0);
  });
});

interface Asked {
  readonly id: number;
  readonly q: string;
  readonly signal?: AbortSignal;
}

describe.each([
  ['main', batchDedup],
  ['lite, lean core', liteBatchDedup as typeof batchDedup],
  ENTRIES[1],
] as const)('batchDedup (%s): the source ends inside the refusal of a leader that left the queue', (_, operator) => {
  // A request equal to one waiting joins it (a follower); when that leader leaves the queue unbatched (its
  // deadline, its signal), the follower takes its place. Here the downstream ends the source inside the leader's
  // refusal: the follower is still owed its answer, and the ending must follow it (row 1, row 6).
  it.each([
    ['its requestTimeoutMs passes', 'complete', 'deadline'],
    ['its signal aborts', 'complete', 'abort'],
    ['its requestTimeoutMs passes', 'error', 'deadline'],
  ] as const)('%s: the follower is executed and answered before the %s', (_, ending, how) => {
    const clock = virtualClock();
    const tracked = trackTimers(clock.scheduler);
    const source = new Subject<Asked>();
    const leader = new AbortController();
    const answers: string[] = [];
    const executed: number[][] = [];
    let end: string | undefined;
    source
      .pipe(
        operator<Asked, string>({
          scheduler: tracked.scheduler,
          windowMs: 10,
          key: (r) => r.q,
          ...(how === 'deadline' ? { requestTimeoutMs: 5 } : { signal: (r: Asked) => r.signal }),
          execute: (items) => {
            executed.push(items.map((r) => r.id));
            return items.map((r) => `answer to ${r.id}`);
          },
        }),
      )
      .subscribe({
        next: (r) => {
          answers.push(`${r.request.id}: ${r.status === 'fulfilled' ? r.value : (r.error as Error).name}`);
          if (r.status !== 'rejected') return;
          if (ending === 'complete') source.complete();
          else source.error(new Error('source failed'));
        },
        error: () => (end = `error after ${answers.length}`),
        complete: () => (end = `complete after ${answers.length}`),
      });
    source.next({ id: 0, q: 'same', signal: leader.signal });
    clock.advanceBy(1);
    source.next({ id: 1, q: 'same' });
    if (how === 'abort') {
      const reason = new Error('left');
      reason.name = 'LeftError';
      leader.abort(reason);
    }
    clock.advanceBy(20);

    const refusal = how === 'deadline' ? 'BatchTimeoutError' : 'LeftError';
    expect(answers).toEqual([`0: ${refusal}`, '1: answer to 1']);
    expect(executed).toEqual([[1]]);
    expect(end).toBe(`${ending} after 2`);
    expect(tracked.pending()).toBe(0);
  });
});

describe('a synchronous source stops when the subscriber leaves while it is still sending', () => {
  // RxJS's own operators let go of their source as the subscriber leaves: `range(0, Infinity)` then `take(1)`
  // ends. The operators here held their source until it had sent everything (for ever, for an infinite one), and
  // counted every value in the stats. `range` checks its subscriber after each value: it sends one only.
  const clock = virtualClock();
  const cases: [string, (stats: ReturnType<typeof createBatchStats>) => OperatorFunction<number, unknown>][] = [
    ['bufferWindow', (stats) => bufferWindow<number>({ maxSize: 1, scheduler: clock.scheduler, stats })],
    ['adaptiveBuffer', (stats) => adaptiveBuffer<number>({ maxSize: 1, scheduler: clock.scheduler, stats })],
    ['dedupBy', (stats) => (source) => source.pipe(map((x) => [x]), dedupBy<number>({ stats }))],
    [
      'fanOut',
      (stats) => (source) =>
        source.pipe(
          map((x) => ({ items: [x], unique: [x], leaderOf: [0] })),
          fanOut<number, number>({ execute: (items) => items, scheduler: clock.scheduler, stats }),
        ),
    ],
    ['batchDedup', (stats) => batchDedup<number, number>({ execute: (items) => items, maxSize: 1, scheduler: clock.scheduler, stats })],
    // The lean core of /lite takes no stats recorder.
    ['/lite batchDedup (the lean core)', () => liteBatchDedup<number, number>({ execute: (items) => items, maxSize: 1, scheduler: clock.scheduler })],
  ];

  it.each(cases)('%s: a take(1) behind it ends range() after its first value', (_, operator) => {
    const stats = createBatchStats({ scheduler: clock.scheduler });
    let sent = 0;
    const out: unknown[] = [];
    range(0, 10_000)
      .pipe(
        tap(() => sent++),
        operator(stats),
        take(1),
      )
      .subscribe((x) => out.push(x));

    expect(out).toHaveLength(1);
    expect(sent).toBe(1);
    expect(stats.snapshot().totalRequests).toBeLessThanOrEqual(1);
  });
});

describe('batchDedup with embedAhead: the subscriber leaves from inside a user function embed-ahead calls at arrival', () => {
  // Embed-ahead reads each request's text and group (`text`, `scope`) as it is queued; the engine then went on to
  // queue it in the collector it had just disposed of, which armed its requestTimeoutMs timer and listened to its
  // signal after the end.
  it.each(['text', 'scope'] as const)('%s: no timer and no abort listener is left', (where) => {
    const clock = virtualClock();
    const tracked = trackTimers(clock.scheduler);
    const source = new Subject<Asked>();
    const controller = new AbortController();
    const signal = controller.signal;
    let listening = 0;
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((...args: Parameters<AbortSignal['addEventListener']>) => {
      listening++;
      add(...args);
    }) as AbortSignal['addEventListener'];
    signal.removeEventListener = ((...args: Parameters<AbortSignal['removeEventListener']>) => {
      listening--;
      remove(...args);
    }) as AbortSignal['removeEventListener'];
    let subscription: Subscription | undefined;
    const leave = (name: string) => {
      if (name === where) subscription?.unsubscribe();
    };
    const calls: number[][] = [];
    subscription = source
      .pipe(
        batchDedup<Asked, string>({
          scheduler: tracked.scheduler,
          windowMs: 10,
          requestTimeoutMs: 50,
          signal: (r) => r.signal,
          dedupStrategy: 'embedding',
          embedAhead: true,
          embed: (texts) => texts.map(() => [1, 0]),
          text: (r) => {
            leave('text');
            return r.q;
          },
          scope: (r) => {
            leave('scope');
            return r.id === 0 ? undefined : 'other';
          },
          execute: (items) => {
            calls.push(items.map((r) => r.id));
            return items.map((r) => r.q);
          },
        }),
      )
      .subscribe();
    source.next({ id: 0, q: 'alpha', signal });

    expect(subscription.closed).toBe(true);
    expect(tracked.pending()).toBe(0);
    expect(listening).toBe(0);
    clock.advanceBy(100);
    expect(calls).toEqual([]);
  });
});

describe('similarity dedup: the subscriber leaves from inside text, scope or key while a batch is deduplicated', () => {
  // Row 8: after an unsubscription nothing reaches the embedder. The dedup step read every request's text and
  // group, then called `embed` for the batch of a subscriber that had left inside one of those reads.
  const cases: ['batchDedup' | 'dedupBy', 'text' | 'scope' | 'key'][] = [];
  for (const operator of ['batchDedup', 'dedupBy'] as const) for (const where of ['text', 'scope', 'key'] as const) cases.push([operator, where]);

  it.each(cases)('%s, %s: embed is not called', (operator, where) => {
    const clock = virtualClock();
    const tracked = trackTimers(clock.scheduler);
    const embedded: string[][] = [];
    let formed = false;
    let subscription: Subscription | undefined;
    const leave = (name: string) => {
      if (formed && name === where) subscription?.unsubscribe();
    };
    const dedup = {
      scheduler: tracked.scheduler,
      // 'hybrid' reads `key` when the batch forms; both read `text` and `scope` then.
      dedupStrategy: where === 'key' ? ('hybrid' as const) : ('embedding' as const),
      mergeGuard: false,
      embed: (texts: string[]) => {
        embedded.push(texts);
        return texts.map(() => [1, 0]);
      },
      text: (r: string) => {
        leave('text');
        return r;
      },
      scope: (r: string) => {
        leave('scope');
        return r.length > 0 ? 'tenant' : undefined;
      },
      key: (r: string) => {
        leave('key');
        return r;
      },
    };
    const source = new Subject<string>();
    const execute = (items: string[]) => items;
    const requests = source.asObservable();
    subscription = (
      operator === 'batchDedup'
        ? requests.pipe(batchDedup<string, string>({ ...dedup, windowMs: 5, execute }))
        : requests.pipe(bufferWindow<string>({ scheduler: tracked.scheduler, windowMs: 5 }), dedupBy<string>(dedup), fanOut<string, string>({ scheduler: tracked.scheduler, execute }))
    ).subscribe();
    source.next('alpha one');
    source.next('alpha two');
    formed = true;
    clock.advanceBy(5);

    expect(subscription.closed).toBe(true);
    expect(embedded).toEqual([]);
    expect(tracked.pending()).toBe(0);
  });
});
