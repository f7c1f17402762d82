import type { Grouping } from '../dedup/exact.js';
import type { NearIndex } from '../dedup/strategy.js';
import { customSlotKey, isEncoded, type DedupScope } from '../dedup/keys.js';
import type { QueueEntry } from './waitingQueue.js';

/**
 * Options of the result cache: fulfilled results reused by key and scope (exact), and with `semantic` by
 * similarity of text too. Off by default.
 */
export interface ResultCacheOptions {
  /** How long a result may be reused, in ms of the scheduler's clock; a clock that steps back drops it. */
  ttlMs: number;
  /**
   * Most results kept, exact and semantic together (a result is one entry, found by its key or by its text);
   * the least recently used leave first. Default 1000.
   */
  maxEntries?: number;
  /**
   * Also answer a request from a cached result of a similar text: same scope, equal in everything but the text,
   * similarity at least `dedupThreshold`, allowed by the merge guard (the rules of a merge within a batch).
   * Needs `dedupStrategy: 'embedding'` or `'hybrid'`, and the main entry point (not `rxjs-batch-dedup/lite`).
   * Default false: exact only.
   */
  semantic?: boolean;
}

/** Where a request's answer is shared: its scope, and its key as a primitive or as an array's or object's encoding. */
export interface Slot {
  readonly scope: DedupScope;
  /** True when `key` is the canonical encoding of an array or object key (see `isEncoded`). */
  readonly encoded: boolean;
  readonly key: unknown;
}

const fallbackSlotKey = /* @__PURE__ */ customSlotKey('dedupBy');

/**
 * The slot of a request, as the record it keeps if it comes to be shared (one object per request).
 * @throws the `TypeError` of a key or scope that throws or returns what it may not
 */
export function slotOf<T, E>(grouping: Grouping<T>, item: T): PendingSlot<E> {
  const { key, scope } = grouping;
  // Stryker disable next-line ConditionalExpression: made false, scope(item) is called anyway, and every grouping slotOf is given (the engine's, mapped over envelopes) has a scope function; made true it is killed (every scope ignored).
  const itemScope = scope === undefined ? undefined : scope(item);
  const raw = key(item);
  // Stryker disable next-line ConditionalExpression,StringLiteral: without this fast path a string goes through slotKey, which returns it as it is, and isEncoded, false for it: the same slot.
  if (typeof raw === 'string') return new PendingSlot(itemScope, false, raw);
  return new PendingSlot(itemScope, isEncoded(raw), (grouping.slotKey ?? fallbackSlotKey)(raw));
}

type KeyMaps<V> = { readonly plain: Map<unknown, V>; readonly encoded: Map<unknown, V> };

/**
 * Values by slot, in maps nested by scope and then by kind of key rather than under one composed string, so no
 * (scope, key) pair can pose as another: a Map keeps `1`, `'1'` and `1n` apart, and an encoding never meets a
 * string key. Requests without a scope, the common case, skip the lookup by scope.
 */
export class SlotMap<V> {
  private readonly unscoped: KeyMaps<V> = { plain: new Map(), encoded: new Map() };
  private readonly byScope = new Map<DedupScope, KeyMaps<V>>();

  get({ scope, encoded, key }: Slot): V | undefined {
    const maps = scope === undefined ? this.unscoped : this.byScope.get(scope);
    return maps && (encoded ? maps.encoded : maps.plain).get(key);
  }

  /** @return true when the slot was not held before */
  set({ scope, encoded, key }: Slot, value: V): boolean {
    let maps = scope === undefined ? this.unscoped : this.byScope.get(scope);
    if (!maps) this.byScope.set(scope, (maps = { plain: new Map(), encoded: new Map() }));
    const map = encoded ? maps.encoded : maps.plain;
    const before = map.size;
    map.set(key, value);
    return map.size > before;
  }

