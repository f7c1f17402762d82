import type { NearIndex } from '../dedup/strategy.js';
import type { Outcome } from './batchRun.js';
import type { Envelope } from './envelope.js';
import {
  changesWhatIsShared,
  DONE,
  PendingSlot,
  SENT,
  STOPPING,
  SlotTable,
  stateOf,
  type CacheEntry,
} from './inFlight.js';
import type { ResultCacheFeature } from './resultCache.js';

/** How a request that shared another's execution is answered: its outcome, the batch, and `deduplicated: true`. */
export type SharedAnswer<E> = (envelope: E, outcome: Outcome<unknown>, batchId: number) => void;

/**
 * The slot record a request leads or follows, kept on the request itself (see `Envelope.shared`); undefined
 * for one that leads its slot bare (see `SlotTable.add`).
 */
function recordOf<E extends Envelope<unknown>>(envelope: E): PendingSlot<E> | undefined {
  const { shared } = envelope;
  return shared instanceof PendingSlot ? (shared as PendingSlot<E>) : undefined;
}

/**
 * The requests that equal requests may share, by slot, under the settings in effect: each one pending (waiting in
 * the queue, or sent) until its outcome, with the requests that joined it. Joined while it waited (followers),
 * they go into its batch with it, as the duplicates of one batch always have; joined once it was sent (waiters,
 * `dedupInFlight`), they get its outcome.
 *
 * Which joins the settings allow is the engine's decision; this keeps the records. A leader and its followers
 * point to their record (`Envelope.shared`), so nothing is looked up by request. Followers are held by nothing
 * else until their leader's batch forms, and waiters until its outcome: `dispose` hands them back.
 */
export class SharedSlots<T, R, E extends Envelope<T>> {
  private table: SlotTable<E, R>;
  /** Records with followers or waiters, held by nothing else (for `dispose`). */
  private readonly joined = new Set<PendingSlot<E>>();
  /** What watches a follower's deadline and signal while it waits (only for those that have one). */
  private readonly watches = new Map<E, () => void>();
  private following = 0;

  /**
   * @param nearIndex a new index of cached results' vectors, under the settings in effect, when the result cache
   *   is semantic (one per table: a change of what is equal starts both anew)
   */
  constructor(
    private readonly resultCache: ResultCacheFeature | undefined,
    private readonly answerShared: SharedAnswer<E>,
    private readonly now: () => number,
    private readonly nearIndex: () => NearIndex<CacheEntry<R>> | undefined = () => undefined,
  ) {
    this.table = this.newTable();
  }

  private newTable(): SlotTable<E, R> {
    // The cache's code comes with its feature object (`resultCache()`), where it is given.
    return new SlotTable<E, R>(this.resultCache?.create(this.nearIndex()));
  }

  /** The table of the settings in effect. */
  get current(): SlotTable<E, R> {
    return this.table;
  }

  /** Requests waiting with an equal one in the queue: waiting for a batch, though they take no place in the queue. */
  get followers(): number {
    return this.following;
  }

  /** Options changed: when dedup may now judge differently, nothing pending or cached so far is shared with what comes. */
  configured(changed: readonly string[]): void {
    if (changesWhatIsShared(changed)) this.table = this.newTable();
  }

  /**
   * `envelope` takes the slot `pending` (computed for it at arrival) and is about to be queued.
   * @param keep keep `pending` as its record now (its queue place is needed, or its result is cached); otherwise
   *   the request leads the slot bare (`SlotTable.add`), and a record is made only when an equal request joins it (`recordFor`)
   * @return whether `pending` is its record
   */
  lead(pending: PendingSlot<E>, envelope: E, keep: boolean): boolean {
    if (!keep && this.table.cache === undefined) {
      envelope.shared = this.table;
      this.table.add(pending, envelope);
      return false;
    }
    this.record(pending, envelope);
    return true;
  }

  private record(pending: PendingSlot<E>, leader: E): void {
    pending.leader = leader;
    pending.table = this.table as SlotTable<E, unknown>;
    leader.shared = pending;
    this.table.add(pending);
  }

