import { Subscription } from 'rxjs';
import { BatchTimeoutError, QueueFullError } from '../errors.js';
import { dedupNone } from '../dedup/exact.js';
import type { ProbedBatch } from '../dedup/strategy.js';
import type { DedupedBatch } from '../types.js';
import { allIndices, type AnswerFn, type Outcome } from './batchRun.js';
import { elapsed } from '../base/clock.js';
import { abortState } from '../base/signal.js';
import { BatchCollector, watchWaiting, type PushOptions } from './collector.js';
import type { Envelope } from './envelope.js';
import { BatchExecutor, type FanOutConfig } from './executor.js';
import { createBatchFeedback } from './feedback.js';
import { QUEUED, SENT, slotOf, stateOf, type PendingSlot } from './inFlight.js';
import { owedPart } from './owedPart.js';
import type { PipelineConfig } from './pipelineConfig.js';
import { SharedSlots } from './sharedSlots.js';
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
 *
 * Equal requests share one backend item from their arrival on (see `SharedSlots`): a request whose exact key
 * and scope equal those of one waiting in the queue follows it (it takes no place in the queue, so `maxSize`
 * and `minSize` count distinct items, and it goes into the batch with it), and one equal to a request already
 * sent joins its execution (`dedupInFlight`). Each request's slot is computed once, at its arrival; with exact
 * dedup, a batch of requests that did not join one another needs no dedup at batch time.
 */
export class BatchEngine<T, R, E extends Envelope<T>> {
  private readonly collector: BatchCollector<E>;
  private readonly executor: BatchExecutor<E, R>;
  private readonly shared: SharedSlots<T, R, E>;
  /** The priority each request entered with, for per-priority latency stats. */
  private readonly priorities: WeakMap<E, number> | undefined;
  private readonly teardown: (() => void)[] = [];
  /**
   * What the stages hold while the engine runs (the dedup step's `embedTimeoutMs` timers, embed-ahead's calls);
   * ended by `dispose`.
   */
  private readonly lifetime = new Subscription();
  /** Batches whose (asynchronous) dedup has not finished. */
  private readonly deduping = new Set<E[]>();
  /** True while a request without options of its own goes straight to the queue (see `push`); set by the constructor. */
  private plainArrivals!: boolean;
  private closed = false;
  /** Calls of `push` under way (a user function it calls may push again). */
  private pushing = 0;
  private collectorDrained = false;
  private ended = false;

  constructor(
    private readonly config: PipelineConfig<T, R>,
    private readonly output: EngineOutput<E>,
  ) {
    const { scheduler, stats } = config;
    const feedback = createBatchFeedback(config.fanOut.concurrency);
    // The adaptive window's code comes with its feature object (`adaptiveWindow()`), where it is given.
    const controller = config.adaptive?.create(scheduler, () => config.adaptiveSettings, config.window.windowMs, feedback);
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
    const shared = new SharedSlots<T, R, E>(
      config.resultCache,
      (envelope, outcome, batchId) => this.answerNow(envelope, outcome as Outcome<R>, batchId, true),
      () => scheduler.now(),
      // A semantic result cache's index, made by the deduper in effect (similarity dedup only).
      () => config.deduper.nearIndex?.(),
    );
    this.shared = shared;
    // A batch's answer to a request that leads a slot is also the answer of the requests that joined it once sent
    // (even when its own caller was answered already, by its deadline say: they still want theirs).
    const answerFromBatch: AnswerFn<E> = (envelope, ok, valueOrError, batchId, deduplicated, latencyMs) => {
      answer(envelope, ok, valueOrError, batchId, deduplicated, latencyMs);
      // Stryker disable next-line ConditionalExpression,LogicalOperator: settled() ignores a request that leads no slot, and after dispose() no batch answers (executions aborted, slots disposed)
      if (envelope.shared !== undefined && !this.ended) shared.settled(envelope, ok, valueOrError, batchId, deduplicated);
    };

    let fanOutConfig: FanOutConfig<E, R>;
    const refreshFanOut = () => {
      feedback.concurrency = config.fanOut.concurrency;
      // Stryker disable next-line ConditionalExpression: made true, latencies are also collected for the feedback reports of a pipeline without an adaptive window, where only the controller reads them and there is none; made false it is killed (the adaptive window learns nothing).
      fanOutConfig = { ...(config.fanOut as FanOutConfig<E, R>), feedback, reportLatencies: controller !== undefined };
    };
    refreshFanOut();
    this.executor = new BatchExecutor<E, R>(
      () => fanOutConfig,
      answerFromBatch,
      () => this.checkEnd(),
      (envelope) => {
        if (envelope.shared !== undefined && !this.ended) shared.stopping(envelope);
      },
    );

    this.collector = new BatchCollector<E>({
      scheduler,
      arrivedAt: (envelope) => envelope.arrivedAt,
      settings: () => config.window,
      ...(controller && {
        windowMs: () => controller.windowFor(),
        replanMs: () => controller.current,
        onArrival: (now: number) => controller.observeArrival(now),
      }),
      // The heap's code comes with the feature object (`priorities()`), where it is given.
      heap: config.priorities?.heap<E>(),
      agingPerMs: config.agingPerMs,
      feedback,
      emit: (batch) => this.dedup(batch),
      onDrop: (envelope, error) => this.dropped(envelope, error),
      onDrained: () => {
        this.collectorDrained = true;
        this.checkEnd();
      },
    });
    const collector = this.collector;
    // Stryker disable next-line BlockStatement: plainArrivals only picks a fast path for requests with nothing to admit; left false, they take queue() with the same outcome
    const refreshArrivals = () => {
      this.plainArrivals =
        !config.sharing.atArrival && !config.prioritized && config.requestTimeoutMs === undefined && config.maxQueueSize === Infinity;
    };
    refreshArrivals();
    this.teardown.push(
      stats.attach({
        queueDepth: () => collector.size + shared.followers,
        windowMs: controller ? () => controller.current : () => config.window.windowMs,
      }),
      config.onChange((changed) => {
        shared.configured(changed);
        refreshFanOut();
        refreshArrivals();
        collector.refresh();
      }),
    );
  }