  /** A scope's maps go when they are empty, so scopes that come and go leave nothing behind. */
  delete({ scope, encoded, key }: Slot): void {
    const maps = scope === undefined ? this.unscoped : this.byScope.get(scope);
    if (!maps) return;
    (encoded ? maps.encoded : maps.plain).delete(key);
    if (scope !== undefined && maps.plain.size === 0 && maps.encoded.size === 0) this.byScope.delete(scope);
  }

  /** Keeps only the entries `keep` accepts (a scope left without any goes too). @return how many are kept */
  filter(keep: (value: V) => boolean): number {
    let size = 0;
    for (const [scope, maps] of [[undefined, this.unscoped] as const, ...this.byScope]) {
      for (const map of [maps.plain, maps.encoded]) {
        for (const [key, value] of map) {
          if (keep(value)) size++;
          else map.delete(key);
        }
      }
      if (maps.plain.size + maps.encoded.size === 0) this.byScope.delete(scope);
    }
    return size;
  }
}

export interface CacheEntry<R> extends Slot {
  readonly value: R;
  /** Scheduler time when it was stored: it is served while `0 <= now - storedAt < ttlMs`. */
  readonly storedAt: number;
}

/**
 * The cached results of one table (`resultCache`): made by the feature object `resultCache()` (resultCache.ts),
 * which carries the code, so a pipeline without a result cache bundles none of it.
 */
export interface ResultCache<R> {
  /** The vectors of the cached results, when the cache is semantic (src/internal/nearCache.ts). */
  readonly near: NearIndex<CacheEntry<R>> | undefined;
  /**
   * A cached result for the slot, stored less than `ttlMs` ago on this clock. An entry from the future (the
   * clock stepped back past it) is dropped: its age is unknown.
   */
  cached(slot: Slot, now: number): CacheEntry<R> | undefined;
  /** Of an age to be served: `0 <= now - storedAt < ttlMs` (also for the semantic cache). */
  live(entry: CacheEntry<R>, now: number): boolean;
  /** `entry` was just served: it is now the most recently used. */
  used(entry: CacheEntry<R>): CacheEntry<R>;
  /** Caches a fulfilled result under its slot and, given its probe, under its vector too (semantic cache). */
  store(slot: Slot, value: R, now: number, probe?: unknown): void;
  forget(entry: CacheEntry<R>): void;
}

/** Waiting in the queue: equal requests that arrive join it as followers and go into its batch with it. */
export const QUEUED = 0;
/** Batched or executing: equal requests that arrive (`dedupInFlight`) wait for its outcome. */
export const SENT = 1;
/** Answered, or withdrawn with nobody left to promote: nothing joins it, and a new request may take its slot. */
export const DONE = 2;
/**
 * Its execution is being stopped and its outcome will be that error (processing timeout, output refused): nothing
 * joins it any more (a new request takes its slot), and the requests that joined it before get that outcome.
 */
export const STOPPING = 3;

/**
 * A request that equal requests share, by its slot: computed at its arrival, so nothing is keyed twice. It is
 * pending from arrival (or promotion) until its outcome (`DONE`). Kept only when needed (see `SlotTable.add`):
 * most requests are never joined, and their slot's table entry holds the request itself.
 */
export class PendingSlot<E> implements Slot {
  state: typeof QUEUED | typeof SENT | typeof DONE | typeof STOPPING = QUEUED;
  /** The request whose place in the queue (or execution) it is; a follower promoted in its stead replaces it. */
  leader: E | undefined = undefined;
  /** The table of the settings it was computed under (see `changesWhatIsShared`). */
  table: SlotTable<E, unknown> | undefined = undefined;
  /** Its queue entry, when it has one (withdrawable, or ordered by priority). */
  place: QueueEntry<E> | undefined = undefined;
  /** Equal requests that joined it while it waited, in arrival order. */
  followers: E[] | undefined = undefined;
  /** Equal requests that joined it once sent (`dedupInFlight`). */
  waiters: E[] | undefined = undefined;
  /** Its batch's probe of it (semantic result cache): its result is indexed under it when stored. */
  probe: unknown = undefined;

