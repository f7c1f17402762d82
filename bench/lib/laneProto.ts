/**
 * PROTOTYPE (stop 20, H-LANE step 1): the hot path of a DataLoader-shaped lane for plain `process()` calls, to be
 * timed alone against DataLoader. Not wired into any entry point. Handles only: exact dedup (key -> index in the
 * open batch, and in the batches executing), `windowMs` (one timer per batch), `maxSize`, `concurrency` (a
 * formed batch waits for a free slot), the same BatchExecutor (processingTimeoutMs, the backend's signal, stats
 * per batch, latency per request).
 */
import type { Subscription } from 'rxjs';
import { arrivalClock } from '../../src/internal/arrivalClock.js';
import { allIndices } from '../../src/internal/batchRun.js';
import { BatchExecutor, type FanOutConfig } from '../../src/internal/executor.js';
import { createBatchFeedback } from '../../src/internal/feedback.js';
import { PipelineConfig, type BatchDedupOptions } from '../../src/internal/pipelineConfig.js';
import type { Envelope } from '../../src/internal/envelope.js';
import type { DedupedBatch } from '../../src/types.js';

class LaneRequest<T> implements Envelope<T> {
  /** Equal requests that joined this one while it executed. */
  joined: LaneRequest<T>[] | undefined = undefined;
  /** Set once this request's own result was delivered. */
  done = false;
  constructor(
    readonly request: T,
    readonly arrivedAt: number,
    readonly resolve: (value: unknown) => void,
  ) {}
}

interface OpenBatch<T> {
  readonly leaders: LaneRequest<T>[];
  followers: LaneRequest<T>[] | undefined;
  followed: number[] | undefined;
  readonly index: Map<unknown, number>;
  readonly windowEnd: number;
}

/**
 * Attribution only, each dropping a guarantee to see what it costs: `noLatency` records no per-request result in
 * the stats (no latency percentiles, no completed count); `bare` also skips the executor (no concurrency, no
 * processing timeout, no signal, no result checks): it calls `execute` and resolves in one loop, DataLoader's way.
 */
export type LaneVariant = 'full' | 'noLatency' | 'bare';