  private readonly answerNow: (envelope: E, outcome: Outcome<R>, batchId: number, deduplicated: boolean) => void;

  /**
   * Takes one request: answered from the cache, joined to an equal request waiting or executing, refused, or
   * queued.
   * @return where it waits, for `withdraw`, when it is `withdrawable` and was queued
   */
  push(envelope: E): QueueEntry<E> | undefined {
    return this.pushMade(envelope);
  }

  /**
   * `push(make(request))`, where making the envelope calls a user function (`signal(request)`).
   *
   * A user function called here (signal, key, scope, priority, text) may close the engine (close(), a source
   * that ends) or push again: the engine does not end before this request is queued (test/attack-*).
   */
  pushMade<V>(value: V, make?: (value: V) => E): QueueEntry<E> | undefined {
    this.pushing++;
    try {
      return this.take(make === undefined ? (value as unknown as E) : make(value));
    } finally {
      // Stryker disable next-line LogicalOperator: `||` only calls checkEnd() more often, and it returns at once unless the engine is closed with no push under way.
      if (--this.pushing === 0 && this.closed) this.checkEnd();
    }
  }

  private take(envelope: E): QueueEntry<E> | undefined {
    const { config } = this;
    if (
      this.plainArrivals &&
      envelope.signal === undefined &&
      envelope.withdrawable !== true &&
      envelope.priority === undefined
    ) {
      // Nothing to admit: no dedup before batch time, no cache, no priority, no deadline, no signal, no queue bound.
      config.stats.recordRequests(1);
      config.deduper.arrived?.(envelope, this.lifetime);
      // Unsubscribed from inside `text` or `scope` (embed-ahead reads them): the collector is disposed of.
      if (this.ended) return undefined;
      this.collector.push(envelope);
      return undefined;
    }
    config.stats.recordRequests(1);
    if (envelope.priority !== undefined && !config.prioritized) {
      // Before the cache and the joins too: the call is refused whatever could answer it.
      this.refuse(envelope, config.unusedPriority(envelope.priority));
      return undefined;
    }
    if (!config.sharing.atArrival) return this.queue(envelope, undefined);
    const aborted = envelope.signal && abortState(envelope.signal, config.where);
    if (aborted) {
      this.refuse(envelope, aborted.reason);
      return undefined;
    }
    const { grouping } = config;
    let slot: PendingSlot<E>;
    try {
      slot = slotOf(grouping, envelope);
    } catch (error) {
      // Its key or scope is unusable: the request is rejected here, where that is first found.
      this.refuse(envelope, error);
      return undefined;
    }
    if (config.prioritized) {
      // Every request's, wherever it goes: a broken priority(request) is found whether or not an equal request
      // happens to be pending.
      try {
        this.priorities!.set(envelope, config.priorityOf(envelope));
      } catch (error) {
        this.refuse(envelope, error);
        return undefined;
      }
    }
    // Unsubscribed from inside key, scope or priority: nothing is owed any more, and nothing may be set.
    if (this.ended || this.leftInside(envelope)) return undefined;
    // A configure() from inside key, scope or priority: the slot is of the settings before it. The request
    // shares nothing at arrival; the batch's dedup, under the settings in effect, decides.
    if (config.grouping !== grouping) return this.queue(envelope, undefined);
    const table = this.shared.current;
    if (table.cache) {
      const hit = table.cache.cached(slot, config.scheduler.now());
      if (hit) {
        config.stats.recordCacheHit();
        this.answerNow(envelope, { ok: true, value: hit.value }, 0, true);
        return undefined;
      }
    }
    const holder = table.holderOf(slot);
    if (holder !== undefined) {
      const { sharing } = config;
      const state = stateOf(holder, table);
      if (state === QUEUED && sharing.joinsWaiting) {
        this.follow(this.shared.recordFor(holder, slot), envelope);
        return undefined;
      }
      if (state === SENT && sharing.joinsInFlight) {
        this.shared.wait(this.shared.recordFor(holder, slot), envelope);
        config.stats.recordInFlightHit();
        return undefined;
      }
    }
    // Nothing it may join holds its slot (or what held it is done): it takes the slot, for the next equal ones.
    return this.queue(envelope, slot);
  }

