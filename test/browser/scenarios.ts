/**
 * The scenarios of the browser smoke pages (test/browser.test.ts), shared by ./page.ts (the lean bundle,
 * `rxjs-batch-dedup/lite`) and ./fullPage.ts (`rxjs-batch-dedup` with similarity dedup). Each takes the library's
 * functions from its page, so this file imports only types and each page's bundle holds only what its page imports.
 */
import { Subject, lastValueFrom, take, toArray } from 'rxjs';
import type { createBatcher as liteCreateBatcher } from '../../src/lite/index.js';
import type { batchDedup as fullBatchDedup, createBatchStats as fullCreateBatchStats } from '../../src/index.js';

type CreateBatcher = typeof liteCreateBatcher;
type BatchDedup = typeof fullBatchDedup;
type CreateBatchStats = typeof fullCreateBatchStats;

/** What the page posts back; the test asserts on it. */
export interface PageReport {
  userAgent: string;
  /** `typeof` of Node's globals in the page: all 'undefined' in a browser. */
  nodeGlobals: Record<'process' | 'Buffer' | 'require' | 'setImmediate', string>;
}

/** The lean page's report (./page.ts, `rxjs-batch-dedup/lite`). */
export interface LitePageReport extends PageReport {
  exact: ScenarioReport;
  http: ScenarioReport;
}

/** The full page's report (./fullPage.ts, `rxjs-batch-dedup` and `rxjs-batch-dedup/operators`). */
export interface FullPageReport extends PageReport {
  hybrid: ScenarioReport;
}

export interface ScenarioReport {
  requests: number;
  /** Requests whose answer is not the backend's answer to that very request (must be empty). */
  wrongAnswers: string[];
  /** Items the fake backend was asked for, summed over its calls. */
  backendItems: number;
  backendCalls: number;
  /** Each backend call's items, as JSON, to show in a failure. */
  backendBatches: string[];
  /** The library's own count of items sent to the backend. */
  executedItems: number;
  /** Batches whose similarity dedup fell back to exact because the embedder failed (must be 0). */
  embedFallbacks: number;
}