  constructor(
    readonly scope: DedupScope,
    readonly encoded: boolean,
    readonly key: unknown,
  ) {}
}

/**
 * The state of what holds a slot of `table`: a record's own, or for a request leading it bare, by its `shared`
 * field: the table while it waits (`QUEUED`), `SENT` once sent, anything else once it is answered, dropped, or
 * led under another table (`DONE`).
 */
export function stateOf(holder: unknown, table: object): typeof QUEUED | typeof SENT | typeof DONE | typeof STOPPING {
  if (holder instanceof PendingSlot) return holder.state;
  const shared = (holder as { shared?: unknown }).shared;
  return shared === table ? QUEUED : shared === SENT ? SENT : DONE;
}

/** Slots held past the live ones before a table is swept of those `DONE`. */
const SWEEP_SLACK = 1024;

/**
 * What is shared under one set of dedup settings, by slot: the requests pending (waiting in the queue, or
 * executing), and (optionally) recent results. A `configure()` that may change what is equal starts a new table,
 * so a request never joins one pending under other settings (see `changesWhatIsShared`).
 *
 * A request's slot is not deleted when it is answered: it is marked `DONE`, and the next equal request takes it
 * over, so a stream of recurring keys sets each key once and the table never grows and shrinks with every batch.
 * Once the slots held outnumber twice those pending (and a slack), the table is rebuilt with the pending ones
 * only: memory stays in proportion to what is pending, each rebuild paid for by the slots it frees.
 */
export class SlotTable<E, R> {
  /** Each slot's holder: its record, or the request leading it bare (see `add`). */
  private readonly pending = new SlotMap<PendingSlot<E> | E>();
  /** Slots held by `pending`, `DONE` ones included. */
  private held = 0;
  private sweepAt = SWEEP_SLACK;

  /**
   * @param cache its cached results, when the pipeline has a result cache (one per table: a change of what is
   *   equal starts both anew)
   */
  constructor(readonly cache: ResultCache<R> | undefined) {}

  /**
   * What holds the slot: a request's record (pending or `DONE`), a request leading it bare (see `add`;
   * `stateOf` tells its state), or nothing.
   */
  holderOf(slot: Slot): PendingSlot<E> | E | undefined {
    return this.pending.get(slot);
  }

  /**
   * `holder` takes `slot` (from whatever held it): a record (its own slot), or a request leading it bare, whose
   * `shared` field then says its state (`stateOf`); its record is made when an equal request joins it
   * (`SharedSlots.recordFor`).
   */
  add(slot: Slot, holder: PendingSlot<E> | E = slot as PendingSlot<E>): void {
    if (!this.pending.set(slot, holder)) return;
    if (++this.held > this.sweepAt) this.sweep();
  }

  /** Keeps the slots of the requests still pending only. */
  private sweep(): void {
    const size = this.pending.filter((holder) => stateOf(holder, this) !== DONE);
    this.held = size;
    this.sweepAt = 2 * size + SWEEP_SLACK;
  }
}

/**
 * Options whose change leaves what is equal, and what a result is worth, as it was: a `configure()` of these
 * alone keeps the executions to join and the cached results. Any other option (key, scope, the dedup strategy
 * and its settings, execute, options added later) starts a new table.
 */
const KEEP_SHARING = new Set([
  'windowMs',
  'maxSize',
  'minSize',
  'maxWaitMs',
  'targetLatencyMs',
  'minWindowMs',
  'maxWindowMs',
  'concurrency',
  'processingTimeoutMs',
  'onTimeout',
  'maxQueueSize',
  'requestTimeoutMs',
  'costPerRequestUsd',
  'priority',
  'signal',
  'embedCacheSize',
]);

/** True when a change of these options may change what counts as equal, or what a result is. */
export function changesWhatIsShared(changed: Iterable<string>): boolean {
  for (const name of changed) if (!KEEP_SHARING.has(name)) return true;
  return false;
}