  /**
   * Its owner answers a request now with `error` (the caller's own deadline passed, or it aborted), and it is
   * counted now. Still queued, it leaves the queue and is never sent (an equal request that joined it takes its
   * place). Already sent (or joined to an equal request), whatever it joined goes on for the requests that share
   * it; its own outcome is dropped.
   *
   * @param place what `push` returned for it
   * @param stop false while the caller withdraws more requests at once (a call's abort or deadline): it calls
   *   `withdrawn()` after the last, so that no execution is stopped, and its slot given to the next batch, while
   *   a request of the same call still waits to be withdrawn (it would be sent after its caller left)
   */
  withdraw(envelope: E, place: QueueEntry<E> | undefined, error: unknown, stop = true): void {
    // Stryker disable next-line ConditionalExpression: made false, never reached with an answered request: createBatcher withdraws only requests not yet answered (withdrawAll skips answered ones; an aborted call's are fresh); made true it is killed.
    if (envelope.answered === true) return;
    // A follower promoted in place of its leader waits where the promotion put it.
    const pending = this.shared.ledBy(envelope);
    if (pending !== undefined && pending.state === QUEUED && pending.place !== undefined) place = pending.place;
    if (place === undefined || !this.collector.withdraw(place, error)) {
      if (this.shared.leave(envelope)) {
        // A follower was waiting for a batch too: it leaves as a queued request would (an expiry counts so).
        this.refuse(envelope, error);
      } else {
        this.answerNow(envelope, { ok: false, error }, 0, false);
        this.config.stats.changed();
      }
    }
    if (stop) this.withdrawn();
  }

  /** After `withdraw(..., false)`: once closed, stops what no request waits for any more (see `close`). */
  withdrawn(): void {
    if (this.closed) this.stopUnowed();
  }

  /**
   * No more requests: everything waiting is batched now, and `drained` follows the last answer. Executions
   * that no request waits for any more (every request in them answered by its owner, none joined to them) are
   * aborted now, and later ones as soon as that becomes true, so closing never waits for them.
   */
  close(): void {
    // Stryker disable next-line ConditionalExpression: made false, a second close() would close the collector and stop unowed executions again, but its owners close once (createBatcher behind its own closed flag, batchDedup on its source's one end); made true it is killed.
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
    for (const batch of this.deduping) for (const envelope of batch) held.push(envelope);
    this.deduping.clear();
    const stopped = this.executor.dispose();
    for (const envelope of stopped) held.push(envelope);
    for (const envelope of this.shared.dispose()) held.push(envelope);
    for (const stop of this.teardown) stop();
    this.teardown.length = 0;
    this.lifetime.unsubscribe();
    // A batch stopped here never reports, yet it may have answered (the last answer owed after close() disposes
    // the engine from inside that batch's run): stats$ is told, as the run would have told it.
    if (stopped.length > 0) this.config.stats.changed();
    return held;
  }

