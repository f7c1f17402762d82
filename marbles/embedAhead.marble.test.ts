/**
 * Embed-ahead (issue 14, item 2): with an asynchronous embedder, `batchDedup` and `createBatcher` ask for a
 * request's vector while its window is open, so its batch leaves at the window's end without a further embed call
 * when the vectors are ready. These marbles pin down when the calls are made, when a batch leaves, and how long it
 * waits for what is still in flight. A batch whose vectors are all ready is deduplicated in the frame it forms (no
 * promise), so its results are marbles; one that must wait hands its batch on through a promise, which settles
 * after the flush, so the moment it is decided is stamped (the fallback counter, a metric that notes the time).
 */
import { map, type SchedulerLike } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createLexicalEmbedder } from '../src/dedup/lexicalEmbedder.js';
import type { Embedder } from '../src/dedup/options.js';
import { createBatcher } from '../src/batcher/withSimilarity.js';
import { batchDedup } from '../src/operators/withSimilarity.js';
import { trackTimers } from '../src/testing/index.js';
import type { BatchResult } from '../src/types.js';
import { StampedStats, testScheduler } from './helpers.js';

const reset = 'How do I reset my password?';
const resetLower = 'how do i reset my password';
const weather = 'What is the weather in Oslo?';
const weatherLower = 'what is the weather in oslo';

const lexical = createLexicalEmbedder();
const upperAll = (texts: string[]) => texts.map((t) => t.toUpperCase());

/**
 * A thenable settled by a virtual timer `delay` frames from now: its callbacks run in the frame it settles (a
 * native promise would run them after the whole flush), so what it decides is decided in virtual time.
 */
function settleAfter(scheduler: SchedulerLike, delay: number, outcome: () => { ok: boolean; value: unknown }): PromiseLike<ArrayLike<number>[]> {
  const waiting: [(v: ArrayLike<number>[]) => void, (e: unknown) => void][] = [];
  let settled: { ok: boolean; value: unknown } | undefined;
  const run = (ok: (v: ArrayLike<number>[]) => void, fail: (e: unknown) => void) =>
    settled!.ok ? ok(settled!.value as ArrayLike<number>[]) : fail(settled!.value);
  scheduler.schedule(() => {
    settled = outcome();
    for (const [ok, fail] of waiting.splice(0)) run(ok, fail);
  }, delay);
  return {
    then(onFulfilled, onRejected) {
      const ok = (onFulfilled ?? (() => undefined)) as (v: ArrayLike<number>[]) => void;
      const fail = (onRejected ?? (() => undefined)) as (e: unknown) => void;
      if (settled) run(ok, fail);
      else waiting.push([ok, fail]);
      return undefined as never;
    },
  };
}

/** An embedder answering the lexical vectors `delay` frames after each call, noting each call's frame and texts. */
function slowLexical(scheduler: SchedulerLike, delay: number) {
  const calls: [at: number, texts: string[]][] = [];
  const embed: Embedder = (texts) => {
    calls.push([scheduler.now(), [...texts]]);
    return settleAfter(scheduler, delay, () => ({ ok: true, value: lexical(texts) }));
  };
  return { embed, calls };
}

/** `request -> value (deduplicated)`, short enough for marble values. */
const show = (r: BatchResult<string, string>) => `${r.request} -> ${r.status === 'fulfilled' ? r.value : 'error'}${r.deduplicated ? ' (dedup)' : ''}`;

/** Lets a deduper's promise hand its batch on after a flush. */
const microtasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('embed-ahead: the calls are made while the window is open', () => {
  it('a request is embedded once a second request of its group is queued, both in one call, in that frame', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    scheduler.run(({ hot }) => {
      hot('-a-b-c', { a: reset, b: resetLower, c: weather })
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, scheduler }))
        .subscribe();
    });
    // a alone: nothing; b: a and b in one call; c (same group: every string request is comparable): c alone.
    expect(calls).toEqual([
      [3, [reset, resetLower]],
      [5, [weather]],
    ]);
  });

  it('texts queued in one tick go in one call, each distinct text once', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    scheduler.run(({ cold }) => {
      cold('(abcd)', { a: reset, b: resetLower, c: resetLower, d: weather })
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, scheduler }))
        .subscribe();
    });
    expect(calls).toEqual([[0, [reset, resetLower, weather]]]);
  });

  it('a request alone in its group (its own scope) is never embedded', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    type Ask = { query: string; user: string };
    scheduler.run(({ hot }) => {
      hot<Ask>('-a-b-c', { a: { query: reset, user: 'ann' }, b: { query: resetLower, user: 'bob' }, c: { query: weather, user: 'ann' } })
        .pipe(
          batchDedup<Ask, string>({
            execute: (asks) => asks.map((a) => a.query),
            dedupStrategy: 'embedding',
            embed,
            embedAhead: true,
            scope: (a) => a.user,
            windowMs: 10,
            scheduler,
          }),
        )
        .subscribe();
    });
    // ann's two requests are compared (one call when the second arrives); bob's is alone and never embedded.
    expect(calls).toEqual([[5, [reset, weather]]]);
  });
});

