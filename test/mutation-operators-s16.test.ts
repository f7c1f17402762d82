/**
 * Survivors of the stop-16 Stryker run in src/operators (issue 17), each killed through the public operators.
 */
import { from, map, timer, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { DedupedBatch } from '../src/index.js';
import { fanOut } from '../src/operators/index.js';

const batchOf = (...items: string[]): DedupedBatch<string> => ({ items, unique: items, leaderOf: items.map((_, i) => i) });
const NOT_A_BATCH = 'not a batch' as unknown as DedupedBatch<string>;

describe('fanOut after a value that is not a batch, while the batch before it still executes', () => {
  // Kills fanOut.ts:75 `if (refused) return` made false (ConditionalExpression): a synchronous source goes on
  // sending after the refusal (its subscription is not made yet, so it cannot be unsubscribed), and while the
  // batch before the refusal is still owed its answer the stream has not ended, so a later batch was executed.
  it('executes none of the batches a synchronous source sends after it', () => {
    const scheduler = new VirtualTimeScheduler();
    const executed: string[][] = [];
    let ended: unknown;
    from([batchOf('a'), NOT_A_BATCH, batchOf('b')])
      .pipe(
        fanOut<string, string>({
          execute: (items) => {
            executed.push([...items]);
            return timer(5, scheduler).pipe(map(() => items.map((s) => s.toUpperCase())));
          },
          scheduler,
        }),
      )
      .subscribe({ error: (error: unknown) => (ended = error) });
    scheduler.flush();
    expect(executed).toEqual([['a']]);
    expect(ended).toBeInstanceOf(TypeError);
  });
});