export function createLaneProto<T, R>(options: BatchDedupOptions<T, R>, variant: LaneVariant = 'full') {
  const config = new PipelineConfig<T, R>('createBatcher', options, undefined, undefined);
  const { scheduler, stats } = config;
  const clock = arrivalClock(scheduler);
  const feedback = createBatchFeedback(config.fanOut.concurrency);
  const dedup = config.sharing.joinsWaiting;
  const inFlight = config.sharing.joinsInFlight;
  const key = config.grouping.key as (e: Envelope<T>) => unknown;
  const plainKey = options.key === undefined;
  const fanOutConfig: FanOutConfig<LaneRequest<T>, R> = {
    ...(config.fanOut as unknown as FanOutConfig<LaneRequest<T>, R>),
    feedback,
    reportLatencies: false,
  };
  const answerOne = (request: LaneRequest<T>, ok: boolean, valueOrError: unknown, latencyMs: number) => {
    stats.recordResult(latencyMs, ok ? undefined : valueOrError, !ok);
    request.resolve(ok ? valueOrError : Promise.reject(valueOrError));
  };
  const executor = new BatchExecutor<LaneRequest<T>, R>(
    () => fanOutConfig,
    (request, ok, valueOrError, _batchId, _deduplicated, latencyMs) => {
      request.done = true;
      if (variant === 'full') stats.recordResult(latencyMs, ok ? undefined : valueOrError, !ok);
      request.resolve(ok ? valueOrError : Promise.reject(valueOrError));
      const joined = request.joined;
      if (joined !== undefined) {
        const now = scheduler.now();
        for (const other of joined) answerOne(other, ok, valueOrError, Math.max(0, now - other.arrivedAt));
      }
    },
    () => undefined,
  );
  /** Key maps of the batches sent, newest last, while any of their leaders is unanswered. */
  let sent: { index: Map<unknown, number>; leaders: LaneRequest<T>[] }[] = [];
  let open: OpenBatch<T> | undefined;
  const ready: OpenBatch<T>[] = [];
  /** One window timer, left to run out when its batch formed early (as the collector does): it serves the next. */
  let timer: Subscription | undefined;
  let timerAt = Infinity;

  function arm(at: number, now: number): void {
    if (timer !== undefined && timerAt <= at) return;
    timer?.unsubscribe();
    timerAt = at;
    timer = scheduler.schedule(() => {
      timer = undefined;
      timerAt = Infinity;
      const batch = open;
      if (batch === undefined) return;
      const firedAt = scheduler.now();
      if (firedAt >= batch.windowEnd || at >= batch.windowEnd) form(batch);
      else arm(batch.windowEnd, firedAt);
    }, Math.max(0, at - now));
  }

  feedback.onRelease(() => {
    while (ready.length > 0 && feedback.hasCapacity()) send(ready.shift()!);
  });

  function form(batch: OpenBatch<T>): void {
    if (open === batch) open = undefined;
    if (feedback.hasCapacity()) send(batch);
    else ready.push(batch);
  }

  function send(batch: OpenBatch<T>): void {
    feedback.reserve();
    const { leaders, followers, followed } = batch;
    stats.recordRequests(leaders.length + (followers?.length ?? 0));
    let deduped: DedupedBatch<LaneRequest<T>>;
    if (followers === undefined) {
      deduped = { items: leaders, unique: leaders, leaderOf: allIndices(leaders.length) };
    } else {
      const leaderOf = allIndices(leaders.length).concat(followed!);
      deduped = { items: leaders.concat(followers), unique: leaders, leaderOf };
    }
    if (inFlight) {
      sent = sent.filter((s) => s.leaders.some((l) => !l.done));
      sent.push({ index: batch.index, leaders });
    }
    stats.recordDedup(deduped);
    if (variant === 'bare') {
      const unique = deduped.unique;
      const requests = new Array<T>(unique.length);
      for (let i = 0; i < unique.length; i++) requests[i] = unique[i]!.request;
      void (options.execute(requests, undefined as never) as Promise<R[]>).then((values) => {
        feedback.release({ size: 0, executedItems: 0, durationMs: 0, latenciesMs: [], settledAt: 0 });
        for (let i = 0; i < unique.length; i++) {
          const leader = unique[i]!;
          leader.done = true;
          leader.resolve(values[i]);
          if (leader.joined !== undefined) for (const other of leader.joined) other.resolve(values[i]);
        }
        const items = deduped.items;
        for (let i = unique.length; i < items.length; i++) items[i]!.resolve(values[deduped.leaderOf[i]!]);
      });
      return;
    }
    executor.submit(deduped);
  }

  function process(request: T): Promise<R> {
    return new Promise<R>((resolve) => {
      const lane = new LaneRequest<T>(request, clock(), resolve as (value: unknown) => void);
      let batch = open;
      if (batch === undefined) {
        if (sent.length > 0) sent = sent.filter((s) => s.leaders.some((l) => !l.done));
        const now = lane.arrivedAt;
        const windowEnd = now + config.window.windowMs;
        batch = open = { leaders: [], followers: undefined, followed: undefined, index: new Map(), windowEnd };
        arm(windowEnd, now);
      }
      if (dedup) {
        // A string request with the default key is its own key (what the default key makes of it).
        const k = plainKey && typeof request === 'string' ? request : key(lane);
        const at = batch.index.get(k);
        if (at !== undefined) {
          (batch.followers ??= []).push(lane);
          (batch.followed ??= []).push(at);
          return;
        }
        if (inFlight) {
          for (let s = sent.length - 1; s >= 0; s--) {
            const i = sent[s]!.index.get(k);
            if (i === undefined) continue;
            const leader = sent[s]!.leaders[i]!;
            if (leader.done) break;
            (leader.joined ??= []).push(lane);
            stats.recordRequests(1);
            stats.recordInFlightHit();
            return;
          }
        }
        batch.index.set(k, batch.leaders.length);
      }
      batch.leaders.push(lane);
      if (batch.leaders.length >= config.window.maxSize) form(batch);
    });
  }

  return {
    process,
    close: async () => {
      if (open) form(open);
      executor.dispose();
    },
  };
}