describe('embed-ahead: when the batch leaves', () => {
  it('vectors ready before the window ends: the batch leaves at the window end, merged, in that frame', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    scheduler.run(({ hot, expectObservable }) => {
      const results = hot('-a-b', { a: reset, b: resetLower }).pipe(
        batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, scheduler }),
        map(show),
      );
      // Window 1..11; the call made at 3 answered at 6; no call at 11.
      expectObservable(results).toBe('-----------(xy)', {
        x: `${reset} -> ${reset.toUpperCase()}`,
        y: `${resetLower} -> ${reset.toUpperCase()} (dedup)`,
      });
    });
    expect(calls).toEqual([[3, [reset, resetLower]]]);
  });

  it('the same through createBatcher: settled at the window end, one call, made at arrival', async () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    const executedAt: number[] = [];
    const answers: Promise<string>[] = [];
    scheduler.run(() => {
      const batcher = createBatcher<string, string>({
        execute: (texts) => {
          executedAt.push(scheduler.now());
          return upperAll(texts);
        },
        dedupStrategy: 'embedding',
        embed,
        embedAhead: true,
        windowMs: 10,
        scheduler,
      });
      scheduler.schedule(() => answers.push(batcher.process(reset)), 1);
      scheduler.schedule(() => answers.push(batcher.process(resetLower)), 3);
    });
    expect(calls).toEqual([[3, [reset, resetLower]]]);
    expect(executedAt).toEqual([11]);
    await expect(Promise.all(answers)).resolves.toEqual([reset.toUpperCase(), reset.toUpperCase()]);
  });

  it('embedAhead: false: the call is made when the batch forms, and the batch waits for it', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    const executedAt: number[] = [];
    scheduler.run(({ hot }) => {
      hot('-a-b', { a: reset, b: resetLower })
        .pipe(
          batchDedup({
            execute: (texts: string[]) => {
              executedAt.push(scheduler.now());
              return upperAll(texts);
            },
            dedupStrategy: 'embedding',
            embed,
            embedAhead: false,
            windowMs: 10,
            scheduler,
          }),
        )
        .subscribe();
    });
    expect(calls).toEqual([[11, [reset, resetLower]]]);
    // It could not execute at 11: its vectors came at 14 (and the promise hands the batch on after the flush).
    expect(executedAt).not.toContain(11);
  });

  it('a call still in flight when the window ends: the batch waits for it alone, and is decided when it answers', async () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 14);
    const decidedAt: number[] = [];
    // Lexical vectors are L2-normalised: their dot product is their cosine.
    const metric = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      decidedAt.push(scheduler.now());
      let dot = 0;
      for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
      return dot;
    };
    const out: string[] = [];
    scheduler.run(({ hot }) => {
      hot('-a-b', { a: reset, b: resetLower })
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, embedTimeoutMs: 20, metric, windowMs: 10, scheduler }), map(show))
        .subscribe((r) => out.push(r));
    });
    // Called at 3, answered at 17: after the window's end (11), before the bound (23); no second call.
    expect(calls).toEqual([[3, [reset, resetLower]]]);
    expect(decidedAt).toEqual([17]);
    await microtasks();
    expect(out).toEqual([`${reset} -> ${reset.toUpperCase()}`, `${resetLower} -> ${reset.toUpperCase()} (dedup)`]);
  });

  it('a call that never answers: the batch falls back embedTimeoutMs after the call, not after the window end', async () => {
    const scheduler = testScheduler();
    const stats = new StampedStats(scheduler);
    const calledAt: number[] = [];
    const embed: Embedder = () => {
      calledAt.push(scheduler.now());
      return new Promise(() => {});
    };
    const out: string[] = [];
    scheduler.run(({ hot }) => {
      hot('-a-b', { a: reset, b: resetLower })
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, embedTimeoutMs: 20, windowMs: 10, stats, scheduler }), map(show))
        .subscribe((r) => out.push(r));
    });
    expect(calledAt).toEqual([3]);
    expect(stats.fallbacksAt).toEqual([23]);
    await microtasks();
    expect(out).toEqual([`${reset} -> ${reset.toUpperCase()}`, `${resetLower} -> ${resetLower.toUpperCase()}`]);
  });
});