  /**
   * After the user functions a request's arrival calls (key, scope, priority): true when it must go no further.
   * Answered from inside them (its caller's call aborted there, and `withdraw` answered it), or its own signal
   * aborted there, which is refused now with the reason, as one aborted before it arrived: never joined to an
   * equal request, never queued (where the listener set later would never fire), so never sent.
   */
  private leftInside(envelope: E): boolean {
    if (envelope.answered === true) return true;
    const aborted = envelope.signal && abortState(envelope.signal, this.config.where);
    if (!aborted) return false;
    this.refuse(envelope, aborted.reason);
    return true;
  }

  /**
   * Admits a request to the queue and queues it.
   * @param slot its slot, when it is to lead it (equal requests then join it)
   */
  private queue(envelope: E, slot: PendingSlot<E> | undefined): QueueEntry<E> | undefined {
    const how = this.admit(envelope, false);
    if (how !== undefined && 'refuse' in how) {
      this.refuse(envelope, how.refuse);
      return undefined;
    }
    // Unsubscribed from inside priority(request) (admit): no timer or listener may be set for it.
    if (this.ended || this.leftInside(envelope)) return undefined;
    // Led before it is queued: a batch it fills at once must find its slot. Its record is kept from now on only
    // when a follower's priority may need its place in the queue; otherwise it is made when one joins.
    const kept = slot !== undefined && this.shared.lead(slot, envelope, this.config.prioritized);
    // Similarity dedup may embed its text while the window is open (embed-ahead).
    this.config.deduper.arrived?.(envelope, this.lifetime);
    // Unsubscribed from inside `text` or `scope` (embed-ahead reads them): no timer or listener may be set for it.
    if (this.ended) return undefined;
    const place = this.collector.push(envelope, how);
    if (kept && place !== undefined) slot.place = place;
    return place;
  }

  /**
   * A request joins an equal one waiting in the queue: it takes no place there, and goes into the batch with it.
   * Its own deadline and signal still take it out alone; a higher priority moves its leader up to it.
   */
  private follow(pending: PendingSlot<E>, envelope: E): void {
    const { config } = this;
    if (this.waiting >= config.maxQueueSize) {
      this.refuse(envelope, new QueueFullError(config.maxQueueSize));
      return;
    }
    const priority = this.priorities?.get(envelope);
    const timeoutMs = envelope.timeoutMs === undefined ? config.requestTimeoutMs : undefined;
    const { signal } = envelope;
    const unwatch =
      // Stryker disable next-line ConditionalExpression: made false, watchWaiting() is called with neither a deadline nor a signal, and returns no watcher for that (collector.ts); made true it is killed (a follower's own deadline and signal ignored).
      timeoutMs === undefined && signal === undefined
        ? undefined
        : watchWaiting(
            config.scheduler,
            { timeoutMs, deadline: timeoutMs === undefined ? undefined : envelope.arrivedAt + timeoutMs, signal },
            envelope.arrivedAt,
            (error) => this.followerLeft(envelope, error),
          );
    this.shared.follow(pending, envelope, unwatch);
    // Stryker disable next-line ConditionalExpression,LogicalOperator: made true (or `||`), raise() is reached without priorities too, where the queue has no heap and returns at once (with them every request's priority is recorded at arrival and a kept leader has its place); made false it is killed (test/mutation-engine-s16.test.ts).
    if (priority !== undefined && pending.place !== undefined) this.collector.raise(pending.place, priority, envelope.arrivedAt);
  }

  /** A follower's deadline passed or its signal aborted before its leader's batch formed: it leaves alone. */
  private followerLeft(envelope: E, error: unknown): void {
    // Stryker disable next-line LogicalOperator: `&&` refuses also a request that no longer follows, but its watcher is stopped when it stops following (shared.leave, sent with its leader), so leave() is true whenever this runs.
    if (!this.shared.leave(envelope) || envelope.answered === true) return;
    this.refuse(envelope, error);
  }

