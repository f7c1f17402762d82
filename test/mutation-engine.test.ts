/**
 * The engine after unsubscription (src/internal/engine.ts), where mutation testing found a promise no test
 * guarded (docs/testing.md): a batch whose asynchronous dedup step answers after the pipeline was unsubscribed
 * is never sent to the backend.
 */
import { from, VirtualTimeScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup } from '../src/index.js';

const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('nothing runs after unsubscription', () => {
  it('a batch whose embedder answers after unsubscription is not executed', async () => {
    const scheduler = new VirtualTimeScheduler();
    const embeds: (() => void)[] = [];
    const embed = (texts: string[]) => new Promise<number[][]>((resolve) => embeds.push(() => resolve(texts.map((_, i) => [1, i]))));
    const executed: string[][] = [];
    const results: unknown[] = [];
    const subscription = from(['how do I reset my password', 'what is the refund policy'])
      .pipe(
        batchDedup<string, string>({
          execute: (items) => {
            executed.push(items);
            return items;
          },
          dedupStrategy: 'embedding',
          embed,
          embedTimeoutMs: Infinity,
          windowMs: 1,
          scheduler,
        }),
      )
      .subscribe((result) => results.push(result));
    scheduler.flush(); // the window closes: the batch waits for its embeddings
    expect(embeds).toHaveLength(1);
    subscription.unsubscribe();
    embeds[0]!();
    await turn();
    scheduler.flush();
    expect(executed).toEqual([]);
    expect(results).toEqual([]);
  });

  it('the same batch, still subscribed, is executed once its embedder answers', async () => {
    const scheduler = new VirtualTimeScheduler();
    const embeds: (() => void)[] = [];
    const embed = (texts: string[]) => new Promise<number[][]>((resolve) => embeds.push(() => resolve(texts.map((_, i) => [1, i]))));
    const executed: string[][] = [];
    from(['how do I reset my password', 'what is the refund policy'])
      .pipe(
        batchDedup<string, string>({
          execute: (items) => {
            executed.push(items);
            return items;
          },
          dedupStrategy: 'embedding',
          embed,
          embedTimeoutMs: Infinity,
          windowMs: 1,
          scheduler,
        }),
      )
      .subscribe();
    scheduler.flush();
    embeds[0]!();
    await turn();
    scheduler.flush();
    expect(executed).toEqual([['how do I reset my password', 'what is the refund policy']]);
  });
});
