/**
 * Issue 12 item 2: LLM-shaped requests with similarity dedup. The default `text(request)` reads a string request,
 * the string fields `query`, `text`, `prompt`, `input` (in that order) and the last message of a chat `messages`
 * array; the rest of the request (what the text was not read from) is compared exactly. A request whose text
 * cannot be read is deduplicated exactly and counted in `textUnreadable`, never rejected.
 *
 * The merge guard is off unless a test says otherwise: these tests are about what is compared, not about the
 * guard. The embedders here are stubs whose vectors the tests choose: `sameVector` makes every text one vector, so the
 * similarity stage merges everything it is allowed to compare, and only the rest of the request keeps requests
 * apart.
 */
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { map, of, timer, toArray, lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, createBatcher, createBatchStats, type BatchResult, type Embedder } from '../src/index.js';
import { createDeduper, resolveDedupOptions, type DedupOptions } from '../src/dedup/options.js';
import { publishBatchStats } from '../src/otel/index.js';
import { virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

/** Every text the same vector: similarity would merge every pair it may compare. Records the texts embedded. */
function sameVector() {
  const texts: string[] = [];
  const embed: Embedder = (batch) => {
    texts.push(...batch);
    return batch.map(() => [1, 0]);
  };
  return { embed, texts };
}

/** Texts starting with the same word share a vector; others are orthogonal (up to 8 words). */
const byFirstWord: Embedder = (texts) => {
  const words: string[] = [];
  return texts.map((t) => {
    const word = t.split(/\s+/)[0]!.toLowerCase();
    let i = words.indexOf(word);
    if (i < 0) i = words.push(word) - 1;
    const v = new Array<number>(8).fill(0);
    v[i % 8] = 1;
    return v;
  });
};

type Strategy = 'embedding' | 'hybrid';

/**
 * Sends every request to one batch of a createBatcher (virtual clock) whose backend answers each item with the
 * item itself: a request answered with another object was merged into it.
 */
async function throughBatcher<T>(requests: readonly T[], options: DedupOptions<T>) {
  const clock = virtualClock();
  const batches: T[][] = [];
  const batcher = createBatcher<T, T>({
    mergeGuard: false,
    ...options,
    execute: async (items) => {
      batches.push([...items]);
      return items;
    },
    windowMs: 10,
    maxSize: 1000,
    scheduler: clock.scheduler,
  });
  const settled = Promise.allSettled(requests.map((r) => batcher.process(r)));
  clock.advanceBy(10);
  await turn();
  clock.advanceBy(10);
  await turn();
  const outcomes = await settled;
  return { outcomes, batches, stats: batcher.getStats() };
}

/** The same through batchDedup, synchronously (the embedders here answer synchronously), in one batch. */
async function throughOperator<T>(requests: readonly T[], options: DedupOptions<T>) {
  const stats = createBatchStats();
  const batches: T[][] = [];
  const results = await lastValueFrom(
    of(...requests).pipe(
      batchDedup<T, T>({
        mergeGuard: false,
        ...options,
        execute: (items) => {
          batches.push([...items]);
          return of(items);
        },
        // No window timer: the batch leaves when \`of\` completes. A 10 ms window on the real clock could close
        // between two synchronous arrivals when the machine pauses the test for longer (seen under load).
        windowMs: Infinity,
        maxSize: 1000,
        stats,
      }),
      toArray(),
    ),
  );
  const byRequest = new Map<T, BatchResult<T, T>>(results.map((r) => [r.request, r]));
  const outcomes = requests.map((r): PromiseSettledResult<T> => {
    const result = byRequest.get(r)!;
    return result.status === 'fulfilled' ? { status: 'fulfilled', value: result.value } : { status: 'rejected', reason: result.error };
  });
  return { outcomes, batches, stats: stats.snapshot() };
}

const FRONT_ENDS = [
  ['createBatcher', throughBatcher],
  ['batchDedup', throughOperator],
] as const;

/** For each request, the index of the request whose answer it got; throws on a rejection. */
function answeredBy<T>(requests: readonly T[], outcomes: readonly PromiseSettledResult<T>[]): number[] {
  return outcomes.map((o, i) => {
    if (o.status === 'rejected') throw new Error(`request ${i} was rejected: ${String(o.reason)}`);
    const leader = requests.indexOf(o.value);
    if (leader < 0) throw new Error(`request ${i} got an answer that is no request`);
    return leader;
  });
}

const user = (content: unknown) => ({ role: 'user', content });
const system = (content: string) => ({ role: 'system', content });
const textPart = (text: string) => ({ type: 'text', text });

describe.each(FRONT_ENDS)('%s: the default text(request) reads the common shapes', (_, run) => {
  describe.each(['embedding', 'hybrid'] as const)("with '%s'", (strategy: Strategy) => {
    const shapes: [string, (text: string) => unknown][] = [
      ['a string request', (t) => t],
      ['{ query }', (t) => ({ query: t, model: 'm' })],
      ['{ text }', (t) => ({ text: t, model: 'm' })],
      ['{ prompt }', (t) => ({ prompt: t, model: 'm', max_tokens: 10 })],
      ['{ input } (a string)', (t) => ({ input: t, model: 'm' })],
      ['{ messages } with string contents', (t) => ({ model: 'm', messages: [system('Be brief.'), user(t)] })],
      ['{ messages } with text parts', (t) => ({ model: 'm', messages: [system('Be brief.'), user([textPart(t)])] })],
      ['{ messages } with several text parts', (t) => ({ messages: [user([textPart('Question:'), textPart(t)])] })],
      ['{ system, messages } (Anthropic)', (t) => ({ model: 'm', system: 'Be brief.', max_tokens: 64, messages: [user(t)] })],
    ];

    it.each(shapes)('%s: near-identical texts merge, none is rejected, nothing is counted unreadable', async (_shape, make) => {
      const { embed, texts } = sameVector();
      const requests = [make('reset my password'), make('Reset my password?'), make('reset my password')];
      const { outcomes, batches, stats } = await run(requests, { dedupStrategy: strategy, dedupThreshold: 0.5, embed });
      expect(answeredBy(requests, outcomes)).toEqual([0, 0, 0]);
      expect(batches).toEqual([[requests[0]]]);
      expect(texts.some((t) => /reset my password/i.test(t))).toBe(true);
      expect(stats.textUnreadable).toBe(0);
    });

    it('embeds exactly the text read: a field as it is, the last message alone, text parts joined by newlines', async () => {
      const { embed, texts } = sameVector();
      const requests = [
        { prompt: ' Spaces kept ' },
        { prompt: 'x' },
        { messages: [system('Be brief.'), user('hi'), { role: 'assistant', content: 'Hello!' }, user('last one')] },
        { messages: [system('Be brief.'), user('hi'), { role: 'assistant', content: 'Hello!' }, user('x')] },
        { messages: [user([textPart('Question:'), textPart('reset it'), textPart('')])] },
        { messages: [user([textPart('x'), textPart('y'), textPart('')])] },
      ];
      await run(requests, { dedupStrategy: strategy, dedupThreshold: 0.5, embed });
      // Distinct texts of the requests that share a rest with another, once each, in arrival order.
      expect(texts).toEqual([' Spaces kept ', 'x', 'last one', 'Question:\nreset it\n', 'x\ny\n']);
    });

    it('reads the text a user reads: the fields in order query, text, prompt, input, then the last message', async () => {
      const { embed, texts } = sameVector();
      const requests = [
        { query: 'q1', text: 't', prompt: 'p', input: 'i', messages: [user('m')] },
        { query: 'q2', text: 't', prompt: 'p', input: 'i', messages: [user('m')] },
        { query: 7, text: 't1', prompt: 'p', input: 'i' },
        { query: 7, text: 't2', prompt: 'p', input: 'i' },
        { text: null, prompt: 'p1', input: 'i' },
        { text: null, prompt: 'p2', input: 'i' },
        { prompt: ['x'], input: 'i1', messages: [user('m')] },
        { prompt: ['x'], input: 'i2', messages: [user('m')] },
        { input: ['x'], messages: [system('s'), user('first'), { role: 'assistant', content: 'a' }, user('m1')] },
        { input: ['x'], messages: [system('s'), user('first'), { role: 'assistant', content: 'a' }, user('m2')] },
      ];
      const { outcomes } = await run(requests, { dedupStrategy: strategy, dedupThreshold: 0.5, embed });
      expect(new Set(texts)).toEqual(new Set(['q1', 'q2', 't1', 't2', 'p1', 'p2', 'i1', 'i2', 'm1', 'm2']));
      expect(answeredBy(requests, outcomes)).toEqual([0, 0, 2, 2, 4, 4, 6, 6, 8, 8]);
    });

    it('a near-identical last user message merges; a different model, system prompt, earlier turn, role or part structure never does', async () => {
      const { embed } = sameVector();
      const chat = (model: string, systemPrompt: string, earlier: string, last: unknown) => ({
        model,
        temperature: 0,
        messages: [system(systemPrompt), user(earlier), { role: 'assistant', content: 'Sure.' }, last],
      });
      const requests = [
        chat('a', 'Be brief.', 'Hi', user('How do I reset my password?')), // 0
        chat('a', 'Be brief.', 'Hi', user('how do I reset my password')), // 1: merges into 0
        chat('b', 'Be brief.', 'Hi', user('How do I reset my password?')), // 2: other model
        chat('a', 'Be thorough.', 'Hi', user('How do I reset my password?')), // 3: other system prompt
        chat('a', 'Be brief.', 'Hello', user('How do I reset my password?')), // 4: other earlier turn
        chat('a', 'Be brief.', 'Hi', { role: 'assistant', content: 'How do I reset my password?' }), // 5: other role
        chat('a', 'Be brief.', 'Hi', user([textPart('How do I reset my password?')])), // 6: parts, not a string
        chat('a', 'Be brief.', 'Hi', user([textPart('how do I reset my password')])), // 7: merges into 6
        chat('a', 'Be brief.', 'Hi', user([textPart('How do I'), textPart('reset my password?')])), // 8: two parts
        chat('a', 'Be brief.', 'Hi', user([{ ...textPart('How do I reset my password?'), cache_control: { type: 'ephemeral' } }])), // 9
        chat('a', 'Be brief.', 'Hi', { ...user('How do I reset my password?'), name: 'ann' }), // 10: a named user
      ];
      const { outcomes } = await run(requests, { dedupStrategy: strategy, dedupThreshold: 0.5, embed });
      expect(answeredBy(requests, outcomes)).toEqual([0, 0, 2, 3, 4, 5, 6, 6, 8, 9, 10]);
    });

    it('{ model, prompt }: a different model or parameter never merges; a similar prompt with equal parameters does', async () => {
      const requests = [
        { model: 'a', prompt: 'reset password' },
        { model: 'b', prompt: 'reset password' },
        { model: 'a', prompt: 'reset password', max_tokens: 5 },
        { model: 'a', prompt: 'Reset my password' },
        { model: 'a', prompt: 'weather today' },
        { model: 'a', input: 'reset password' },
      ];
      const { outcomes } = await run(requests, { dedupStrategy: strategy, dedupThreshold: 0.9, embed: byFirstWord });
      expect(answeredBy(requests, outcomes)).toEqual([0, 1, 2, 0, 4, 5]);
    });
  });
});

describe.each(FRONT_ENDS)('%s: a request whose text cannot be read is deduplicated exactly, counted, never rejected', (_, run) => {
  const unreadable: [string, () => unknown][] = [
    ['an image part', () => ({ model: 'm', messages: [user([textPart('What is this?'), { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }])] })],
    ['an input_audio part', () => ({ messages: [user([{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }])] })],
    ['a last message with null content (tool calls)', () => ({ messages: [user('hi'), { role: 'assistant', content: null, tool_calls: [{ id: '1' }] }] })],
    ['a last message without content', () => ({ messages: [{ role: 'user' }] })],
    ['empty parts', () => ({ messages: [user([])] })],
    ['a part whose text is not a string', () => ({ messages: [user([{ type: 'text', text: 5 }])] })],
    ['a part with no type', () => ({ messages: [user([{ text: 'hi' }])] })],
    ['no messages', () => ({ messages: [] })],
    ['messages that are not an array', () => ({ messages: 'hello' })],
    ['a last message that is a string', () => ({ messages: ['hello'] })],
    ['an input array (embedding API)', () => ({ model: 'e', input: ['a', 'b'] })],
    ['non-string text fields', () => ({ query: 1, text: null, prompt: { a: 1 }, input: true })],
    ['no text field', () => ({ id: 42, lang: 'en' })],
    ['a number', () => 42],
    ['a bigint', () => 42n],
    ['a boolean', () => true],
    ['null', () => null],
    ['an array', () => ['a', 'b']],
    ['nested junk', () => ({ data: { prompt: 'hidden', messages: [user('deep')] }, list: [[1, [2, { x: NaN }]]], when: new Date(0) })],
  ];

  describe.each(['embedding', 'hybrid'] as const)("with '%s'", (strategy: Strategy) => {
    it.each(unreadable)('%s: two equal ones run once, a different one runs apart', async (_shape, make) => {
      const { embed, texts } = sameVector();
      const other = { id: 'another request' };
      const requests = [make(), make(), other, 'a text', 'A text'];
      const { outcomes, stats } = await run(requests, { dedupStrategy: strategy, dedupThreshold: 0.5, embed });
      expect(answeredBy(requests, outcomes)).toEqual([0, 0, 2, 3, 3]);
      // With 'hybrid' the exact twin joins the first at arrival and never reaches the text stage.
      expect(stats.textUnreadable).toBe(strategy === 'hybrid' ? 2 : 3);
      expect(texts).toEqual(['a text', 'A text']);
    });
  });

  it('in hybrid, by the key option and within its scope', async () => {
    const { embed } = sameVector();
    const image = (tenant: string, id: number) => ({ tenant, id, messages: [user([{ type: 'image_url', image_url: { url: 'u' } }])] });
    const requests = [image('a', 1), image('a', 2), image('b', 3), { tenant: 'a', id: 4, prompt: 'x' }];
    const { outcomes, stats } = await run(requests, {
      dedupStrategy: 'hybrid',
      dedupThreshold: 0.5,
      embed,
      key: (r) => ({ tenant: r.tenant, what: 'messages' in r ? JSON.stringify(r.messages) : r.prompt }),
      scope: (r) => r.tenant,
    });
    expect(answeredBy(requests, outcomes)).toEqual([0, 0, 2, 3]);
    // The second image joins the first at arrival (equal key): two reach the text stage.
    expect(stats.textUnreadable).toBe(2);
  });

  it('a mixed batch: every shape at once, each answered by an equal or allowed request', async () => {
    const { embed } = sameVector();
    const requests = [
      'hello there', // 0
      { prompt: 'hello there' }, // 1: another rest than a string request
      { messages: [user('hello there')] }, // 2
      { messages: [user([textPart('hello there')])] }, // 3
      { messages: [user([textPart('hi'), { type: 'image_url', image_url: { url: 'u' } }])] }, // 4: unreadable
      { input: ['hello', 'there'] }, // 5: unreadable
      'Hello there!', // 6: merges into 0
      { prompt: 'Hello there!' }, // 7: merges into 1
      { messages: [user('Hello there!')] }, // 8: merges into 2
      { input: ['hello', 'there'] }, // 9: exact duplicate of 5
      { messages: [user([textPart('hi'), { type: 'image_url', image_url: { url: 'v' } }])] }, // 10: another image
      42, // 11
      42, // 12
    ];
    const { outcomes, stats } = await run(requests, { dedupStrategy: 'embedding', dedupThreshold: 0.5, embed });
    expect(answeredBy(requests, outcomes)).toEqual([0, 1, 2, 3, 4, 5, 0, 1, 2, 5, 10, 11, 11]);
    expect(stats.textUnreadable).toBe(6);
  });
});

describe('a broken user text(request) still rejects its own request, naming text(request)', () => {
  it.each<[string, () => unknown, RegExp]>([
    ['throws', () => { throw new Error('boom'); }, /text\(request\) threw: .*boom/],
    ['returns undefined', () => undefined, /text\(request\) must return a string, got undefined/],
    ['returns a number', () => 5, /text\(request\) must return a string, got 5/],
  ])('%s', async (_, text, message) => {
    const requests = [{ prompt: 'a', bad: true }, { prompt: 'b', bad: false }, { prompt: 'c', bad: false }];
    const { outcomes } = await throughBatcher(requests, {
      dedupStrategy: 'hybrid',
      embed: byFirstWord,
      text: (r) => (r.bad ? (text as () => string)() : r.prompt),
    });
    expect(outcomes[0]!.status).toBe('rejected');
    const error = (outcomes[0] as PromiseRejectedResult).reason as Error;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/^createBatcher: text\(request\)/);
    expect(outcomes.slice(1).map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
  });
});

describe('the deduper alone', () => {
  const dedup = <T>(options: DedupOptions<T>, items: T[], hooks = {}) => {
    const out = createDeduper(resolveDedupOptions('dedupBy', options), hooks)(items);
    if (out instanceof Promise) throw new Error('expected a synchronous result');
    return out;
  };

  it('reports the unreadable requests of each batch once, exact followers included, even when the batch falls back', () => {
    const counts: number[] = [];
    const fallbacks: unknown[] = [];
    const hooks = { onTextUnreadable: (n: number) => counts.push(n), onFallback: (e: unknown) => fallbacks.push(e) };
    const items = [{ id: 1 }, { id: 1 }, { id: 2 }, { prompt: 'a' }, { prompt: 'b' }];
    dedup({ dedupStrategy: 'hybrid', embed: sameVector().embed }, items, hooks);
    dedup({ dedupStrategy: 'embedding', embed: () => { throw new Error('down'); } }, items, hooks);
    dedup({ dedupStrategy: 'hybrid', embed: sameVector().embed }, [{ prompt: 'a' }], hooks);
    expect(counts).toEqual([3, 3]);
    expect(fallbacks).toHaveLength(1);
  });

  it('an unreadable request never becomes a leader of a readable one, nor joins one', () => {
    const items = [{ messages: [user([{ type: 'image_url' }])] }, { messages: [user('x')] }, { messages: [user('y')] }];
    const out = dedup({ dedupStrategy: 'embedding', dedupThreshold: 0, embed: sameVector().embed }, items as unknown[]);
    expect(out.leaderOf).toEqual([0, 1, 1]);
    expect(out.failures).toBeUndefined();
  });
});

describe('textUnreadable in the stats', () => {
  it('counts across batches and is zero with exact dedup', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<unknown, unknown>({
      execute: (items) => timer(1, clock.scheduler).pipe(map(() => items)),
      dedupStrategy: 'hybrid',
      windowMs: 10,
      scheduler: clock.scheduler,
    });
    const first = batcher.process({ id: 1 });
    clock.advanceBy(20);
    const second = Promise.all([batcher.process(7), batcher.process({ prompt: 'p' })]);
    clock.advanceBy(20);
    await expect(first).resolves.toEqual({ id: 1 });
    await expect(second).resolves.toEqual([7, { prompt: 'p' }]);
    expect(batcher.getStats().textUnreadable).toBe(2);

    const exact = await throughBatcher([{ id: 1 }, 7], {});
    expect(exact.stats.textUnreadable).toBe(0);
  });
});

describe('textUnreadable in OpenTelemetry', () => {
  class PullReader extends MetricReader {
    protected override async onShutdown(): Promise<void> {}
    protected override async onForceFlush(): Promise<void> {}
  }

  it('is published as the cumulative counter <prefix>.text_unreadable', async () => {
    const reader = new PullReader();
    const provider = new MeterProvider({ readers: [reader] });
    const stats = createBatchStats();
    const handle = publishBatchStats(stats, { meter: provider.getMeter('t') });
    await lastValueFrom(of({ id: 1 }, { id: 2 }, 'text').pipe(batchDedup({ execute: async (xs) => xs, dedupStrategy: 'hybrid', stats }), toArray()));
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === 'batch_dedup.text_unreadable');
    expect(metric?.descriptor.unit).toBe('{request}');
    expect(metric?.dataPoints[0]?.value).toBe(2);
    handle.unregister();
    await provider.shutdown();
  });
});
