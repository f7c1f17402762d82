/**
 * examples/http/dataloader.ts, the DataLoader mode of `npm run bench:http`: what it batches and caches, and the
 * service over a real socket on 127.0.0.1 (port 0).
 */
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FixedCostBackend, type Answer, type Query } from '../examples/http/backend.js';
import { buildDataLoaderServer, perBatchLoader } from '../examples/http/dataloader.js';

/** The example's backend, recording the queries of each call. */
class RecordingBackend extends FixedCostBackend {
  readonly asked: string[][] = [];

  override answerMany(queries: readonly Query[]): Promise<Answer[]> {
    this.asked.push(queries.map(({ q }) => q));
    return super.answerMany(queries);
  }
}

describe('examples/http/dataloader.ts: a DataLoader per batch', () => {
  it("sends one tick's loads in calls of at most 64, each question once, and answers each load with its own answer", async () => {
    const backend = new RecordingBackend({ callCostMs: 1 });
    const load = perBatchLoader(backend);
    const questions = Array.from({ length: 100 }, (_, i) => `question ${i % 70}`);

    const answers = await Promise.all(questions.map((q) => load({ q })));

    expect(answers).toEqual(questions.map((q) => ({ q, answer: q.toUpperCase() })));
    expect(backend.asked.map((call) => call.length)).toEqual([64, 6]);
    expect(backend.asked.flat().sort()).toEqual([...new Set(questions)].sort());
  });

  it('a load after the batch was sent goes to a new loader: asked again, not served from the last batch', async () => {
    const backend = new RecordingBackend({ callCostMs: 1 });
    const load = perBatchLoader(backend);

    await load({ q: 'same' });
    await load({ q: 'same' });

    expect(backend.asked).toEqual([['same'], ['same']]);
  });

  it('serves POST /api/query over a socket: 50 concurrent requests, each its own answer', async () => {
    const backend = new FixedCostBackend({ callCostMs: 1 });
    const app = buildDataLoaderServer(backend);
    try {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      const questions = Array.from({ length: 50 }, (_, i) => `q${i}`);
      const replies = await Promise.all(
        questions.map(async (q) => {
          const response = await fetch(`${base}/api/query`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ q }),
          });
          return { status: response.status, body: (await response.json()) as Answer };
        }),
      );
      expect(replies).toEqual(questions.map((q) => ({ status: 200, body: { q, answer: q.toUpperCase() } })));
      expect(backend.items).toBe(50);
    } finally {
      await app.close();
    }
  });
});
