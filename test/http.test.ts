/**
 * The examples/http query service over real sockets on 127.0.0.1 (port 0). Batches are formed by count
 * (`minSize === maxSize`, long `maxWaitMs`), so the assertions hold on any machine.
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FixedCostBackend, type Answer, type Query } from '../examples/http/backend.js';
import { buildQueryServer, createQueryBatcher } from '../examples/http/server.js';
import { showsVerbatim, until } from './support.js';

/**
 * The example's backend, holding each call until `holdUntil()` (every request has reached the batcher): the
 * copy of a question then always finds its first request waiting for its batch or executing, however the
 * connections' arrivals interleave, so the savings are exact. Records every question it is asked.
 */
class HeldBackend extends FixedCostBackend {
  holdUntil: () => boolean = () => true;
  readonly asked: string[] = [];

  override async answerMany(queries: readonly Query[]): Promise<Answer[]> {
    await until(this.holdUntil);
    for (const { q } of queries) this.asked.push(q);
    return super.answerMany(queries);
  }
}

async function listen(app: ReturnType<typeof buildQueryServer>): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function ask(base: string, q: string): Promise<{ status: number; body: Answer }> {
  const response = await fetch(`${base}/api/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ q }),
  });
  return { status: response.status, body: (await response.json()) as Answer };
}

describe('examples/http: POST /api/query', () => {
  it('answers 200 concurrent requests (100 questions, each twice) in 4 backend calls of 25, each with its own answer', async () => {
    const backend = new HeldBackend({ callCostMs: 1 });
    const batcher = createQueryBatcher(backend, { minSize: 25, maxSize: 25, maxWaitMs: 60_000 });
    backend.holdUntil = () => batcher.getStats().totalRequests === 200;
    const app = buildQueryServer({ backend, batcher });
    try {
      const base = await listen(app);
      const questions = Array.from({ length: 200 }, (_, i) => `question ${i % 100}`);
      const replies = await Promise.all(questions.map((q) => ask(base, q)));

      expect(replies.map((r) => r.status)).toEqual(questions.map(() => 200));
      expect(replies.map((r) => r.body)).toEqual(questions.map((q) => ({ q, answer: q.toUpperCase() })));
      // The model: batches hold 25 distinct questions (a copy joins its first request, waiting or executing, and
      // takes no place), so the 100 questions leave in 4 calls, each question once; without dedup, 200 items.
      expect(backend.calls).toBe(4);
      expect(backend.items).toBe(100);
      expect([...backend.asked].sort()).toEqual([...new Set(questions)].sort());
      const stats = batcher.getStats();
      expect(stats).toMatchObject({ totalBatches: 4, executedItems: 100 });
      expect(stats.deduplicated + stats.inFlightHits).toBe(100);
    } finally {
      await app.close();
    }
  });

  it('without a batcher, every request is its own backend call', async () => {
    const backend = new FixedCostBackend({ callCostMs: 1 });
    const app = buildQueryServer({ backend });
    try {
      const base = await listen(app);
      const replies = await Promise.all(Array.from({ length: 20 }, () => ask(base, 'same')));
      expect(replies.every((r) => r.body.answer === 'SAME')).toBe(true);
      expect(backend.calls).toBe(20);
    } finally {
      await app.close();
    }
  });

  it('app.close() answers requests still waiting for their batch', async () => {
    const backend = new FixedCostBackend({ callCostMs: 1 });
    const batcher = createQueryBatcher(backend, { minSize: 1_000, maxSize: 1_000, maxWaitMs: 60_000 });
    const app = buildQueryServer({ backend, batcher });
    const base = await listen(app);
    const replies = Promise.all(Array.from({ length: 20 }, (_, i) => ask(base, `q${i}`)));
    await until(() => batcher.getStats().queueDepth === 20);
    expect(batcher.getStats().queueDepth).toBe(20);
    expect(backend.calls).toBe(0);

    await app.close();

    expect((await replies).map((r) => r.body.answer)).toEqual(Array.from({ length: 20 }, (_, i) => `Q${i}`));
    expect(backend.calls).toBe(1);
    expect(batcher.closed).toBe(true);
  });
});

showsVerbatim('docs/http.md', ['examples/http/server.ts', 'examples/http/main.ts']);