/** An in-page backend that answers each item after a short delay, counting what it is asked. */
function fakeBackend<T>(answer: (item: T) => string) {
  const seen = { items: 0, calls: 0, batches: [] as string[] };
  const execute = async (batch: T[]): Promise<string[]> => {
    seen.calls += 1;
    seen.items += batch.length;
    seen.batches.push(JSON.stringify(batch));
    await new Promise((resolve) => setTimeout(resolve, 2));
    return batch.map(answer);
  };
  return { execute, seen };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** createBatcher with the default exact dedup: a burst, then requests trickling in over several windows. */
export async function exactScenario(createBatcher: CreateBatcher): Promise<ScenarioReport> {
  const backend = fakeBackend((word: string) => `answer:${word}`);
  const batcher = createBatcher<string, string>({ execute: backend.execute, windowMs: 5, maxSize: 64 });
  const burst = Array.from({ length: 24 }, (_, i) => `w${i % 8}`);
  const trickle = Array.from({ length: 16 }, (_, i) => (i % 3 === 0 ? 'x' : 'y'));
  const wrongAnswers: string[] = [];
  const check = (request: string, answer: string) => {
    if (answer !== `answer:${request}`) wrongAnswers.push(`${request} -> ${answer}`);
  };
  const burstAnswers = await batcher.processAll(burst);
  burst.forEach((request, i) => check(request, burstAnswers[i]!));
  await Promise.all(
    trickle.map(async (request, i) => {
      await sleep(i);
      check(request, await batcher.process(request));
    }),
  );
  // The lean core (the default path of /lite) has no similarity dedup, so no fallbacks to count.
  const { executedItems } = batcher.getStats();
  const embedFallbacks = 0;
  await batcher.close();
  return {
    requests: burst.length + trickle.length,
    wrongAnswers,
    backendItems: backend.seen.items,
    backendCalls: backend.seen.calls,
    backendBatches: backend.seen.batches,
    executedItems,
    embedFallbacks,
  };
}

interface Question {
  query: string;
  lang: string;
}

/** What the fake backend and the check both call a question: its words, lower case. */
const words = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

/** batchDedup with 'hybrid' dedup and the built-in lexical embedder, on a stream of questions. */
export async function hybridScenario(batchDedup: BatchDedup, createBatchStats: CreateBatchStats): Promise<ScenarioReport> {
  const backend = fakeBackend((q: Question) => `answer to "${words(q.query)}" in ${q.lang}`);
  const questions: Question[] = [
    'How do I reset my password?',
    'how do i reset my password',
    'HOW DO I RESET MY PASSWORD!!',
    'How do I reset my password?',
    'What is the capital of France?',
    'what is the capital of france',
    'Enable 2FA for my account',
    'Disable 2FA for my account',
  ].map((query) => ({ query, lang: 'en' }));
  const requests$ = new Subject<Question>();
  // The batch leaves once its 5 ms window has passed (on the window's timer) with every question in: the first
  // request into a cold page has taken up to 10 ms, and without `minSize` a window already passed when the second
  // arrives would leave with the first alone. The source stays open, so its completion flushes nothing.
  const stats = createBatchStats();
  const options = { execute: backend.execute, windowMs: 5, minSize: questions.length, maxWaitMs: 5000, dedupStrategy: 'hybrid' as const, stats };
  const done = lastValueFrom(requests$.pipe(batchDedup(options), take(questions.length), toArray()));
  for (const question of questions) requests$.next(question);
  const results = await done;
  requests$.complete();

  const wrongAnswers: string[] = [];
  const answered = new Set<Question>();
  for (const result of results) {
    const expected = `answer to "${words(result.request.query)}" in en`;
    if (result.status !== 'fulfilled') wrongAnswers.push(`${result.request.query} -> rejected: ${String(result.error)}`);
    else if (result.value !== expected) wrongAnswers.push(`${result.request.query} -> ${String(result.value)}`);
    if (answered.has(result.request)) wrongAnswers.push(`${result.request.query} answered twice`);
    answered.add(result.request);
  }
  for (const question of questions) if (!answered.has(question)) wrongAnswers.push(`${question.query} not answered`);
  return {
    requests: questions.length,
    wrongAnswers,
    backendItems: backend.seen.items,
    backendCalls: backend.seen.calls,
    backendBatches: backend.seen.batches,
    executedItems: stats.snapshot().executedItems,
    embedFallbacks: stats.snapshot().embedFallbacks,
  };
}

export interface User {
  id: string;
  name: string;
}

/**
 * createBatcher in front of a real HTTP endpoint, as a browser app batches its API calls: components ask for users
 * one by one, the server (the test's) gets one `GET /api/users?ids=...` per window with the distinct ids. The same
 * code as docs/browser.md.
 */
export async function httpScenario(createBatcher: CreateBatcher): Promise<ScenarioReport> {
  const calls: string[][] = [];
  const users = createBatcher<string, User | null>({
    execute: async (ids, { signal }) => {
      calls.push(ids);
      const response = await fetch(`/api/users?ids=${ids.map(encodeURIComponent).join(',')}`, { signal });
      if (!response.ok) throw new Error(`GET /api/users answered ${response.status}`);
      const byId = new Map(((await response.json()) as User[]).map((user) => [user.id, user]));
      return ids.map((id) => byId.get(id) ?? null);
    },
    windowMs: 10,
  });
  const ids = [...Array.from({ length: 30 }, (_, i) => `u${i % 6}`), 'missing'];
  const answers = await Promise.all(ids.map((id) => users.process(id)));
  const wrongAnswers = ids.flatMap((id, i) => {
    const answer = answers[i];
    const right = id === 'missing' ? answer === null : answer?.id === id && answer.name === `user ${id}`;
    return right ? [] : [`${id} -> ${JSON.stringify(answer)}`];
  });
  const { executedItems } = users.getStats();
  const embedFallbacks = 0;
  await users.close();
  return {
    requests: ids.length,
    wrongAnswers,
    backendItems: calls.flat().length,
    backendCalls: calls.length,
    backendBatches: calls.map((batch) => JSON.stringify(batch)),
    executedItems,
    embedFallbacks,
  };
}

/** `typeof` of Node's globals in the page: all 'undefined' in a browser. */
export function pageBasics(): PageReport {
  const g = globalThis as Record<string, unknown>;
  return {
    userAgent: navigator.userAgent,
    nodeGlobals: {
      process: typeof g['process'],
      Buffer: typeof g['Buffer'],
      require: typeof g['require'],
      setImmediate: typeof g['setImmediate'],
    },
  };
}

/** Runs a page's scenarios and posts `{ report }`, or `{ error }`, to the test's server. */
export async function report(run: () => Promise<PageReport>): Promise<void> {
  try {
    await post({ report: await run() });
  } catch (error) {
    await post({ error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack ?? ''}` : String(error) });
  }
}

function post(body: unknown): Promise<Response> {
  return fetch('/result', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

