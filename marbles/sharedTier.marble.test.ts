/**
 * The timing rules of `resultCache.store` (src/internal/sharedTier.ts), on virtual time: a store that answers in
 * time answers the items it holds; one that fails or is slower than `storeTimeoutMs` sends them to `execute`
 * here; with leases, an item another process holds is waited for (at most `leaseMs + storeTimeoutMs`), and one
 * whose lease ended with no result is claimed again, at most `MAX_LEASE_ROUNDS` times before it runs here.
 *
 * The fake store answers with thenables that call back on the test scheduler, so its delays are frames.
 */
import { map } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatchStats, sharedStore, type ResultLeases, type ResultStore } from '../src/index.js';
import { MAX_LEASE_ROUNDS } from '../src/internal/sharedTier.js';
import { simulatedBackend, trackTimers, type TestScheduler } from '../src/testing/index.js';
import { testScheduler } from './helpers.js';

/** A store call's answer: `value` after `ms` frames, a failure, or nothing ever. */
type Reply<V> = { after: number; value: V } | { after: number; fail: unknown } | 'never';

function thenable<V>(scheduler: TestScheduler, reply: Reply<V>): PromiseLike<V> {
  return {
    then(ok, fail) {
      if (reply === 'never') return undefined as never;
      scheduler.schedule(() => ('value' in reply ? ok?.(reply.value) : fail?.(reply.fail)), reply.after);
      return undefined as never;
    },
  } as PromiseLike<V>;
}

interface Script {
  get?: (keys: readonly string[]) => Reply<unknown[]>;
  claim?: (keys: readonly string[], round: number) => Reply<boolean[]>;
  wait?: (keys: readonly string[], round: number) => Reply<unknown[]>;
  leaseMs?: number;
}

/** A scripted store that logs its calls with their frame. */
function scriptedStore(scheduler: TestScheduler, script: Script, log: string[]): ResultStore {
  let claims = 0;
  let waits = 0;
  const leases: ResultLeases | undefined =
    script.claim === undefined
      ? undefined
      : {
          leaseMs: script.leaseMs ?? 20,
          claim: (keys) => {
            log.push(`${scheduler.now()} claim ${keys.join(',')}`);
            return thenable(scheduler, script.claim!(keys, ++claims));
          },
          release: (keys) => {
            log.push(`${scheduler.now()} release ${keys.join(',')}`);
            return thenable(scheduler, { after: 0, value: undefined });
          },
          wait: (keys, timeoutMs) => {
            log.push(`${scheduler.now()} wait ${keys.join(',')} ${timeoutMs}`);
            return thenable(scheduler, script.wait!(keys, ++waits));
          },
        };
  return {
    get: (keys) => {
      log.push(`${scheduler.now()} get ${keys.join(',')}`);
      return thenable(scheduler, script.get?.(keys) ?? { after: 0, value: keys.map(() => undefined) });
    },
    set: (entries, ttlMs) => {
      log.push(`${scheduler.now()} set ${entries.map(([k, v]) => `${k}=${String(v)}`).join(',')} ttl ${ttlMs}`);
      return thenable(scheduler, { after: 0, value: undefined });
    },
    ...(leases && { leases }),
  };
}

/**
 * One request `'a'` at frame 0 through `batchDedup` (window 1 frame) with the scripted store; the backend takes 5
 * frames. Returns the answer and its frame, the store's log, the backend's calls and the stats.
 */
function run(script: Script, options: { storeTimeoutMs?: number; fails?: boolean } = {}) {
  const scheduler = testScheduler();
  const log: string[] = [];
  const answers: string[] = [];
  const stats = createBatchStats({ scheduler, costPerRequestUsd: 0.5 });
  let backendCalls = 0;
  scheduler.run(({ cold }) => {
    const backend = simulatedBackend({
      scheduler,
      durationMs: () => 5,
      compute: (key: string) => `${key} executed`,
      failWith: options.fails ? () => new Error('backend down') : undefined,
    });
    cold('a|')
      .pipe(
        batchDedup<string, string>({
          execute: (items, context) => {
            backendCalls++;
            log.push(`${scheduler.now()} execute ${items.join(',')}`);
            return backend.execute(items, context);
          },
          windowMs: 1,
          stats,
          scheduler,
          resultCache: {
            ttlMs: 1000,
            store: sharedStore(scriptedStore(scheduler, script, log)),
            ...(options.storeTimeoutMs !== undefined && { storeTimeoutMs: options.storeTimeoutMs }),
          },
        }),
        map((r) => `${scheduler.now()}: ${r.status === 'fulfilled' ? r.value : `error ${(r.error as Error).message}`}`),
      )
      .subscribe((line) => answers.push(line));
  });
  return { answers, log, backendCalls, stats: stats.snapshot() };
}

