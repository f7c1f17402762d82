/**
 * Soak: 200,000 requests through `createBatcher` on real timers, against a backend that answers, fails, stalls past
 * `processingTimeoutMs`, returns the wrong number of results or throws, with per-call deadlines and aborts mixed in.
 * It asserts counts only (never durations): every request settles exactly once, answered ones with their own
 * answer, equal requests of one tenant share one execution (192 distinct (key, tenant) pairs in 200,000 requests:
 * fewer than a fifth are executed, about a twentieth in practice), and the batcher ends empty. Bounded: requests
 * go in chunks, and the stalls are short real timeouts.
 */
import { describe, expect, it } from 'vitest';
import { BatchResultMismatchError, BatchTimeoutError, createBatcher, createBatchStats, type ExecuteContext } from '../src/index.js';

const REQUESTS = 200_000;
const CHUNK = 4_000;
const PROCESSING_TIMEOUT_MS = 15;

interface Req {
  readonly id: number;
  readonly key: number;
}

interface Answer {
  readonly key: number;
  readonly tenant: string;
}

type Behaviour = 'ok' | 'reject' | 'stall' | 'mismatch' | 'throw';

/** Mostly healthy, with every failure mode recurring: the pattern repeats every 20 calls. */
function behaviourOf(call: number): Behaviour {
  const slot = call % 20;
  if (slot === 3) return 'reject';
  if (slot === 7) return 'stall';
  if (slot === 11) return 'mismatch';
  if (slot === 15) return 'throw';
  return 'ok';
}

const tenantOf = (id: number) => `tenant-${id % 3}`;

/** Resolves after `ms` of real time, or rejects as soon as the batch is aborted (so no timer outlives it). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

describe('soak', () => {
  it(`settles ${REQUESTS.toLocaleString('en')} requests exactly once against a failing, stalling, mismatching backend`, async () => {
    const stats = createBatchStats();
    let calls = 0;
    const behaviours = new Map<Behaviour, number>();
    // The tenant travels in the request id only: the batcher must keep scopes apart from process(..., { scope }).
    const batcher = createBatcher<Req, Answer>({
      windowMs: 1,
      maxSize: 256,
      concurrency: 8,
      processingTimeoutMs: PROCESSING_TIMEOUT_MS,
      key: (r) => String(r.key),
      stats,
      execute: (items: Req[], { signal }: ExecuteContext): Promise<Answer[]> => {
        const behaviour = behaviourOf(calls++);
        behaviours.set(behaviour, (behaviours.get(behaviour) ?? 0) + 1);
        const answers = items.map((r): Answer => ({ key: r.key, tenant: tenantOf(r.id) }));
        switch (behaviour) {
          case 'ok':
            return Promise.resolve(answers);
          case 'reject':
            return Promise.reject(new Error('backend unavailable'));
          case 'stall':
            return sleep(PROCESSING_TIMEOUT_MS * 4, signal).then(() => answers);
          case 'mismatch':
            return Promise.resolve(answers.slice(1));
          case 'throw':
            throw new Error('backend threw'); // synchronously, before returning a promise
        }
      },
    });

    let fulfilled = 0;
    let wrongAnswers = 0;
    const errors = new Map<string, number>();
    const count = (name: string) => errors.set(name, (errors.get(name) ?? 0) + 1);
    const settlements: Promise<void>[] = [];
    for (let start = 0; start < REQUESTS; start += CHUNK) {
      for (let id = start; id < Math.min(start + CHUNK, REQUESTS); id++) {
        // Equal (key, tenant) pairs every 192 ids: duplicates arrive while an equal request waits or executes.
        const request: Req = { id, key: id % 64 };
        const controller = id % 101 === 0 ? new AbortController() : undefined;
        const promise = batcher.process(request, {
          scope: tenantOf(id),
          timeoutMs: id % 97 === 0 ? 1 : undefined,
          signal: controller?.signal,
        });
        controller?.abort(new Error('caller went away'));
        settlements.push(
          promise.then(
            (answer) => {
              fulfilled++;
              if (answer.key !== request.key || answer.tenant !== tenantOf(id)) wrongAnswers++;
            },
            (error: unknown) => {
              if (error instanceof BatchTimeoutError) count('timeout');
              else if (error instanceof BatchResultMismatchError) count('mismatch');
              else if (error instanceof Error) count(error.message);
              else count('other');
            },
          ),
        );
      }
      // Let timers and promise reactions run between chunks, as requests from many callers would.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await batcher.close();
    await Promise.all(settlements);

    const rejected = [...errors.values()].reduce((a, b) => a + b, 0);
    expect(fulfilled + rejected).toBe(REQUESTS);
    expect(wrongAnswers).toBe(0);
    expect(errors.get('other')).toBeUndefined();
    // Every failure mode happened, and each surfaced as its own error.
    expect(errors.get('timeout')).toBeGreaterThan(0);
    expect(errors.get('mismatch')).toBeGreaterThan(0);
    expect(errors.get('backend unavailable')).toBeGreaterThan(0);
    expect(errors.get('backend threw')).toBeGreaterThan(0);
    expect(errors.get('caller went away')).toBeGreaterThan(0);
    expect(fulfilled).toBeGreaterThan(REQUESTS / 2);
    for (const behaviour of ['ok', 'reject', 'stall', 'mismatch', 'throw'] as const) expect(behaviours.get(behaviour)).toBeGreaterThan(0);

    const snapshot = stats.snapshot();
    expect(snapshot.totalRequests).toBe(REQUESTS);
    expect(snapshot.queueDepth).toBe(0);
    expect(snapshot.inFlight).toBe(0);
    // Real savings, from a model of the stream: only 64 keys x 3 tenants = 192 distinct (key, tenant) pairs ever
    // arrive, so a backend call never holds more than 192 items (never two equal ones), and nearly every request
    // shares an equal one's execution: merged while it waited for its batch (deduplicated) or joined it in flight.
    const DISTINCT = 64 * 3;
    expect(snapshot.deduplicated).toBeGreaterThan(0);
    expect(snapshot.inFlightHits).toBeGreaterThan(0);
    expect(snapshot.executedItems).toBeLessThanOrEqual(DISTINCT * snapshot.totalBatches);
    // Without dedup nearly all 200,000 would be (measured with it: under 10,000); a fifth leaves room for timing.
    expect(snapshot.executedItems).toBeLessThan(REQUESTS / 5);
    // Every request is accounted for once: executed as an item of its own, merged, or joined in flight; only the
    // refused ones (aborted, or expired while waiting) may be none of these, and an aborted one that had joined
    // an execution in flight is counted there too.
    const shared = snapshot.executedItems + snapshot.deduplicated + snapshot.inFlightHits;
    expect(shared).toBeLessThanOrEqual(REQUESTS);
    expect(shared).toBeGreaterThanOrEqual(REQUESTS - errors.get('caller went away')! - snapshot.expired);
  }, 60_000);
});
