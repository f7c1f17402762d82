/**
 * A wall clock that steps back while a request waits as a follower (H-ATK4, stop 17). A request equal to one
 * waiting joins it (it takes no place in the queue); when that leader leaves (its deadline, its abort), the first
 * follower is queued again in its place, and its `requestTimeoutMs` deadline is watched anew, from its own
 * arrival. That new timer was set to `arrival + requestTimeoutMs - now()`: after the clock stepped back a day
 * between the follower's arrival and its promotion, the deadline was held a day (and, with a long window, the
 * request was sent instead of expiring). The class of reliability row 65, for deadlines. A deadline is now never
 * set further than `requestTimeoutMs` from the moment it is watched (due at 51 here, it comes by 53: the wait
 * before the promotion cannot be known after the step).
 */
import { VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, type BatchResult } from '../src/index.js';
import { hostClock, runMoments } from './support.js';

const DAY = 24 * 60 * 60 * 1000;

describe('a follower promoted after the clock stepped back keeps its requestTimeoutMs', () => {
  it('createBatcher: it expires requestTimeoutMs after its arrival, not a day later', async () => {
    const clock = new VirtualTimeScheduler();
    const host = hostClock(clock, 1_700_000_000_000);
    const sent: string[][] = [];
    const batcher = createBatcher<string, string>({
      windowMs: 10_000,
      requestTimeoutMs: 50,
      scheduler: host.scheduler,
      execute: (items) => {
        sent.push([...items]);
        return items.map((item) => `answer to ${item}`);
      },
    });
    const leader = batcher.process('q', { timeoutMs: 3 }); // leaves at 3 with its own deadline
    void leader.catch(() => undefined);
    let followerAnswer: unknown;
    let followerAt: number | undefined;
    clock.schedule(() => {
      batcher.process('q').then(
        (value) => ((followerAnswer = value), (followerAt = clock.now())),
        (error: unknown) => ((followerAnswer = error), (followerAt = clock.now())),
      );
    }, 1);
    clock.schedule(() => host.step(-DAY), 2);
    await runMoments(clock, () => followerAt !== undefined);
    expect(followerAnswer).toMatchObject({ name: 'BatchTimeoutError' });
    // Due at 51; after the step its wait before the promotion (at 3) cannot be known, so it may count twice.
    expect(followerAt).toBeGreaterThanOrEqual(51);
    expect(followerAt).toBeLessThanOrEqual(53);
    expect(sent).toEqual([]);
    await batcher.close();
  });

  it('batchDedup: the same, the leader withdrawn by its signal', async () => {
    const clock = new VirtualTimeScheduler();
    const host = hostClock(clock, 1_700_000_000_000);
    const controller = new AbortController();
    const leader = { q: 'q', signal: controller.signal };
    const follower = { q: 'q', signal: undefined };
    const results: { id: string; at: number; outcome: string }[] = [];
    const source = new (await import('rxjs')).Subject<typeof leader | typeof follower>();
    source
      .pipe(
        batchDedup<typeof leader | typeof follower, string>({
          windowMs: 10_000,
          requestTimeoutMs: 50,
          key: (r) => r.q,
          signal: (r) => r.signal,
          scheduler: host.scheduler,
          execute: (items) => items.map((r) => `answer to ${r.q}`),
        }),
      )
      .subscribe((r: BatchResult<typeof leader | typeof follower, string>) =>
        results.push({ id: r.request === leader ? 'leader' : 'follower', at: clock.now(), outcome: r.status === 'fulfilled' ? 'fulfilled' : (r.error as Error).name }),
      );
    clock.schedule(() => source.next(leader), 0);
    clock.schedule(() => source.next(follower), 1);
    clock.schedule(() => host.step(-DAY), 2);
    clock.schedule(() => controller.abort(new Error('left')), 3);
    await runMoments(clock, () => results.length === 2);
    expect(results.map((r) => [r.id, r.outcome])).toEqual([
      ['leader', 'Error'],
      ['follower', 'BatchTimeoutError'],
    ]);
    expect(results[0]!.at).toBe(3);
    expect(results[1]!.at).toBeGreaterThanOrEqual(51);
    expect(results[1]!.at).toBeLessThanOrEqual(53);
  });
});

/**
 * The same as a property: equal requests (so most join one waiting), leaders leaving by their own deadline or
 * abort, the wall clock stepping back and forth (up to three days) at random moments, a long window. Every
 * request gets one answer; one expired by `requestTimeoutMs` is answered within twice that of its arrival (its
 * wait before a promotion may count twice after a step), and no request is sent later than that.
 */
describe('followers promoted on a stepping clock, as a property', () => {
  it('requestTimeoutMs is kept within twice its length, whatever the steps', async () => {
    const fc = (await import('fast-check')).default;
    const { clockStepArb } = await import('./support.js');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({ at: fc.integer({ min: 0, max: 30 }), key: fc.integer({ min: 0, max: 2 }), leave: fc.option(fc.constantFrom('timeout' as const, 'abort' as const), { freq: 2 }), leaveAfter: fc.integer({ min: 0, max: 20 }) }),
          { minLength: 2, maxLength: 12 },
        ),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), clockStepArb), { maxLength: 3 }),
        fc.integer({ min: 5, max: 40 }),
        fc.constantFrom(1_000, 10_000),
        async (picks, steps, requestTimeoutMs, windowMs) => {
          const clock = new VirtualTimeScheduler();
          const host = hostClock(clock, 1_700_000_000_000);
          const sentAt = new Map<number, number>();
          const batcher = createBatcher<{ id: number; key: number }, number>({
            windowMs,
            requestTimeoutMs,
            key: (r) => r.key,
            scheduler: host.scheduler,
            execute: (items) => {
              for (const item of items) sentAt.set(item.id, clock.now());
              return items.map((item) => item.id);
            },
          });
          const answered = new Map<number, { at: number; outcome: unknown }>();
          picks.forEach((p, id) => {
            clock.schedule(() => {
              const controller = p.leave === 'abort' ? new AbortController() : undefined;
              if (controller) clock.schedule(() => controller.abort(new Error('left')), p.leaveAfter);
              batcher
                .process({ id, key: p.key }, { ...(p.leave === 'timeout' && { timeoutMs: p.leaveAfter }), ...(controller && { signal: controller.signal }) })
                .then(
                  (value) => answered.set(id, { at: clock.now(), outcome: value }),
                  (error: unknown) => answered.set(id, { at: clock.now(), outcome: error }),
                );
            }, p.at);
          });
          for (const [at, ms] of steps) clock.schedule(() => host.step(ms), at);
          await runMoments(clock, () => answered.size === picks.length, 500);
          expect(answered.size).toBe(picks.length);
          picks.forEach((p, id) => {
            const { at, outcome } = answered.get(id)!;
            if (outcome instanceof Error && outcome.name === 'BatchTimeoutError' && /requestTimeoutMs/.test(outcome.message)) {
              expect(at, `request ${id} (arrived ${p.at}) expired late`).toBeLessThanOrEqual(p.at + 2 * requestTimeoutMs);
            }
            // A call's own timeoutMs replaces requestTimeoutMs (and is kept by its own timer, sent or not).
            const sent = sentAt.get(id);
            if (sent !== undefined && p.leave !== 'timeout') expect(sent, `request ${id} (arrived ${p.at}) sent late`).toBeLessThanOrEqual(p.at + 2 * requestTimeoutMs);
          });
          await batcher.close();
        },
      ),
      { numRuns: Number(process.env['ATK_RUNS'] ?? 200) },
    );
  }, 120_000);
});
