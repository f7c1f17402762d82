/**
 * The shared store tier and the moment an ending is told (H-ATK4, stop 17). With `resultCache.store`, a batch's
 * items are executed through the tier, which listened to the backend's output until after it had passed the last
 * result on: that answer completed the run, the pipeline and `batchDedup`'s output, all inside the backend's
 * `next`, so the output told `complete` while it still listened to the backend (let go only as the call returned).
 * A backend whose output stays open after its last result was still subscribed when the ending was told. Found by
 * test/attack-endings-s17.test.ts (a call's output still listened to at `complete`). The tier now lets go of the
 * output before it passes the last result on.
 */
import { concat, map, NEVER, Observable, Subject, timer, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, sharedStore, type ResultStore } from '../src/index.js';
import { runMoments } from './support.js';

describe('batchDedup with a shared store: the backend is let go before the ending is told', () => {
  for (const [what, open] of [
    ['an output that completes after its results', false],
    ['an output that stays open after its results', true],
  ] as const) {
    it(`${what}: not listened to any more when complete is told, and the result is stored`, async () => {
      const clock = new VirtualTimeScheduler();
      const table = new Map<string, unknown>();
      const store: ResultStore = {
        get: (keys) => Promise.resolve(keys.map((key) => table.get(key))),
        set: (entries) => {
          for (const [key, value] of entries) table.set(key, value);
          return Promise.resolve();
        },
      };
      let listening = 0;
      const source = new Subject<string>();
      let atComplete: number | undefined;
      const results: string[] = [];
      source
        .pipe(
          batchDedup<string, string>({
            windowMs: 0,
            scheduler: clock,
            resultCache: { ttlMs: 1000, store: sharedStore(store) },
            execute: (items) =>
              new Observable<string[]>((subscriber) => {
                listening++;
                // Answers 1 ms later (a backend that answers inside subscribe is let go when subscribe returns).
                const answer = timer(1, clock).pipe(map(() => items.map((item) => `answer to ${item}`)));
                const inner = (open ? concat(answer, NEVER) : answer).subscribe(subscriber);
                return () => {
                  listening--;
                  inner.unsubscribe();
                };
              }),
          }),
        )
        .subscribe({ next: (r) => results.push(r.status === 'fulfilled' ? r.value : String(r.error)), complete: () => (atComplete = listening) });
      source.next('q');
      source.complete();
      await runMoments(clock, () => atComplete !== undefined);
      expect(results).toEqual(['answer to q']);
      expect(atComplete).toBe(0);
      expect([...table.values()]).toEqual(['answer to q']);
    });
  }
});
