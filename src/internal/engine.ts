import { BatchTimeoutError, QueueFullError } from '../errors.js';
import type { DedupedBatch } from '../types.js';
import { AdaptiveWindow } from './adaptiveWindow.js';
import type { AnswerFn, Outcome } from './batchRun.js';
import { elapsed } from './clock.js';
import { BatchCollector, type PushOptions } from './collector.js';
import type { Envelope } from './envelope.js';
import { BatchExecutor, type FanOutConfig } from './executor.js';
import { createBatchFeedback } from './feedback.js';
import { changesWhatIsShared, InFlightTable, slotOf, type Slot } from './inFlight.js';
import type { PipelineConfig } from './pipelineConfig.js';
import type { QueueEntry } from './waitingQueue.js';

export interface EngineOutput<E> {
  /** One answer per request pushed, exactly once. */
  readonly answer: AnswerFn<E>;
  /** After `close()`: every request pushed has been answered. */
  readonly drained: () => void;
  /**
   * A defect (a dedup stage that rejected instead of falling back): nothing more will be answered. `held` is
   * every request the engine still held, some perhaps answered already, so the owner can answer the rest.
   */
  readonly failed: (error: unknown, held: E[]) => void;
}

/**
 * The whole pipeline as plain calls: collect, dedup, execute, fan out. `batchDedup` wraps it in an Observable
 * that turns answers into `BatchResult`s; `createBatcher` settles its promises straight from `answer`, so a
 * request crosses no operator and allocates no result object on its way.
 */
export class BatchEngine<T, R, E extends Envelope<T>> {
  private readonly collector: BatchCollector<E>;
  private readonly executor: BatchExecutor<E, R>;
  private readonly shortcut: Shortcut<E> | undefined;
  /** The priority each request entered with, for per-priority latency stats. */
  private readonly priorities: WeakMap<E, number> | undefined;
  private readonly teardown: (() => void)[] = [];
  /** Batches whose (asynchronous) dedup has not finished, and how to stop it (its embedding bound's timer). */
  private readonly deduping = new Map<E[], (() => void) | undefined>();
  /** True while a request without options of its own goes straight to the queue (see `push`). */
  private plainArrivals = false;
  private closed = false;
  private collectorDrained = false;
  private ended = false;

  constructor(
    private readonly config: PipelineConfig<T, R>,
    private readonly output: EngineOutput<E>,
  ) {
    const { scheduler, stats } = config;
    const feedback = createBatchFeedback(config.fanOut.concurrency);
    const controller = config.adaptive
      ? new AdaptiveWindow(scheduler, () => config.adaptiveSettings, config.window.windowMs)
      : undefined;
    // Registered before the collector's own listener, so the window is updated before the next batch forms.
    if (controller) this.teardown.push(feedback.onRelease((report) => controller.observe(report)));
    this.priorities = config.prioritized ? new WeakMap() : undefined;
    const priorities = this.priorities;

    const answer: AnswerFn<E> = (envelope, ok, valueOrError, batchId, deduplicated, latencyMs) => {
      // Its owner answered it already (see `withdraw`), and counted it then.
      if (envelope.answered === true) return;
      stats.recordResult(latencyMs, ok ? undefined : valueOrError, !ok, priorities?.get(envelope));
      output.answer(envelope, ok, valueOrError, batchId, deduplicated, latencyMs);
    };
    this.answerNow = (envelope, outcome, batchId, deduplicated) => {
      const latencyMs = elapsed(envelope.arrivedAt, scheduler.now());
      if (outcome.ok) answer(envelope, true, outcome.value, batchId, deduplicated, latencyMs);
      else answer(envelope, false, outcome.error, batchId, deduplicated, latencyMs);
    };
    this.shortcut = createShortcut(config, (envelope: E, outcome, batchId, shared) => this.answerNow(envelope, outcome, batchId, shared));

    const shortcut = this.shortcut;
    let fanOutConfig: FanOutConfig<E, R>;
    const refreshFanOut = () => {
      feedback.concurrency = config.fanOut.concurrency;
      fanOutConfig = {
        ...(config.fanOut as FanOutConfig<E, R>),
        feedback,
        reportLatencies: controller !== undefined,
        onItemsStarted: shortcut?.onItemsStarted,
        onItemSettled: shortcut?.onItemSettled,
      };
    };
    refreshFanOut();
    this.executor = new BatchExecutor<E, R>(() => fanOutConfig, answer, () => this.checkEnd());

    this.collector = new BatchCollector<E>({
      scheduler,
      arrivedAt: (envelope) => envelope.arrivedAt,
      settings: () => config.window,
      ...(controller && {
        windowMs: () => controller.windowFor(),
        onArrival: (now: number) => controller.observeArrival(now),
      }),
      prioritized: config.prioritized,
      agingPerMs: config.agingPerMs,
      feedback,
      emit: (batch) => this.dedup(batch),
      onDrop: (envelope, error) => this.refuse(envelope, error),
      onDrained: () => {
        this.collectorDrained = true;
        this.checkEnd();
      },
    });
    const collector = this.collector;
    const refreshArrivals = () => {
      this.plainArrivals =
        !this.shortcut && !config.prioritized && config.requestTimeoutMs === undefined && config.maxQueueSize === Infinity;
    };
    refreshArrivals();
    this.teardown.push(
      stats.attach({
        queueDepth: () => collector.size,
        windowMs: controller ? () => controller.current : () => config.window.windowMs,
      }),
      config.onChange((changed) => {
        shortcut?.configured(changed);
        refreshFanOut();
        refreshArrivals();
        collector.refresh();
      }),
    );
  }

