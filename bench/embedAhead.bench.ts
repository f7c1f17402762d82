/**
 * Embed-ahead (issue 14, item 2): request latency with an embedding API of 30 ms per call, before (the batch's
 * texts embedded after it forms: `embedAhead: false`) and after (embedded while the window is open:
 * `embedAhead: true`), in one run, on the same arrivals.
 *
 * Setup: `createBatcher`, `dedupStrategy: 'embedding'`, `windowMs: 20`, `execute` 40 ms per batch, the embedder
 * the built-in lexical vectors answered 30 ms after each call. Arrivals: Poisson, 100 requests/s for 6 s, texts
 * drawn from 1,000 distinct questions, one request in four a lower-cased repeat of a recent one (so batches merge).
 * Latency: from `process()` to its result.
 *
 * Two clocks: virtual time, stepped 1 ms at a time with promise callbacks run in between (exact and repeatable:
 * the figures in docs/benchmarks.md), and real timers (`asyncScheduler`, one run, 2 s of the same arrivals) as a
 * check that the gain holds with a real event loop. Run alone with `npm run bench -- embed-ahead`.
 */
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { createBatcher, createLexicalEmbedder, type Embedder } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { seededRandom } from './lib/random.js';
import { consoleTable, markdownTable, type BenchSection } from './lib/report.js';

const EMBED_MS = 30;
const WINDOW_MS = 20;
const EXECUTE_MS = 40;
const RATE_PER_SECOND = 100;
const VIRTUAL_DURATION_MS = 6000;
const REAL_DURATION_MS = 2000;
/** Beside the setup, virtual only: a higher rate, and an embedder faster than the window. */
const HIGH_RATE_PER_SECOND = 400;
const FAST_EMBED_MS = 10;

const VERBS = ['reset', 'change', 'recover', 'update', 'delete', 'export', 'import', 'share', 'rename', 'verify'];
const THINGS = ['my password', 'my email address', 'the billing plan', 'a shared folder', 'the team calendar', 'an invoice', 'my profile photo', 'the api key', 'a project board', 'the mobile app'];
const WAYS = ['from the web page', 'on my phone', 'as an admin', 'for a guest user', 'without losing data', 'in bulk', 'after a failed login', 'from the command line', 'in the new interface', 'through support'];

interface Arrival {
  readonly at: number;
  readonly text: string;
}

/** Poisson arrivals at `RATE_PER_SECOND`; one in four repeats a recent text, lower-cased and without its '?'. */
function arrivals(durationMs: number, ratePerSecond = RATE_PER_SECOND, seed = 14): Arrival[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const out: Arrival[] = [];
  const gap = () => -Math.log(1 - random()) * (1000 / ratePerSecond);
  for (let t = gap(); t < durationMs; t += gap()) {
    const recent = out.slice(-4);
    const text =
      recent.length > 0 && random() < 0.25
        ? pick(recent).text.toLowerCase().replace('?', '')
        : `How do I ${pick(VERBS)} ${pick(THINGS)} ${pick(WAYS)}?`;
    out.push({ at: t, text });
  }
  return out;
}

interface Figures {
  readonly p50: number;
  readonly p95: number;
  readonly embedCalls: number;
  readonly embeddedTexts: number;
  readonly requests: number;
  readonly backendItems: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** A lexical embedder answering `EMBED_MS` after each call, on `scheduler`; counts calls and texts. */
function slowEmbedder(scheduler: SchedulerLike, embedMs: number) {
  const lexical = createLexicalEmbedder();
  const counts = { calls: 0, texts: 0 };
  const embed: Embedder = (texts) => {
    counts.calls++;
    counts.texts += texts.length;
    return new Promise((resolve) => scheduler.schedule(() => resolve(lexical(texts) as ArrayLike<number>[]), embedMs));
  };
  return { embed, counts };
}

function pipeline(scheduler: SchedulerLike, embedAhead: boolean, embedMs = EMBED_MS) {
  const { embed, counts } = slowEmbedder(scheduler, embedMs);
  let backendItems = 0;
  const batcher = createBatcher<string, string>({
    execute: (texts) => {
      backendItems += texts.length;
      return new Promise((resolve) => scheduler.schedule(() => resolve(texts.map((t) => t.toUpperCase())), EXECUTE_MS));
    },
    dedupStrategy: 'embedding',
    embed,
    embedAhead,
    windowMs: WINDOW_MS,
    scheduler,
  });
  return { batcher, counts, items: () => backendItems };
}

function figures(latencies: number[], counts: { calls: number; texts: number }, backendItems: number): Figures {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), embedCalls: counts.calls, embeddedTexts: counts.texts, requests: latencies.length, backendItems };
}