describe('resultCache.store: a store without leases', () => {
  it('an item the store holds is answered when the store answers, and not executed', () => {
    const { answers, log, backendCalls, stats } = run({ get: (keys) => ({ after: 3, value: keys.map(() => 'a stored') }) });
    expect(answers).toEqual(['4: a stored']);
    expect(backendCalls).toBe(0);
    expect(log).toEqual(['1 get -sa']);
    expect(stats).toMatchObject({ storeHits: 1, storeFallbacks: 0, costSavedUsd: 0.5 });
  });

  it('a miss is executed, then its result stored with the TTL', () => {
    const { answers, log, stats } = run({ get: (keys) => ({ after: 2, value: keys.map(() => undefined) }) });
    expect(answers).toEqual(['8: a executed']);
    expect(log).toEqual(['1 get -sa', '3 execute a', '8 set -sa=a executed ttl 1000']);
    expect(stats).toMatchObject({ storeHits: 0, storeFallbacks: 0, costSavedUsd: 0 });
  });

  it('a store that does not answer within storeTimeoutMs: executed here from then, counted as a fallback', () => {
    const { answers, log, stats } = run({ get: () => 'never' }, { storeTimeoutMs: 10 });
    expect(answers).toEqual(['16: a executed']);
    expect(log.slice(0, 2)).toEqual(['1 get -sa', '11 execute a']);
    expect(stats).toMatchObject({ storeFallbacks: 1 });
  });

  it('the default bound is 100 ms', () => {
    const { answers } = run({ get: () => 'never' });
    expect(answers).toEqual(['106: a executed']);
  });

  it('a store that fails: executed at once, counted as a fallback', () => {
    const { answers, stats } = run({ get: () => ({ after: 2, fail: new Error('ECONNREFUSED') }) });
    expect(answers).toEqual(['8: a executed']);
    expect(stats).toMatchObject({ storeFallbacks: 1 });
  });

  it('a store answering the wrong number of entries counts as a failure', () => {
    const { answers, stats } = run({ get: () => ({ after: 1, value: ['x', 'y'] }) });
    expect(answers).toEqual(['7: a executed']);
    expect(stats).toMatchObject({ storeHits: 0, storeFallbacks: 1 });
  });

  it('an error is never stored', () => {
    const { answers, log } = run({}, { fails: true });
    expect(answers).toEqual(['6: error backend down']);
    expect(log.filter((line) => line.includes('set'))).toEqual([]);
  });
});

describe('resultCache.store: leases across processes', () => {
  it('a claimed miss is executed, stored, then released', () => {
    const { answers, log } = run({ claim: (keys) => ({ after: 1, value: keys.map(() => true) }), wait: () => 'never' });
    expect(answers).toEqual(['7: a executed']);
    expect(log).toEqual(['1 get -sa', '1 claim -sa', '2 execute a', '7 set -sa=a executed ttl 1000', '7 release -sa']);
  });

  it('a miss another process holds is waited for and answered from its result, not executed', () => {
    const { answers, log, backendCalls, stats } = run({
      claim: (keys) => ({ after: 1, value: keys.map(() => false) }),
      wait: (keys) => ({ after: 7, value: keys.map(() => 'a by another replica') }),
    });
    expect(answers).toEqual(['9: a by another replica']);
    expect(backendCalls).toBe(0);
    expect(log).toEqual(['1 get -sa', '1 claim -sa', '2 wait -sa 20']);
    expect(stats).toMatchObject({ storeJoins: 1, storeFallbacks: 0, costSavedUsd: 0.5 });
  });

  it("a lease that ended with no result is claimed again, and the claimer executes it", () => {
    const { answers, log } = run({
      claim: (keys, round) => ({ after: 1, value: keys.map(() => round === 2) }),
      wait: (keys) => ({ after: 20, value: keys.map(() => undefined) }),
    });
    expect(answers).toEqual(['28: a executed']);
    expect(log).toEqual(['1 get -sa', '1 claim -sa', '2 wait -sa 20', '22 claim -sa', '23 execute a', '28 set -sa=a executed ttl 1000', '28 release -sa']);
  });

  it(`after ${MAX_LEASE_ROUNDS} rounds of leases ending with no result, it is executed here`, () => {
    const { answers, log, stats } = run({
      claim: (keys) => ({ after: 1, value: keys.map(() => false) }),
      wait: (keys) => ({ after: 2, value: keys.map(() => undefined) }),
    });
    expect(log.filter((line) => line.includes('claim'))).toHaveLength(MAX_LEASE_ROUNDS);
    expect(log.at(-2)).toBe('10 execute a');
    expect(answers).toEqual(['15: a executed']);
    expect(stats).toMatchObject({ storeFallbacks: 1 });
  });

  it('a wait that never ends is cut at leaseMs + storeTimeoutMs, then executed here', () => {
    const { answers, stats } = run(
      { claim: (keys) => ({ after: 1, value: keys.map(() => false) }), wait: () => 'never', leaseMs: 30 },
      { storeTimeoutMs: 10 },
    );
    // claimed at 1-2, waits from 2 until 2 + 30 + 10 = 42, executes 42-47
    expect(answers).toEqual(['47: a executed']);
    expect(stats).toMatchObject({ storeFallbacks: 1 });
  });

  it('a claimer whose execution fails releases the lease without storing, so a waiter elsewhere takes over', () => {
    const { answers, log } = run({ claim: (keys) => ({ after: 1, value: keys.map(() => true) }), wait: () => 'never' }, { fails: true });
    expect(answers).toEqual(['7: error backend down']);
    expect(log.slice(-1)).toEqual(['7 release -sa']);
    expect(log.some((line) => line.includes('set'))).toBe(false);
  });
});