  private readonly answerNow: (envelope: E, outcome: Outcome<R>, batchId: number, deduplicated: boolean) => void;

  /**
   * Takes one request: answered from the cache or an equal execution in flight, refused, or queued.
   * @return where it waits, for `withdraw`, when it is `withdrawable` and was queued
   */
  push(envelope: E): QueueEntry<E> | undefined {
    if (
      this.plainArrivals &&
      envelope.signal === undefined &&
      envelope.withdrawable !== true &&
      envelope.priority === undefined
    ) {
      // Nothing to admit: no cache, no priority, no deadline, no signal, no queue bound.
      this.config.stats.recordRequests(1);
      this.collector.push(envelope);
      return undefined;
    }
    if (envelope.priority !== undefined && !this.config.prioritized) {
      // Before the cache and in-flight table too: the call is refused whatever could answer it.
      this.config.stats.recordRequests(1);
      this.refuse(envelope, this.config.unusedPriority(envelope.priority));
      return undefined;
    }
    if (this.shortcut?.answered(envelope)) return undefined;
    this.config.stats.recordRequests(1);
    const how = this.admit(envelope);
    if (how === undefined) return this.collector.push(envelope);
    if ('refuse' in how) {
      this.refuse(envelope, how.refuse);
      return undefined;
    }
    return this.collector.push(envelope, how);
  }

  /**
   * Its owner answers a request now with `error` (the caller's own deadline passed, or it aborted), and it is
   * counted now. Still queued, it leaves the queue and is never sent. Already sent (or joined to an equal
   * request in flight), its execution goes on for the requests that share it; its own outcome is dropped.
   *
   * @param place what `push` returned for it
   */
  withdraw(envelope: E, place: QueueEntry<E> | undefined, error: unknown): void {
    if (envelope.answered === true) return;
    if (place === undefined || !this.collector.withdraw(place, error)) {
      this.answerNow(envelope, { ok: false, error }, 0, false);
      this.config.stats.changed();
    }
    if (this.closed) this.stopUnowed();
  }

