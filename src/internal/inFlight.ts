import type { Grouping } from '../dedup/exact.js';
import { customSlotKey, isEncoded, type DedupScope } from '../dedup/keys.js';
import type { Outcome } from './batchRun.js';

/** Options of the result cache: a semantic cache of fulfilled results by key and scope. Off by default. */
export interface ResultCacheOptions {
  /** How long a result may be reused, in ms of the scheduler's clock; a clock that steps back drops it. */
  ttlMs: number;
  /** Most results kept; the least recently used leave first. Default 1000. */
  maxEntries?: number;
}

type Waiter<R> = (outcome: Outcome<R>, batchId: number) => void;

/** Where a request's answer is shared: its scope, and its key as a primitive or as an array's or object's encoding. */
export interface Slot {
  readonly scope: DedupScope;
  /** True when `key` is the canonical encoding of an array or object key (see `isEncoded`). */
  readonly encoded: boolean;
  readonly key: unknown;
}

const fallbackSlotKey = customSlotKey('dedupBy');

/** The slot of an item; throws the `TypeError` of a key or scope that throws or returns what it may not. */
export function slotOf<T>(grouping: Grouping<T>, item: T): Slot {
  const { key, scope } = grouping;
  const itemScope = scope === undefined ? undefined : scope(item);
  const raw = key(item);
  if (typeof raw === 'string') return { scope: itemScope, encoded: false, key: raw };
  return { scope: itemScope, encoded: isEncoded(raw), key: (grouping.slotKey ?? fallbackSlotKey)(raw) };
}

/**
 * Values by slot, in maps nested by scope and then by kind of key rather than under one composed string, so no
 * (scope, key) pair can pose as another: a Map keeps `1`, `'1'` and `1n` apart, and an encoding never meets a
 * string key. A scope's maps go when they are empty, so scopes that come and go leave nothing behind.
 */
class SlotMap<V> {
  private readonly byScope = new Map<DedupScope, { plain: Map<unknown, V>; encoded: Map<unknown, V> }>();

  get({ scope, encoded, key }: Slot): V | undefined {
    const maps = this.byScope.get(scope);
    return maps && (encoded ? maps.encoded : maps.plain).get(key);
  }

  set({ scope, encoded, key }: Slot, value: V): void {
    let maps = this.byScope.get(scope);
    if (!maps) this.byScope.set(scope, (maps = { plain: new Map(), encoded: new Map() }));
    (encoded ? maps.encoded : maps.plain).set(key, value);
  }

  delete({ scope, encoded, key }: Slot): void {
    const maps = this.byScope.get(scope);
    if (!maps) return;
    (encoded ? maps.encoded : maps.plain).delete(key);
    if (maps.plain.size === 0 && maps.encoded.size === 0) this.byScope.delete(scope);
  }
}

interface CacheEntry<R> extends Slot {
  readonly value: R;
  /** Scheduler time when it was stored: it is served while `0 <= now - storedAt < ttlMs`. */
  readonly storedAt: number;
}

/**
 * Executions in flight and (optionally) recent results, by slot, so a request equal to one already executing
 * joins that execution instead of being sent again, and a cached result answers at once. One table holds what
 * was computed under one set of dedup settings (see `changesWhatIsShared`).
 */
export class InFlightTable<R> {
  private readonly executing = new SlotMap<Waiter<R>[]>();
  private readonly cache = new SlotMap<CacheEntry<R>>();
  /** The cached entries, least recently used first (a Set keeps insertion order). */
  private readonly recency = new Set<CacheEntry<R>>();

  constructor(
    private readonly joinInFlight: boolean,
    private readonly cacheOptions: Required<ResultCacheOptions> | undefined,
  ) {}

  /**
   * A cached result for the slot, stored less than `ttlMs` ago on this clock. An entry from the future (the
   * clock stepped back past it) is dropped: its age is unknown.
   */
  cached(slot: Slot, now: number): CacheEntry<R> | undefined {
    if (!this.cacheOptions) return undefined;
    const entry = this.cache.get(slot);
    if (!entry) return undefined;
    const age = now - entry.storedAt;
    if (!(age >= 0 && age < this.cacheOptions.ttlMs)) {
      this.forget(entry);
      return undefined;
    }
    this.recency.delete(entry);
    this.recency.add(entry);
    return entry;
  }

  /** Attaches a waiter to the execution of an equal request, if one is in flight. */
  join(slot: Slot, waiter: Waiter<R>): boolean {
    if (!this.joinInFlight) return false;
    const waiters = this.executing.get(slot);
    if (!waiters) return false;
    waiters.push(waiter);
    return true;
  }

  started(slot: Slot): void {
    if (this.joinInFlight && !this.executing.get(slot)) this.executing.set(slot, []);
  }

  settled(slot: Slot, outcome: Outcome<R>, batchId: number, now: number): void {
    if (this.cacheOptions && outcome.ok) this.store(slot, outcome.value, now);
    const waiters = this.executing.get(slot);
    if (!waiters) return;
    this.executing.delete(slot);
    for (const waiter of waiters) waiter(outcome, batchId);
  }

  private store(slot: Slot, value: R, now: number): void {
    const previous = this.cache.get(slot);
    if (previous) this.forget(previous);
    const entry: CacheEntry<R> = { scope: slot.scope, encoded: slot.encoded, key: slot.key, value, storedAt: now };
    this.cache.set(entry, entry);
    this.recency.add(entry);
    if (this.recency.size > this.cacheOptions!.maxEntries) this.forget(this.recency.values().next().value!);
  }

  private forget(entry: CacheEntry<R>): void {
    this.recency.delete(entry);
    this.cache.delete(entry);
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