describe('resultCache.store: a store that answers at once', () => {
  it('a thenable that calls back synchronously is followed at once: hit answered in the frame the batch forms', () => {
    const scheduler = testScheduler();
    const answers: string[] = [];
    const now = <V>(value: V): PromiseLike<V> => ({ then: (ok) => (ok?.(value), undefined as never) }) as PromiseLike<V>;
    const store = sharedStore({ get: (keys) => now(keys.map(() => 'stored')), set: () => now(undefined) });
    scheduler.run(({ cold }) => {
      cold('a|')
        .pipe(
          batchDedup<string, string>({ execute: () => { throw new Error('not executed'); }, windowMs: 1, scheduler, resultCache: { ttlMs: 10, store } }),
          map((r) => `${scheduler.now()}: ${r.status === 'fulfilled' ? r.value : String(r.error)}`),
        )
        .subscribe((line) => answers.push(line));
    });
    expect(answers).toEqual(['1: stored']);
  });
});

describe('resultCache.store: a write under way when the stream ends', () => {
  /**
   * One request through `batchDedup` whose store never finishes `set`; returns the frames at which the stream
   * completed and at which the library's last timer went, and whether `set` was called.
   */
  function writeOutlivingTheStream(storeTimeoutMs: number) {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const liveAt: [number, number][] = [];
    let completedAt = -1;
    let sets = 0;
    const store = sharedStore({
      get: (keys) => thenable(scheduler, { after: 0, value: keys.map(() => undefined) }),
      set: () => (sets++, thenable<void>(scheduler, 'never')),
    });
    scheduler.run(({ cold }) => {
      cold('a|')
        .pipe(batchDedup<string, string>({ execute: (items) => items.map((q) => `${q}!`), windowMs: 1, scheduler: tracked.scheduler, resultCache: { ttlMs: 100, store, storeTimeoutMs } }))
        .subscribe({ complete: () => (completedAt = scheduler.now()) });
      // Sample the live timers at every frame up to well past the bound.
      for (let frame = 0; frame <= storeTimeoutMs + 10; frame++) scheduler.schedule(() => liveAt.push([frame, tracked.pending()]), frame);
    });
    const lastLive = Math.max(...liveAt.filter(([, live]) => live > 0).map(([frame]) => frame));
    return { completedAt, lastLive, sets };
  }

  it('is let finish after the stream completes, bounded by storeTimeoutMs: its timer is gone at that bound', () => {
    const { completedAt, lastLive, sets } = writeOutlivingTheStream(20);
    expect(sets).toBe(1);
    expect(completedAt).toBe(1);
    // The write starts when the batch's results are in (frame 1) and is cut 20 frames later: its timer fires in
    // frame 21 (sampled there before it fires), and nothing is left from frame 22 on.
    expect(lastLive).toBeGreaterThan(completedAt);
    expect(lastLive).toBe(1 + 20);
  });
});