  /**
   * The record of a pending holder found in the table in effect, that a request is about to join: made from
   * `slot` (that request's, equal to the holder's) when the holder leads bare.
   */
  recordFor(holder: PendingSlot<E> | E, slot: PendingSlot<E>): PendingSlot<E> {
    if (holder instanceof PendingSlot) return holder as PendingSlot<E>;
    slot.state = stateOf(holder, this.table);
    this.record(slot, holder);
    return slot;
  }

  /**
   * The leader's batch formed, when it leads its slot bare: equal requests now join its execution (with
   * `dedupInFlight`), through a record made then.
   * @return the table it led under, or undefined when it leads no slot bare
   */
  sentBare(envelope: E): object | undefined {
    const { shared } = envelope;
    if (!(shared instanceof SlotTable)) return undefined;
    envelope.shared = SENT;
    return shared;
  }

  /** The record `envelope` leads, while it leads one. */
  ledBy(envelope: E): PendingSlot<E> | undefined {
    const pending = recordOf(envelope);
    return pending !== undefined && pending.leader === envelope ? pending : undefined;
  }

  /** `envelope` joins `pending` while it waits, watched by `unwatch` (its deadline and signal) if it has any. */
  follow(pending: PendingSlot<E>, envelope: E, unwatch: (() => void) | undefined): void {
    (pending.followers ??= []).push(envelope);
    envelope.shared = pending;
    this.following++;
    this.joined.add(pending);
    if (unwatch) this.watches.set(envelope, unwatch);
  }

  /**
   * A follower leaves before its leader's batch forms (its deadline passed, its signal aborted, or its owner
   * answered it): it is no longer sent with it.
   * @return false when it was no follower (any more)
   */
  leave(envelope: E): boolean {
    const pending = recordOf(envelope);
    if (pending === undefined || pending.leader === envelope) return false;
    envelope.shared = undefined;
    this.unwatch(envelope);
    const followers = pending.followers;
    const i = followers ? followers.indexOf(envelope) : -1;
    if (i < 0) return false;
    followers!.splice(i, 1);
    this.following--;
    return true;
  }

  /** `envelope` joins the execution of `pending` (`dedupInFlight`). */
  wait(pending: PendingSlot<E>, envelope: E): void {
    (pending.waiters ??= []).push(envelope);
    this.joined.add(pending);
  }

  /**
   * The leader's batch formed: no request joins it as a follower any more; equal requests wait for its outcome
   * from now on (with `dedupInFlight`; without it, a new request takes the slot).
   * @return its followers that still want an answer, in arrival order (their watches stopped: they are sent)
   */
  sent(pending: PendingSlot<E>): E[] | undefined {
    pending.state = SENT;
    const followers = pending.followers;
    if (followers === undefined) return undefined;
    pending.followers = undefined;
    // No request waits for its outcome yet: waiters join a record once it is sent (`stateOf` SENT), after this.
    this.joined.delete(pending);
    this.following -= followers.length;
    let kept = 0;
    for (const follower of followers) {
      follower.shared = undefined;
      this.unwatch(follower);
      if (follower.answered !== true) followers[kept++] = follower;
    }
    followers.length = kept;
    return kept > 0 ? followers : undefined;
  }

  /**
   * A batch that no request waited for any more was not sent (every caller left while it was deduplicated): its
   * slots are done, so an equal request that comes later is executed, not joined to an execution that never comes.
   */
  forgone(items: readonly E[]): void {
    for (const item of items) this.settled(item, false, undefined, 0, true);
  }

  /**
   * The execution `envelope` leads is being stopped, and its requests will be answered with the error that stops
   * it: called before its signal aborts, so an equal request sent from an abort listener (a retry) takes the slot
   * and is executed anew instead of joining, and getting, that error. Those that joined before still get it.
   */
  stopping(envelope: E): void {
    if (envelope.shared === SENT) {
      envelope.shared = undefined;
      return;
    }
    // A request of a call being stopped leads its record only once sent: SENT, it takes no join from now on.
    const pending = this.ledBy(envelope);
    if (pending !== undefined) pending.state = STOPPING;
  }