  /** A request left the queue unbatched (deadline, abort, withdrawal): answered, and an equal one takes its place. */
  private dropped(envelope: E, error: unknown): void {
    this.config.deduper.left?.(envelope, this.lifetime);
    this.refuse(envelope, error);
    // Unsubscribed from inside that answer (a `take` downstream): nothing may be queued or armed any more.
    if (this.ended) return;
    const pending = envelope.shared === undefined ? undefined : this.shared.dropped(envelope);
    if (pending !== undefined) this.promote(pending);
  }

  /**
   * The first follower that still wants an answer takes its withdrawn leader's place: queued as if it had never
   * joined, in the place its own arrival gives it (so `maxWaitMs` counts from its own arrival), with its own
   * priority, deadline and signal; the other followers follow it. A follower whose signal has aborted meanwhile
   * is answered with the reason and the next one is tried.
   */
  private promote(pending: PendingSlot<E>): void {
    for (let follower = this.shared.promoteNext(pending); follower !== undefined; follower = this.shared.promoteNext(pending)) {
      const how = this.admit(follower, true);
      if (how !== undefined && 'refuse' in how) {
        this.shared.unlead(follower);
        this.refuse(follower, how.refuse);
        if (this.ended) return;
        continue;
      }
      const place = this.collector.readmit(follower, follower.arrivedAt, how);
      // Stryker disable next-line ConditionalExpression,LogicalOperator: promoteNext() has just made this follower the leader, and a place left stale is read by nothing (withdraw() and follow() use it only for a withdrawable or prioritized leader, which readmit() always gives a place); made false it is killed.
      if (pending.leader === follower && place !== undefined) pending.place = place;
      const followers = pending.followers;
      // Stryker disable next-line ConditionalExpression: made true (the whole with priorities on, or the place or followers check): with priorities readmit() always gives a place, and a promoted record has its followers array; made false it is killed (test/mutation-engine2.test.ts).
      if (place !== undefined && followers !== undefined && this.config.prioritized) {
        for (const other of followers) {
          const priority = this.priorities!.get(other);
          // Stryker disable next-line ConditionalExpression: with priorities on, every request's priority is recorded at its arrival (push), so a follower's is never undefined; made false it is killed (test/mutation-engine2.test.ts).
          if (priority !== undefined) this.collector.raise(place, priority, other.arrivedAt);
        }
      }
      return;
    }
  }

  /**
   * @param promoted a follower taking its leader's place: that place was just freed, so the queue bound does
   *   not refuse it
   */
  private admit(envelope: E, promoted: boolean): PushOptions | { refuse: unknown } | undefined {
    const { config } = this;
    const { signal } = envelope;
    const aborted = signal && abortState(signal, config.where);
    if (aborted) return { refuse: aborted.reason };
    if (!promoted && this.waiting >= config.maxQueueSize) return { refuse: new QueueFullError(config.maxQueueSize) };
    // A deadline of the request's own is kept by its owner, and replaces requestTimeoutMs.
    const timeoutMs = envelope.timeoutMs === undefined ? config.requestTimeoutMs : undefined;
    const withdrawable = envelope.withdrawable;
    if (!config.prioritized) {
      if (timeoutMs === undefined && !signal && !withdrawable) return undefined;
      return { timeoutMs, deadline: timeoutMs === undefined ? undefined : envelope.arrivedAt + timeoutMs, signal, withdrawable };
    }
    // Computed at arrival already when the request's slot was (see `push`).
    let priority = this.priorities!.get(envelope);
    if (priority === undefined) {
      try {
        priority = config.priorityOf(envelope);
      } catch (error) {
        return { refuse: error };
      }
      this.priorities!.set(envelope, priority);
    }
    // No `{ priority }` alone for a request with neither deadline nor signal: the queue keeps every entry findable
    // with priorities, and the undefined fields below watch nothing, so the shortcut was the same answer.
    return {
      priority,
      timeoutMs,
      deadline: timeoutMs === undefined ? undefined : envelope.arrivedAt + timeoutMs,
      signal,
      withdrawable,
    };
  }

  /** Requests waiting for a batch: queued, or following an equal one that is (what `maxQueueSize` bounds). */
  private get waiting(): number {
    return this.collector.size + this.shared.followers;
  }

  private refuse(envelope: E, error: unknown): void {
    if (error instanceof BatchTimeoutError) this.config.stats.recordExpired();
    this.answerNow(envelope, { ok: false, error }, 0, false);
    this.config.stats.changed();
  }