describe('embed-ahead: a failing embedder, exact dedup for that batch', () => {
  const failures: [name: string, outcome: () => { ok: boolean; value: unknown }][] = [
    ['rejects', () => ({ ok: false, value: new Error('503') })],
    ['answers NaN', () => ({ ok: true, value: [[NaN, 0], [0, 1]] })],
    ['answers one vector for two texts', () => ({ ok: true, value: [[1, 0]] })],
  ];
  for (const [name, outcome] of failures) {
    it(`a call that ${name} before the window ends: the batch leaves at the window end with exact dedup, with no second call`, () => {
      const scheduler = testScheduler();
      const stats = new StampedStats(scheduler);
      const calledAt: number[] = [];
      const embed: Embedder = () => {
        calledAt.push(scheduler.now());
        return settleAfter(scheduler, 2, outcome);
      };
      scheduler.run(({ hot, expectObservable }) => {
        const results = hot('-a-b', { a: reset, b: resetLower }).pipe(
          batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, stats, scheduler }),
          map(show),
        );
        expectObservable(results).toBe('-----------(xy)', {
          x: `${reset} -> ${reset.toUpperCase()}`,
          y: `${resetLower} -> ${resetLower.toUpperCase()}`,
        });
      });
      expect(calledAt).toEqual([3]);
      expect(stats.fallbacksAt).toEqual([11]);
    });
  }

  it('a call whose bound passed before the window ends: the batch leaves at the window end with exact dedup', () => {
    const scheduler = testScheduler();
    const stats = new StampedStats(scheduler);
    let calls = 0;
    const embed: Embedder = () => {
      calls++;
      return new Promise(() => {});
    };
    scheduler.run(({ hot, expectObservable }) => {
      const results = hot('-a-b', { a: reset, b: resetLower }).pipe(
        batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, embedTimeoutMs: 4, windowMs: 10, stats, scheduler }),
        map(show),
      );
      expectObservable(results).toBe('-----------(xy)', {
        x: `${reset} -> ${reset.toUpperCase()}`,
        y: `${resetLower} -> ${resetLower.toUpperCase()}`,
      });
    });
    expect(calls).toBe(1);
    // Counted once, for the batch, when it formed (the call timed out at 7, when no batch was waiting for it).
    expect(stats.fallbacksAt).toEqual([11]);
  });
});

describe('embed-ahead: requests that leave before their batch', () => {
  it('an aborted request whose text was not sent yet costs no call', async () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    const answers: Promise<string>[] = [];
    scheduler.run(() => {
      const batcher = createBatcher<string, string>({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, scheduler });
      const controller = new AbortController();
      scheduler.schedule(() => {
        answers.push(batcher.process(reset), batcher.process(resetLower), batcher.process(weather, { signal: controller.signal }));
      }, 1);
      // Later in the same frame, before the frame's embed call goes out.
      scheduler.schedule(() => controller.abort(new Error('client gone')), 1);
    });
    expect(calls).toEqual([[1, [reset, resetLower]]]);
    const settled = await Promise.allSettled(answers);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });

  it('when the only partner leaves, the request left alone costs no call either', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    scheduler.run(() => {
      const batcher = createBatcher<string, string>({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, scheduler });
      const controller = new AbortController();
      scheduler.schedule(() => {
        void batcher.process(reset);
        batcher.process(weather, { signal: controller.signal }).catch(() => undefined);
      }, 1);
      scheduler.schedule(() => controller.abort(new Error('client gone')), 1);
    });
    expect(calls).toEqual([]);
  });

  it('a request aborted after its text was sent: the call goes on (an embedder takes no signal), its vector is cached', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    scheduler.run(() => {
      const batcher = createBatcher<string, string>({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, scheduler });
      const controller = new AbortController();
      scheduler.schedule(() => {
        void batcher.process(reset);
        batcher.process(weather, { signal: controller.signal }).catch(() => undefined);
      }, 1);
      scheduler.schedule(() => controller.abort(new Error('client gone')), 2);
      // Both texts again, in a later window: served from the cache.
      scheduler.schedule(() => void batcher.processAll([weather, reset]), 30);
    });
    expect(calls).toEqual([[1, [reset, weather]]]);
  });
});