  /**
   * No more requests: everything waiting is batched now, and `drained` follows the last answer. Executions
   * that no request waits for any more (every request in them answered by its owner, none joined to them) are
   * aborted now, and later ones as soon as that becomes true, so closing never waits for them.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.collector.close();
    this.stopUnowed();
  }

  /**
   * Stops everything at once: timers, listeners, calls in flight (aborted). Nothing is answered after this.
   * @return every request still held, some perhaps answered already (see `EngineOutput.failed`)
   */
  dispose(): E[] {
    this.ended = true;
    const held = this.collector.dispose();
    for (const [batch, cancel] of this.deduping) {
      cancel?.();
      for (const envelope of batch) held.push(envelope);
    }
    this.deduping.clear();
    for (const envelope of this.executor.dispose()) held.push(envelope);
    if (this.shortcut) for (const envelope of this.shortcut.dispose()) held.push(envelope);
    for (const stop of this.teardown) stop();
    this.teardown.length = 0;
    return held;
  }

  private admit(envelope: E): PushOptions | { refuse: unknown } | undefined {
    const { config } = this;
    const { signal } = envelope;
    if (signal?.aborted) return { refuse: signal.reason };
    if (this.collector.size >= config.maxQueueSize) return { refuse: new QueueFullError(config.maxQueueSize) };
    // A deadline of the request's own is kept by its owner, and replaces requestTimeoutMs.
    const timeoutMs = envelope.timeoutMs === undefined ? config.requestTimeoutMs : undefined;
    const withdrawable = envelope.withdrawable;
    if (!config.prioritized) {
      if (timeoutMs === undefined && !signal && !withdrawable) return undefined;
      return { timeoutMs, deadline: timeoutMs === undefined ? undefined : envelope.arrivedAt + timeoutMs, signal, withdrawable };
    }
    let priority: number;
    try {
      priority = config.priorityOf(envelope);
    } catch (error) {
      return { refuse: error };
    }
    this.priorities!.set(envelope, priority);
    if (timeoutMs === undefined && !signal && !withdrawable) return { priority };
    return {
      priority,
      timeoutMs,
      deadline: timeoutMs === undefined ? undefined : envelope.arrivedAt + timeoutMs,
      signal,
      withdrawable,
    };
  }

  private refuse(envelope: E, error: unknown): void {
    if (error instanceof BatchTimeoutError) this.config.stats.recordExpired();
    this.answerNow(envelope, { ok: false, error }, 0, false);
    this.config.stats.changed();
  }

  private dedup(items: E[]): void {
    let out: DedupedBatch<E> | Promise<DedupedBatch<E>>;
    try {
      out = this.config.deduper(items) as DedupedBatch<E> | Promise<DedupedBatch<E>>;
    } catch (error) {
      // The dedupers fall back instead of throwing; reaching here is a bug. The batch is held by nothing else.
      this.fail(error, items);
      return;
    }
    if (!(out instanceof Promise)) {
      this.execute(out);
      return;
    }
    this.deduping.set(items, (out as { cancel?: () => void }).cancel);
    out.then(
      (batch) => {
        if (this.ended) return;
        this.deduping.delete(items);
        this.execute(batch);
        this.checkEnd();
      },
      // The deduper falls back instead of rejecting; reaching here is a bug, so surface it.
      (error: unknown) => {
        if (!this.ended) this.fail(error);
      },
    );
  }

  /** A defect: stops everything and hands every request still held, and `alsoHeld`, to the owner. */
  private fail(error: unknown, alsoHeld: readonly E[] = []): void {
    const held = this.dispose();
    for (const envelope of alsoHeld) held.push(envelope);
    this.output.failed(error, held);
  }

  private execute(batch: DedupedBatch<E>): void {
    this.config.stats.recordDedup(batch);
    this.executor.submit(batch);
    if (this.closed) this.stopUnowed();
  }

  /** After `close()`: stops the executions, and drops the batches waiting for a slot, that no request waits for. */
  private stopUnowed(): void {
    const { shortcut } = this;
    this.executor.stopUnowed(
      (items) => items.some((envelope) => envelope.answered !== true) || (shortcut !== undefined && shortcut.awaited(items)),
    );
  }

  private checkEnd(): void {
    if (this.ended || !this.closed || !this.collectorDrained || this.deduping.size > 0 || !this.executor.idle) return;
    this.ended = true;
    this.dispose();
    this.output.drained();
  }
}

