import type { DedupedBatch } from '../types.js';
import { describeGiven } from '../base/describeGiven.js';
import { describeThrown } from '../base/describeValue.js';

const SHAPE = '{ items, unique, leaderOf, failures? }';

/**
 * Checks a `DedupedBatch` that comes from outside the library (the source of a hand-composed `fanOut`), so a
 * malformed one can neither lose a request nor answer it with another request's result. One pass over
 * `leaderOf` (and `failures`); a well-formed batch is returned as it is, nothing allocated.
 *
 * - Not an object, or `items` not an array: a `TypeError` is returned; there is no request to give it to.
 * - `unique` or `leaderOf` not an array, `leaderOf` not one entry per item, `failures` not a Map or naming an
 *   item that does not exist: the parts do not belong together, so every request of the batch gets a TypeError.
 * - An entry of `leaderOf` that is not an index into `unique`, or -1 without an error in `failures`: that one
 *   request gets a TypeError naming the entry; the others are served.
 * - An item with an error in `failures` is answered by that error (once), whatever its `leaderOf` entry. A unique
 *   item no request points to is executed with the others; its result is not used.
 *
 * @return the batch, a copy in which each malformed request carries its TypeError in `failures`, or the
 * TypeError for something that is not a batch at all
 */
export function checkBatch<T>(where: string, batch: unknown): DedupedBatch<T> | TypeError {
  if (typeof batch !== 'object' || batch === null) {
    return new TypeError(`${where}: expected a DedupedBatch ${SHAPE}, got ${describeGiven(batch)}`);
  }
  let items: unknown;
  try {
    items = (batch as { items?: unknown }).items;
  } catch (error) {
    // A getter that throws, a revoked proxy: there is no request to give it to.
    return new TypeError(`${where}: expected a DedupedBatch ${SHAPE} that can be read, got one whose items threw: ${describeThrown(error)}`, { cause: error });
  }
  if (!Array.isArray(items)) {
    return new TypeError(`${where}: batch.items must be an array, got ${describeGiven(items)}; a DedupedBatch is ${SHAPE}`);
  }
  try {
    return checkParts(where, batch, items);
  } catch (error) {
    // A part (or an entry, or a method of failures) that throws when read: the batch's requests get the error.
    return rejectAll(items as T[], new TypeError(`${where}: the batch could not be read (${describeThrown(error)}); a DedupedBatch is ${SHAPE}`, { cause: error }));
  }
}

/** The checks past `items`, which may throw when a part cannot be read. */
function checkParts<T>(where: string, batch: object, items: unknown[]): DedupedBatch<T> {
  const { unique, leaderOf, failures } = batch as Partial<Record<keyof DedupedBatch<T>, unknown>>;
  const whole = wholeBatchFault(items, unique, leaderOf, failures);
  if (whole !== undefined) return rejectAll(items as T[], new TypeError(`${where}: ${whole}; a DedupedBatch is ${SHAPE}`));

  const leaders = leaderOf as readonly unknown[];
  const failed = failures as ReadonlyMap<number, unknown> | undefined;
  const uniqueCount = (unique as readonly unknown[]).length;
  let faults: Map<number, unknown> | undefined;
  for (let i = 0; i < leaders.length; i++) {
    const leader = leaders[i];
    if (failed?.has(i)) {
      // Its failure answers it, once, whatever its entry says.
      if (leader !== -1) (faults ??= new Map()).set(i, failed.get(i));
      continue;
    }
    // Number.isInteger is false for anything but a number, so the comparisons only ever see numbers.
    if (Number.isInteger(leader) && (leader as number) >= 0 && (leader as number) < uniqueCount) continue;
    const range = uniqueCount > 0 ? `0 to ${uniqueCount - 1}` : 'none: batch.unique is empty';
    const given =
      leader === -1
        ? `-1 but batch.failures has no error for item ${i}`
        : `${describeGiven(leader)}`;
    (faults ??= new Map()).set(
      i,
      new TypeError(
        `${where}: batch.leaderOf[${i}] is ${given}; each entry must be the index of the item's leader in ` +
          `batch.unique (${range}), or -1 with the item's error in batch.failures`,
      ),
    );
  }
  if (faults === undefined) return batch as DedupedBatch<T>;
  const repairedLeaders = leaders.slice() as number[];
  const repairedFailures = new Map(failed);
  for (const [i, error] of faults) {
    repairedLeaders[i] = -1;
    repairedFailures.set(i, error);
  }
  return { items: items as T[], unique: unique as T[], leaderOf: repairedLeaders, failures: repairedFailures };
}

/** What makes the whole batch unusable, if anything. */
function wholeBatchFault(items: readonly unknown[], unique: unknown, leaderOf: unknown, failures: unknown): string | undefined {
  if (!Array.isArray(unique)) return `batch.unique must be an array, got ${describeGiven(unique)}`;
  if (!Array.isArray(leaderOf)) return `batch.leaderOf must be an array, got ${describeGiven(leaderOf)}`;
  if (leaderOf.length !== items.length) {
    return `batch.leaderOf has ${leaderOf.length} entries for ${items.length} items; it needs one per item`;
  }
  if (failures === undefined) return undefined;
  if (!(failures instanceof Map)) return `batch.failures must be a Map from item index to error, got ${describeGiven(failures)}`;
  for (const i of failures.keys()) {
    if (!Number.isInteger(i) || i < 0 || i >= items.length) {
      return `batch.failures has an error for item ${describeGiven(i)}, but the batch has ${items.length} items`;
    }
  }
  return undefined;
}

function rejectAll<T>(items: readonly T[], error: TypeError): DedupedBatch<T> {
  // By index, not items.map: that would read the items, and an item's getter may be what threw.
  const indexes = Array.from({ length: items.length }, (_, i) => i);
  return {
    items,
    unique: [],
    // Stryker disable next-line ArrowFunction,UnaryOperator: every item has its error in failures, which answers it whatever this entry holds.
    leaderOf: indexes.map(() => -1),
    failures: new Map(indexes.map((i) => [i, error])),
  };
}
