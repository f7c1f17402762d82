import type { Outcome } from './batchRun.js';

/** Options of the result cache: a semantic cache of fulfilled results by key and scope. Off by default. */
export interface ResultCacheOptions {
  /** How long a result may be reused, in ms. */
  ttlMs: number;
  /** Most results kept; the least recently used leave first. Default 1000. */
  maxEntries?: number;
}

type Waiter<R> = (outcome: Outcome<R>, batchId: number) => void;

/**
 * Executions in flight and (optionally) recent results, by dedup key within a scope, so a request equal to one
 * already executing joins that execution instead of being sent again, and a cached result answers at once.
 */
export class InFlightTable<R> {
  private readonly executing = new Map<string, Waiter<R>[]>();
  private readonly cache = new Map<string, { value: R; expiresAt: number }>();

  constructor(
    private readonly joinInFlight: boolean,
    private readonly cacheOptions: Required<ResultCacheOptions> | undefined,
  ) {}

  /** One string per (scope, key); the scope is length-prefixed so no key can forge another scope. */
  static slot(scope: string | undefined, key: unknown): string {
    return scope === undefined ? `-${String(key)}` : `${scope.length}:${scope}${String(key)}`;
  }

  /** A cached, unexpired result for the slot. */
  cached(slot: string, now: number): { value: R } | undefined {
    const entry = this.cache.get(slot);
    if (!entry) return undefined;
    if (now >= entry.expiresAt) {
      this.cache.delete(slot);
      return undefined;
    }
    // Refresh its place in the LRU order.
    this.cache.delete(slot);
    this.cache.set(slot, entry);
    return { value: entry.value };
  }

  /** Attaches a waiter to the execution of an equal request, if one is in flight. */
  join(slot: string, waiter: Waiter<R>): boolean {
    if (!this.joinInFlight) return false;
    const waiters = this.executing.get(slot);
    if (!waiters) return false;
    waiters.push(waiter);
    return true;
  }

  started(slot: string): void {
    if (this.joinInFlight && !this.executing.has(slot)) this.executing.set(slot, []);
  }

  settled(slot: string, outcome: Outcome<R>, batchId: number, now: number): void {
    if (this.cacheOptions && outcome.ok) {
      this.cache.delete(slot);
      this.cache.set(slot, { value: outcome.value, expiresAt: now + this.cacheOptions.ttlMs });
      if (this.cache.size > this.cacheOptions.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    }
    const waiters = this.executing.get(slot);
    if (!waiters) return;
    this.executing.delete(slot);
    for (const waiter of waiters) waiter(outcome, batchId);
  }
}