interface Shortcut<E> {
  /**
   * True when the request was answered: from the cache, by joining an execution in flight, or rejected because
   * its key or scope throws or returns what a key or scope may not be.
   */
  answered(envelope: E): boolean;
  onItemsStarted(items: readonly E[]): void;
  onItemSettled(item: E, outcome: Outcome<unknown>, batchId: number): void;
  /** True when a request not yet answered has joined the execution of one of `items`. */
  awaited(items: readonly E[]): boolean;
  /** Options changed: when dedup may now judge differently, nothing shared so far answers a new request. */
  configured(changed: readonly string[]): void;
  /** Forgets every waiter; returns the requests that were waiting on an execution in flight. */
  dispose(): E[];
}

/**
 * In-flight dedup and the result cache: answers a request from the cache, or attaches it to an equal request
 * already executing, before it is queued. Undefined when neither is enabled.
 *
 * A `configure()` that may change what is equal (key, scope, strategy...) starts a new table: requests that
 * joined an execution before it still get that execution's answer, but no request that arrives after it joins
 * an execution started before it, or is answered by a result cached before it. An execution started before
 * settles into its own, old table, so its result is not cached for the new settings either.
 */
function createShortcut<T, R, E extends Envelope<T>>(
  config: PipelineConfig<T, R>,
  answer: (envelope: E, outcome: Outcome<R>, batchId: number, shared: boolean) => void,
): Shortcut<E> | undefined {
  if (!config.dedupInFlight && !config.resultCache) return undefined;
  const newTable = () => new InFlightTable<R>(config.dedupInFlight, config.resultCache);
  let table = newTable();
  const { scheduler, stats } = config;
  /** The slot each executing item took, and the table (of the settings then) it took it in. */
  const slots = new WeakMap<E, { slot: Slot; table: InFlightTable<R> }>();
  /**
   * Requests waiting on an equal one in flight, with the slot (and table) they joined: held by nothing else, so a
   * defect must still find them.
   */
  const joined = new Map<E, { slot: Slot; table: InFlightTable<R> }>();
  return {
    answered(envelope) {
      if (envelope.signal?.aborted) return false;
      let slot: Slot;
      try {
        slot = slotOf(config.grouping, envelope);
      } catch (error) {
        // Its key or scope is unusable: the request is rejected here, where that is first found.
        stats.recordRequests(1);
        answer(envelope, { ok: false, error }, 0, false);
        return true;
      }
      const hit = table.cached(slot, scheduler.now());
      if (hit) {
        stats.recordRequests(1);
        stats.recordCacheHit();
        answer(envelope, { ok: true, value: hit.value }, 0, true);
        return true;
      }
      const waiter = (outcome: Outcome<R>, batchId: number) => {
        joined.delete(envelope);
        answer(envelope, outcome, batchId, true);
      };
      if (table.join(slot, waiter)) {
        joined.set(envelope, { slot, table });
        stats.recordRequests(1);
        stats.recordInFlightHit();
        return true;
      }
      return false;
    },
    onItemsStarted(items) {
      for (const item of items) {
        let slot: Slot;
        try {
          slot = slotOf(config.grouping, item);
        } catch {
          continue; // dedup answered it with the key's error; an item executing anyway is just not shared
        }
        slots.set(item, { slot, table });
        table.started(slot);
      }
    },
    onItemSettled(item, outcome, batchId) {
      const taken = slots.get(item);
      if (taken) taken.table.settled(taken.slot, outcome as Outcome<R>, batchId, scheduler.now());
    },
    configured(changed) {
      if (changesWhatIsShared(changed)) table = newTable();
    },
    awaited(items) {
      if (joined.size === 0) return false;
      return items.some((item) => {
        const taken = slots.get(item);
        if (!taken) return false;
        for (const [envelope, waits] of joined) {
          if (envelope.answered !== true && waits.table === taken.table && sameSlot(waits.slot, taken.slot)) return true;
        }
        return false;
      });
    },
    dispose() {
      const held = [...joined.keys()];
      joined.clear();
      return held;
    },
  };
}

function sameSlot(a: Slot, b: Slot): boolean {
  return a.scope === b.scope && a.encoded === b.encoded && a.key === b.key;
}