  /**
   * A batch of queued requests formed: each leader's followers join it, and it is deduplicated. Requests that
   * did not join one another at arrival are distinct under exact dedup, so such a batch is not keyed again.
   */
  private dedup(leaders: E[]): void {
    const { config, shared } = this;
    let followers: E[] | undefined;
    let followed: number[] | undefined;
    let distinct = config.sharing.exactOnly;
    const table = shared.current;
    for (let i = 0; i < leaders.length; i++) {
      const leader = leaders[i]!;
      // Stryker disable next-line ConditionalExpression,BlockStatement: made false (or its block emptied), a leader of no slot goes down the checks below, which find no record for it (sentBare and ledBy return undefined) and clear `distinct` the same; made true it is killed (followers never joined).
      if (leader.shared === undefined) {
        // Leads no slot (nothing was shared at its arrival): it may equal another leader.
        distinct = false;
        continue;
      }
      const bare = shared.sentBare(leader);
      // Stryker disable next-line ConditionalExpression,BlockStatement: made false (or its block emptied), a leader sent bare goes on to ledBy(), which finds no record for it (nothing joined it), so `distinct` is cleared and the batch is deduplicated again: the same answer, only slower; made true it is killed.
      if (bare !== undefined) {
        // Led bare: nothing joined it. Led under other settings, it may equal another leader under these.
        // Stryker disable next-line ConditionalExpression: made true, `distinct` is cleared and the batch goes through the deduper, which finds the same leaders: the same answer, slower; made false it is killed (test/configure-followers.test.ts).
        if (bare !== table) distinct = false;
        continue;
      }
      const pending = shared.ledBy(leader);
      // Stryker disable next-line ConditionalExpression,LogicalOperator,BlockStatement: never true: a leader in a forming batch that holds `shared` and was not sent bare leads its record (ledBy), which stays QUEUED until shared.sent() below; made false the tests pass, as `pending.table` would throw if it ever were.
      if (pending === undefined || pending.state !== QUEUED) {
        // Stryker disable next-line BooleanLiteral: never reached (see the line above).
        distinct = false;
        continue;
      }
      // Led under other settings: under these, it may equal another leader (what joined it then follows it as
      // `~i`: see joinFollowers).
      const older = pending.table !== table;
      // Stryker disable next-line ConditionalExpression: made true, `distinct` is cleared and the batch goes through the deduper, which finds the same leaders: the same answer, slower; made false it is killed (test/mutation-engine2.test.ts).
      if (older) distinct = false;
      const joined = shared.sent(pending);
      if (joined === undefined) continue;
      followers ??= [];
      followed ??= [];
      for (const follower of joined) {
        followers.push(follower);
        followed.push(older ? ~i : i);
      }
    }
    let out: DedupedBatch<E> | Promise<DedupedBatch<E>>;
    try {
      // With dedup off too every item leads itself: the shared [0, ..., n - 1] instead of dedupNone's own.
      out =
        // Stryker disable next-line ConditionalExpression: made false (or either side), the batch goes through the deduper, which finds the same leaders (dedupNone leads each item by itself; exact dedup finds no two equal among requests that did not join at arrival); made true it is killed.
        distinct || config.deduper === dedupNone
          ? everyItemLeads(leaders)
          : (config.deduper(leaders, this.lifetime) as DedupedBatch<E> | Promise<DedupedBatch<E>>);
    } catch (error) {
      // The dedupers fall back instead of throwing; reaching here is a bug. The batch is held by nothing else.
      this.fail(error, followers === undefined ? leaders : leaders.concat(followers));
      return;
    }
    // The deduper runs user functions (`key`, `scope`, `text`, `embed`, `metric`, `mergeGuard`, `dedupFunction`);
    // one that unsubscribed has disposed of the engine: this batch is sent nowhere.
    if (this.ended) return;
    if (out instanceof Promise) this.dedupLater(out, leaders, followers, followed);
    else this.execute(followers === undefined ? out : joinFollowers(out, followers, followed!));
  }