/** On virtual time, 1 ms steps, promise callbacks run between steps: exact and repeatable. */
async function runVirtual(embedAhead: boolean, load: readonly Arrival[], embedMs = EMBED_MS): Promise<Figures> {
  const clock = virtualClock();
  const { batcher, counts, items } = pipeline(clock.scheduler, embedAhead, embedMs);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let next = 0;
  const end = load[load.length - 1]!.at + 1000;
  for (let t = 0; t <= end; t++) {
    for (; next < load.length && load[next]!.at <= t; next++) {
      const start = clock.scheduler.now();
      pending.push(batcher.process(load[next]!.text).then(() => void latencies.push(clock.scheduler.now() - start)));
    }
    clock.advanceBy(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await Promise.all(pending);
  const closing = batcher.close();
  clock.runAll();
  await closing;
  return figures(latencies, counts, items());
}

/** On real timers: one run, so its figures carry the machine's noise. */
async function runReal(embedAhead: boolean, load: readonly Arrival[]): Promise<Figures> {
  const { batcher, counts, items } = pipeline(asyncScheduler, embedAhead);
  const latencies: number[] = [];
  const started = performance.now();
  const pending = load.map(
    (arrival) =>
      new Promise<void>((resolve, reject) => {
        setTimeout(() => {
          const start = performance.now();
          batcher.process(arrival.text).then(() => {
            latencies.push(performance.now() - start);
            resolve();
          }, reject);
        }, Math.max(0, arrival.at - (performance.now() - started)));
      }),
  );
  await Promise.all(pending);
  await batcher.close();
  return figures(latencies, counts, items());
}

const ms = (x: number) => x.toFixed(1);

export default async function embedAheadBench(): Promise<BenchSection> {
  const virtualLoad = arrivals(VIRTUAL_DURATION_MS);
  const realLoad = arrivals(REAL_DURATION_MS);
  const highLoad = arrivals(VIRTUAL_DURATION_MS, HIGH_RATE_PER_SECOND);
  const runs: [clock: string, rate: number, embedMs: number, mode: string, figures: Figures][] = [
    ['virtual', RATE_PER_SECOND, EMBED_MS, 'embed after the batch forms', await runVirtual(false, virtualLoad)],
    ['virtual', RATE_PER_SECOND, EMBED_MS, 'embed-ahead', await runVirtual(true, virtualLoad)],
    ['real timers', RATE_PER_SECOND, EMBED_MS, 'embed after the batch forms', await runReal(false, realLoad)],
    ['real timers', RATE_PER_SECOND, EMBED_MS, 'embed-ahead', await runReal(true, realLoad)],
    ['virtual', HIGH_RATE_PER_SECOND, EMBED_MS, 'embed after the batch forms', await runVirtual(false, highLoad)],
    ['virtual', HIGH_RATE_PER_SECOND, EMBED_MS, 'embed-ahead', await runVirtual(true, highLoad)],
    ['virtual', HIGH_RATE_PER_SECOND, FAST_EMBED_MS, 'embed after the batch forms', await runVirtual(false, highLoad, FAST_EMBED_MS)],
    ['virtual', HIGH_RATE_PER_SECOND, FAST_EMBED_MS, 'embed-ahead', await runVirtual(true, highLoad, FAST_EMBED_MS)],
  ];
  const header = ['clock', 'requests/s', 'embedder', 'mode', 'requests', 'p50 ms', 'p95 ms', 'embed calls', 'texts embedded', 'backend items'];
  const rows = runs.map(([clock, rate, embedMs, mode, f]) => [clock, String(rate), `${embedMs} ms`, mode, String(f.requests), ms(f.p50), ms(f.p95), String(f.embedCalls), String(f.embeddedTexts), String(f.backendItems)]);
  console.log(consoleTable(header, rows));
  const [before, after, , , highBefore, highAfter, fastBefore, fastAfter] = runs.map((run) => run[4]);
  if (!before || !after || !highBefore || !highAfter || !fastBefore || !fastAfter) throw new Error('a run is missing');
  const lastLine = `embed-ahead: p50 ${ms(before.p50)} -> ${ms(after.p50)} ms, p95 ${ms(before.p95)} -> ${ms(after.p95)} ms`;
  console.log(lastLine);
  const markdown = [
    `Embedder ${EMBED_MS} ms per call, \`windowMs: ${WINDOW_MS}\`, \`execute\` ${EXECUTE_MS} ms per batch, \`dedupStrategy: 'embedding'\`,`,
    `\`createBatcher\`; Poisson arrivals at ${RATE_PER_SECOND} requests/s, texts drawn from 1,000 distinct questions, one`,
    'request in four a lower-cased repeat of a recent one. Latency from `process()` to its result. *Before*:',
    '`embedAhead: false` (the batch\'s texts embedded after it forms, one call per batch); *after*: `embedAhead: true`',
    '(embedded while the window is open, one call per scheduler tick). Virtual time is stepped 1 ms at a time with',
    'promise callbacks run in between (exact, repeatable); the real-timer rows are one run of 2 s of the same',
    'arrivals on `asyncScheduler`, as a check. Source: `bench/embedAhead.bench.ts`; run `npm run bench -- embed-ahead`.',
    '',
    markdownTable(header, rows),
    '',
    `What the figures say. A request alone in its window is never embedded (nothing to compare it with), so at`,
    `${RATE_PER_SECOND} requests/s (two per window on average) many pay no embedding either way. Before, a batch that needs`,
    `vectors waits the whole call after its window: the wait in the window + ${EMBED_MS} + ${EXECUTE_MS} ms. After, each text is`,
    `embedded as it arrives, and a batch waits only until the call made for its *last* request has answered: with`,
    `an embedder slower than the window (${EMBED_MS} ms against ${WINDOW_MS} ms) that is after the window's end, so the gain is the`,
    `part of the window after the last arrival: p50 ${ms(before.p50)} -> ${ms(after.p50)} ms, p95 ${ms(before.p95)} -> ${ms(after.p95)} ms at ${RATE_PER_SECOND} requests/s, and little`,
    `at ${HIGH_RATE_PER_SECOND} requests/s, where some request arrives near every window's end (p50 ${ms(highBefore.p50)} -> ${ms(highAfter.p50)} ms, p95 ${ms(highBefore.p95)} -> ${ms(highAfter.p95)} ms).`,
    `With an embedder faster than the window (${FAST_EMBED_MS} ms) a batch waits only when a request came in the last ${FAST_EMBED_MS} ms of`,
    `its window, which at ${HIGH_RATE_PER_SECOND} requests/s is most windows (p50 ${ms(fastBefore.p50)} -> ${ms(fastAfter.p50)} ms, p95 ${ms(fastBefore.p95)} -> ${ms(fastAfter.p95)} ms): embed-ahead`,
    'cannot take off the path the call made for a window\'s last request. The same texts are embedded either way (one embedding',
    'per distinct text); embed-ahead makes more, smaller calls (one per tick with new texts instead of one per',
    'batch): keep it off (`embedAhead: false`) for an API priced or rate-limited per call.',
  ].join('\n');
  return {
    title: 'Embed-ahead',
    summary: `Embed-ahead (embedder 30 ms, window 20 ms, execute 40 ms, virtual time): p50 ${ms(before.p50)} -> ${ms(after.p50)} ms, p95 ${ms(before.p95)} -> ${ms(after.p95)} ms.`,
    markdown,
    lastLine,
  };
}

// Run alone: `npx tsx bench/embedAhead.bench.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  await embedAheadBench();
}
