import type { DedupedBatch } from '../types.js';

/**
 * The part of a deduplicated batch that somebody still waits for. A unique item is left out when every request
 * of it was answered while the batch was being deduplicated (its caller's deadline passed or its signal aborted,
 * from inside a user function of the dedup step or while an embedder worked) and no equal request joined it in
 * flight (`slots.awaited`): a request whose caller left never reaches the backend (docs/reliability.md, row 168).
 * `slots.forgone` is told the requests of each item left out, so their slots take no more joins.
 *
 * @return `batch` itself when no request of it was answered (the common case: a field read per request), the
 *   part still owed, or undefined when nothing is
 */
export function owedPart<E extends { readonly answered?: boolean }>(
  batch: DedupedBatch<E>,
  slots: { awaited(requests: readonly E[]): boolean; forgone(requests: readonly E[]): void },
): DedupedBatch<E> | undefined {
  const { items, unique, leaderOf, failures } = batch;
  // An item whose key or scope threw leads nothing (`leaderOf` -1) and is refused by the batch's run: a batch
  // with such items goes whole, as before, so that none of them is left unanswered.
  if (failures !== undefined) return batch;
  let i = 0;
  while (i < items.length && items[i]!.answered !== true) i++;
  if (i === items.length) return batch;
  const members: E[][] = unique.map(() => []);
  items.forEach((item, i) => members[leaderOf[i]!]!.push(item));
  const kept = members.map((requests) => requests.some((request) => request.answered !== true) || slots.awaited(requests));
  if (!kept.includes(false)) return batch;
  members.forEach((requests, u) => kept[u] || slots.forgone(requests));
  if (!kept.includes(true)) return undefined;
  const indexOf: number[] = [];
  const owedUnique: E[] = [];
  unique.forEach((item, u) => kept[u] && (indexOf[u] = owedUnique.push(item) - 1));
  const owedItems: E[] = [];
  const owedLeaderOf: number[] = [];
  items.forEach((item, i) => {
    const u = leaderOf[i]!;
    if (!kept[u]) return;
    owedItems.push(item);
    owedLeaderOf.push(indexOf[u]!);
  });
  return { items: owedItems, unique: owedUnique, leaderOf: owedLeaderOf };
}
