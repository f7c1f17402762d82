/**
 * A request answered while its batch is deduplicated (its caller's deadline passes or its signal aborts while an
 * embedder works, or from inside `key` at the batch's forming) is not sent, unless an equal request still waits for
 * its item (reliability row 168; before stop 22 it went to the backend with the rest of its batch). Virtual time;
 * the embedders answer when the test says.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { owedPart } from '../src/internal/owedPart.js';
import { virtualClock } from '../src/testing/index.js';
import type { DedupedBatch } from '../src/types.js';

const VECTORS: Record<string, number[]> = { alpha: [1, 0, 0], 'alpha again': [1, 0, 0], beta: [0, 1, 0], gamma: [0, 0, 1] };

/** An embedder that answers when `release()` is called. */
function heldEmbedder() {
  const calls: { texts: string[]; answer: () => void }[] = [];
  return {
    embed: (texts: string[]) =>
      new Promise<number[][]>((resolve) => calls.push({ texts, answer: () => resolve(texts.map((t) => VECTORS[t]!)) })),
    release: () => calls.splice(0).forEach((call) => call.answer()),
    get calls() {
      return calls.length;
    },
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function semanticBatcher() {
  const clock = virtualClock();
  const embedder = heldEmbedder();
  const sent: string[][] = [];
  const batcher = createBatcher<string, string>({
    scheduler: clock.scheduler,
    windowMs: 1,
    dedupStrategy: 'embedding',
    embed: embedder.embed,
    execute: async (items) => (sent.push([...items]), items.map((i) => `=${i}`)),
  });
  return { clock, embedder, sent, batcher };
}

describe('createBatcher, semantic dedup: a request answered while its batch is deduplicated', () => {
  it('its deadline passed: it is not sent, the rest of its batch is', async () => {
    const { clock, embedder, sent, batcher } = semanticBatcher();
    const alpha = batcher.process('alpha', { timeoutMs: 10 }).catch((error: Error) => error.name);
    const beta = batcher.process('beta');
    clock.advanceBy(1);
    expect(embedder.calls).toBe(1);
    clock.advanceBy(10);
    await expect(alpha).resolves.toBe('BatchTimeoutError');
    embedder.release();
    await expect(beta).resolves.toBe('=beta');
    expect(sent).toEqual([['beta']]);
    await batcher.close();
  });

  it('its call aborted: none of its requests is sent; the whole batch left, nothing is, and close() resolves', async () => {
    const { clock, embedder, sent, batcher } = semanticBatcher();
    const controller = new AbortController();
    const both = batcher.processAll(['alpha', 'beta'], { signal: controller.signal }).catch((error: unknown) => error);
    clock.advanceBy(1);
    expect(embedder.calls).toBe(1);
    controller.abort(new Error('caller left'));
    await expect(both).resolves.toEqual(new Error('caller left'));
    embedder.release();
    await turn();
    expect(sent).toEqual([]);
    await batcher.close();
  });

  it('an equal request merged with it still waits: its item is sent, and that request served', async () => {
    const { clock, embedder, sent, batcher } = semanticBatcher();
    const alpha = batcher.process('alpha', { timeoutMs: 5 }).catch((error: Error) => error.name);
    const again = batcher.process('alpha again');
    const gamma = batcher.process('gamma', { timeoutMs: 5 }).catch((error: Error) => error.name);
    clock.advanceBy(6);
    await expect(alpha).resolves.toBe('BatchTimeoutError');
    await expect(gamma).resolves.toBe('BatchTimeoutError');
    embedder.release();
    await expect(again).resolves.toBe('=alpha');
    expect(sent).toEqual([['alpha']]);
    await batcher.close();
  });

  it('after an item left out, the next batch is served (its execution slot was given back)', async () => {
    const { clock, embedder, sent, batcher } = semanticBatcher();
    const early = batcher.processAll(['alpha', 'gamma'], { timeoutMs: 5 }).catch((error: Error) => error.name);
    clock.advanceBy(6);
    await expect(early).resolves.toBe('BatchTimeoutError');
    embedder.release();
    await turn();
    const beta = batcher.process('beta');
    clock.advanceBy(1);
    embedder.release();
    await expect(beta).resolves.toBe('=beta');
    expect(sent).toEqual([['beta']]);
    await batcher.close();
  });
});

describe('createBatcher: the caller aborts from inside a key first called when the batch forms', () => {
  it('(dedup turned on by configure() while it waited) the request is not sent, the rest of its batch is', async () => {
    const clock = virtualClock();
    const sent: string[][] = [];
    const batcher = createBatcher<string, string>({
      scheduler: clock.scheduler,
      windowMs: 5,
      enableDedup: false,
      execute: async (items) => (sent.push([...items]), items.map((i) => `=${i}`)),
    });
    const controller = new AbortController();
    const x = batcher.process('x', { signal: controller.signal }).catch((error: unknown) => error);
    const y = batcher.process('y');
    batcher.configure({
      enableDedup: true,
      key: (request: string) => {
        if (request === 'x') controller.abort(new Error('left inside key'));
        return request;
      },
    });
    clock.advanceBy(5);
    await expect(x).resolves.toEqual(new Error('left inside key'));
    await expect(y).resolves.toBe('=y');
    expect(sent).toEqual([['y']]);
    await batcher.close();
  });
});

describe('owedPart', () => {
  const request = (name: string, answered = false) => ({ name, answered });
  type R = ReturnType<typeof request>;
  const slots = (awaitedNames: string[] = []) => {
    const forgone: string[][] = [];
    return {
      forgone,
      awaited: (requests: readonly R[]) => requests.some((r) => awaitedNames.includes(r.name)),
      forgoneBy: { awaited: (requests: readonly R[]) => requests.some((r) => awaitedNames.includes(r.name)), forgone: (requests: readonly R[]) => void forgone.push(requests.map((r) => r.name)) },
    };
  };

  it('returns the batch itself when nothing of it was answered', () => {
    const items = [request('a'), request('b')];
    const batch: DedupedBatch<R> = { items, unique: items, leaderOf: [0, 1] };
    expect(owedPart(batch, slots().forgoneBy)).toBe(batch);
  });

  it('leaves out the items whose requests were all answered, renumbering the leaders', () => {
    const [a, a2, b, c, c2] = [request('a', true), request('a2', true), request('b'), request('c', true), request('c2')];
    const batch: DedupedBatch<R> = { items: [a, b, a2, c, c2], unique: [a, b, c], leaderOf: [0, 1, 0, 2, 2] };
    const s = slots();
    expect(owedPart(batch, s.forgoneBy)).toEqual({ items: [b, c, c2], unique: [b, c], leaderOf: [0, 1, 1] });
    expect(s.forgone).toEqual([['a', 'a2']]);
  });

  it('leaves a batch with items whose key threw (leader -1) whole, so that each is refused by its run', () => {
    // Found by test/attack-bridge-s22.properties on the first version, which read members[-1].
    const [a, bad] = [request('a', true), request('bad')];
    const batch: DedupedBatch<R> = { items: [a, bad], unique: [a], leaderOf: [0, -1], failures: new Map([[1, 'bad key']]) };
    const s = slots();
    expect(owedPart(batch, s.forgoneBy)).toBe(batch);
    expect(s.forgone).toEqual([]);
  });

  it('keeps an answered item that an equal request joined in flight, and tells nothing forgone', () => {
    const [a, b] = [request('a', true), request('b')];
    const batch: DedupedBatch<R> = { items: [a, b], unique: [a, b], leaderOf: [0, 1] };
    const s = slots(['a']);
    expect(owedPart(batch, s.forgoneBy)).toBe(batch);
    expect(s.forgone).toEqual([]);
  });

  it('returns undefined when nothing is owed, every item forgone', () => {
    const [a, b] = [request('a', true), request('b', true)];
    const s = slots();
    expect(owedPart({ items: [a, b], unique: [a, b], leaderOf: [0, 1] }, s.forgoneBy)).toBeUndefined();
    expect(s.forgone).toEqual([['a'], ['b']]);
  });

});