  /**
   * A request of a batch has its outcome. When it leads a slot, the slot is done, the outcome is cached (a
   * fulfilled one of a request that was not itself a duplicate), and every waiter gets it.
   */
  settled(envelope: E, ok: boolean, valueOrError: unknown, batchId: number, deduplicated: boolean): void {
    if (envelope.shared === SENT) {
      envelope.shared = undefined;
      return;
    }
    // A record it leads is SENT or STOPPING: a request has an outcome only once sent, and its record is led until then.
    const pending = this.ledBy(envelope);
    if (pending === undefined) return;
    envelope.shared = undefined;
    pending.state = DONE;
    pending.leader = undefined;
    const { table } = pending;
    if (ok && !deduplicated) table!.cache?.store(pending, valueOrError, this.now(), pending.probe);
    pending.probe = undefined;
    const waiters = pending.waiters;
    if (waiters === undefined) return;
    pending.waiters = undefined;
    this.joined.delete(pending);
    const outcome: Outcome<unknown> = ok ? { ok: true, value: valueOrError } : { ok: false, error: valueOrError };
    for (const waiter of waiters) this.answerShared(waiter, outcome, batchId);
  }

  /**
   * A waiting leader left the queue unanswered by a batch (deadline, abort, withdrawal).
   * @return its record, when it has followers to promote
   */
  dropped(envelope: E): PendingSlot<E> | undefined {
    if (envelope.shared instanceof SlotTable) {
      // Led bare: the slot is free again.
      envelope.shared = undefined;
      return undefined;
    }
    // The record it leads, QUEUED: a request leaves the queue unbatched only while it waits there.
    const pending = this.ledBy(envelope);
    if (pending === undefined) return undefined;
    envelope.shared = undefined;
    if (pending.followers === undefined) {
      this.done(pending);
      return undefined;
    }
    // Every follower may have left already: promoteNext then finds none, and the slot is done.
    return pending;
  }

  /**
   * The next follower of a dropped leader, to take its place: it leads the record from now on (same slot, same
   * table), and is watched by the queue once readmitted. Undefined when none is left; the slot is then done.
   */
  promoteNext(pending: PendingSlot<E>): E | undefined {
    const followers = pending.followers!;
    while (followers.length > 0) {
      const follower = followers.shift()!;
      this.following--;
      this.unwatch(follower);
      if (follower.answered === true) {
        follower.shared = undefined;
        continue;
      }
      pending.leader = follower;
      return follower;
    }
    this.done(pending);
    return undefined;
  }

  /** A promoted follower could not be queued (its signal had aborted, say): it leads nothing. */
  unlead(envelope: E): void {
    envelope.shared = undefined;
  }

  /** True when a request not yet answered waits for the execution of one of `items`. */
  awaited(items: readonly E[]): boolean {
    if (this.joined.size === 0) return false;
    for (const item of items) {
      const waiters = this.ledBy(item)?.waiters;
      if (waiters !== undefined && waiters.some((waiter) => waiter.answered !== true)) return true;
    }
    return false;
  }

  /** Stops every watch and forgets everything; returns the followers and waiters, held by nothing else. */
  dispose(): E[] {
    const held: E[] = [];
    for (const pending of this.joined) {
      if (pending.followers) for (const follower of pending.followers) held.push(follower);
      if (pending.waiters) for (const waiter of pending.waiters) held.push(waiter);
    }
    for (const stop of this.watches.values()) stop();
    this.watches.clear();
    this.joined.clear();
    this.following = 0;
    return held;
  }

  private done(pending: PendingSlot<E>): void {
    pending.state = DONE;
    pending.leader = undefined;
    pending.followers = undefined;
    pending.place = undefined;
    this.joined.delete(pending);
  }

  private unwatch(envelope: E): void {
    const stop = this.watches.get(envelope);
    if (stop === undefined) return;
    this.watches.delete(envelope);
    stop();
  }
}