  /**
   * The rest of `dedup` for a deduper that answers later (similarity dedup): apart, so that the common,
   * synchronous path makes no closure per batch.
   */
  private dedupLater(out: Promise<DedupedBatch<E>>, leaders: E[], followers: E[] | undefined, followed: number[] | undefined): void {
    const items = followers === undefined ? leaders : leaders.concat(followers);
    this.deduping.add(items);
    out.then(
      (batch) => {
        if (this.ended) return;
        this.deduping.delete(items);
        if (this.unowed(items)) {
          // Every caller left (deadline, abort) while the batch was being deduplicated: nothing is sent.
          this.shared.forgone(items);
          this.executor.forgo();
        } else {
          this.execute(followers === undefined ? batch : joinFollowers(batch, followers, followed!));
        }
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

  private execute(deduped: DedupedBatch<E>): void {
    const { config, shared } = this;
    // What was answered while the batch was deduplicated (a deadline, an abort), and nobody else waits for, is not
    // sent. The semantic result cache, where the entry point wires it in, answers what it can; the rest is executed.
    const owed = owedPart(deduped, shared);
    const batch = owed === undefined || config.nearCache === undefined ? owed : config.nearCache(shared, owed, config, this.answerNow);
    // A near cached answer may have been the subscriber's last (a `take` downstream): the rest is executed no more.
    if (this.ended) return;
    if (batch === undefined) {
      this.executor.forgo();
      this.checkEnd();
      return;
    }
    this.config.stats.recordDedup(batch);
    this.executor.submit(batch);
    if (this.closed) this.stopUnowed();
  }

  /** After `close()`: stops the executions, and drops the batches waiting for a slot, that no request waits for. */
  private stopUnowed(): void {
    this.executor.stopUnowed((items) => !this.unowed(items));
  }

  /** True when no request waits for any of `items`: each was answered already, and none was joined in flight. */
  private unowed(items: readonly E[]): boolean {
    return items.every((envelope) => envelope.answered === true) && !this.shared.awaited(items);
  }

  private checkEnd(): void {
    // `collector.size` as well as the flag: a push under way when the source ended (from inside `key` or
    // `signal`) queues after the collector reported itself drained. `shared.followers`: a leader that left the
    // queue unbatched (deadline, abort) is refused before its follower takes its place, and the source may end
    // inside that refusal, with the follower still owed its answer.
    if (
      this.ended ||
      !this.closed ||
      !this.collectorDrained ||
      this.collector.size > 0 ||
      this.pushing > 0 ||
      this.deduping.size > 0 ||
      this.shared.followers > 0 ||
      !this.executor.idle
    ) {
      return;
    }
    this.ended = true;
    this.dispose();
    this.output.drained();
  }
}

/** A batch of distinct requests: each leads itself (`leaderOf` is `[0, ..., n - 1]`, shared, never written). */
function everyItemLeads<E>(items: readonly E[]): DedupedBatch<E> {
  return { items, unique: items, leaderOf: allIndices(items.length) };
}

/**
 * The deduplicated batch of the leaders, with their followers after them: each follower shares its leader's
 * unique item (or its failure), and comes after it in the items, so it is answered as a duplicate
 * (`deduplicated: true`) and counted as one, as an equal request in the same batch always was.
 *
 * @param followed for each follower, the index of its leader in `batch.items`
 */
function joinFollowers<E>(batch: ProbedBatch<E>, followers: readonly E[], followed: readonly number[]): ProbedBatch<E> {
  const n = batch.items.length;
  const items = batch.items.concat(followers);
  const leaderOf = batch.leaderOf.slice();
  let unique = batch.unique;
  const failed = batch.failures;
  const failures = failed && new Map(failed);
  for (let k = 0; k < followers.length; k++) {
    let leader = followed[k]!;
    if (leader < 0) {
      // Joined under settings a configure() has changed since (`~leader`): equal to its leader under those
      // only. A leader these settings merged into another request is executed on its own, so that what joined
      // it is answered with its leader's result, not with that other request's (test/configure-followers.test.ts).
      leader = ~leader;
      const u = leaderOf[leader]!;
      if (u >= 0 && unique[u] !== batch.items[leader]) {
        if (unique === batch.unique) unique = unique.slice();
        leaderOf[leader] = (unique as E[]).push(batch.items[leader]!) - 1;
      }
    }
    leaderOf.push(leaderOf[leader]!);
    if (failures !== undefined && failed!.has(leader)) failures.set(n + k, failed!.get(leader));
  }
  // The unique items that were there are the same: so are their probes (semantic result cache), kept by the spread.
  return failures ? { ...batch, items, unique, leaderOf, failures } : { ...batch, items, unique, leaderOf };
}