describe('embed-ahead: teardown', () => {
  it('unsubscribing while a call is in flight ends its bound and the window timer in that frame', () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const stats = new StampedStats(scheduler);
    const pending: number[] = [];
    scheduler.run(({ hot, expectSubscriptions }) => {
      const source = hot('-ab---', { a: reset, b: resetLower });
      const sub = '       ^----!';
      const subscription = source
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed: () => new Promise(() => {}), embedAhead: true, embedTimeoutMs: 20, windowMs: 10, stats, scheduler: tracked.scheduler }))
        .subscribe();
      scheduler.schedule(() => pending.push(tracked.pending()), 4);
      scheduler.schedule(() => subscription.unsubscribe(), 5);
      scheduler.schedule(() => pending.push(tracked.pending()), 5);
      expectSubscriptions(source.subscriptions).toBe(sub);
    });
    // Before: the window timer and the call's bound; after: none, and no fallback counted later.
    expect(pending).toEqual([2, 0]);
    expect(stats.fallbacksAt).toEqual([]);
  });

  it("unsubscribing in the frame of the arrivals, before the frame's call: no call is made", () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const { embed, calls } = slowLexical(scheduler, 3);
    const pending: number[] = [];
    scheduler.run(({ hot }) => {
      const subscription = hot('-(ab)', { a: reset, b: resetLower })
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, windowMs: 10, scheduler: tracked.scheduler }))
        .subscribe();
      scheduler.schedule(() => subscription.unsubscribe(), 1);
      scheduler.schedule(() => pending.push(tracked.pending()), 1);
    });
    expect(calls).toEqual([]);
    expect(pending).toEqual([0]);
  });

  it('close() with a call in flight: the batch waits for it, every request is answered, and no timer is left', async () => {
    const scheduler = testScheduler();
    const tracked = trackTimers(scheduler);
    const { embed, calls } = slowLexical(scheduler, 6);
    const answers: Promise<string[]>[] = [];
    let closed: Promise<void> | undefined;
    scheduler.run(() => {
      const batcher = createBatcher<string, string>({
        execute: upperAll,
        dedupStrategy: 'embedding',
        embed,
        embedAhead: true,
        windowMs: 10,
        scheduler: tracked.scheduler,
      });
      scheduler.schedule(() => answers.push(batcher.processAll([reset, resetLower, weather, weatherLower])), 1);
      scheduler.schedule(() => (closed = batcher.close()), 2);
    });
    expect(calls).toEqual([[1, [reset, resetLower, weather, weatherLower]]]);
    await microtasks();
    await expect(Promise.all(answers)).resolves.toEqual([[reset, reset, weather, weather].map((t) => t.toUpperCase())]);
    await expect(closed).resolves.toBeUndefined();
    // Anything armed after the flush (by the promise that handed the batch on) would still be pending here.
    expect(tracked.pending()).toBe(0);
  });
});

describe('embed-ahead: which embedders', () => {
  it('by default, a synchronous embedder keeps embedding when the batch forms, one call per batch', () => {
    const scheduler = testScheduler();
    const calledAt: number[] = [];
    const embed: Embedder = (texts) => {
      calledAt.push(scheduler.now());
      return lexical(texts);
    };
    scheduler.run(({ hot }) => {
      hot('-ab-------------cd', { a: reset, b: resetLower, c: weather, d: weatherLower })
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, windowMs: 10, scheduler }))
        .subscribe();
    });
    expect(calledAt).toEqual([11, 26]);
  });

  it('by default, an asynchronous embedder: the first batch embeds when it forms, later ones while their window is open', () => {
    const scheduler = testScheduler();
    const { embed, calls } = slowLexical(scheduler, 3);
    scheduler.run(({ hot }) => {
      hot('-ab---------------------cd', { a: reset, b: resetLower, c: weather, d: weatherLower })
        .pipe(batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, windowMs: 10, scheduler }))
        .subscribe();
    });
    expect(calls).toEqual([
      [11, [reset, resetLower]],
      [25, [weather, weatherLower]],
    ]);
  });
});

describe('embed-ahead: a failure already known decides at once', () => {
  it('a batch whose own call throws does not wait for a call still in flight: exact dedup in the frame it forms', () => {
    const scheduler = testScheduler();
    const stats = new StampedStats(scheduler);
    const calls: [at: number, texts: string[]][] = [];
    // The call made ahead (frame 3) answers at 30; the batch's own call (frame 11, for the text queued in the
    // window's last frame) throws.
    const embed: Embedder = (texts) => {
      calls.push([scheduler.now(), [...texts]]);
      if (calls.length > 1) throw new Error('embedding service down');
      return settleAfter(scheduler, 27, () => ({ ok: true, value: lexical(texts) }));
    };
    scheduler.run(({ hot, expectObservable }) => {
      const results = hot('-a-b-------c', { a: reset, b: resetLower, c: weather }).pipe(
        batchDedup({ execute: upperAll, dedupStrategy: 'embedding', embed, embedAhead: true, embedTimeoutMs: 100, windowMs: 10, stats, scheduler }),
        map(show),
      );
      expectObservable(results).toBe('-----------(xyz)', {
        x: `${reset} -> ${reset.toUpperCase()}`,
        y: `${resetLower} -> ${resetLower.toUpperCase()}`,
        z: `${weather} -> ${weather.toUpperCase()}`,
      });
    });
    expect(calls).toEqual([
      [3, [reset, resetLower]],
      [11, [weather]],
    ]);
    expect(stats.fallbacksAt).toEqual([11]);
  });
});
