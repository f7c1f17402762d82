/**
 * `dedupBy` fed a revoked proxy as a batch (H-ATK4, stop 17): its very first check, `Array.isArray(items)`,
 * throws for one ("Cannot perform 'IsArray' on a proxy that has been revoked"), so it escaped out of dedupBy's
 * `next` as an uncaught exception while the batch was dropped and the output went on as if nothing had come
 * (rows 66 and 79 promise neither happens for input that is not an array or cannot be read). It is now not a
 * batch: the output errors with `TypeError: dedupBy: a batch could not be read (...)` once the batches before it
 * are out, on every strategy.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { dedupBy, type DedupedBatch, type DedupByOptions } from '../src/index.js';

const STRATEGIES: readonly (readonly [string, DedupByOptions<unknown>])[] = [
  ['exact', {}],
  ['embedding', { dedupStrategy: 'embedding' }],
  ['hybrid', { dedupStrategy: 'hybrid' }],
  ['enableDedup: false', { enableDedup: false }],
];

function revokedProxy(): unknown[] {
  const { proxy, revoke } = Proxy.revocable<unknown[]>(['b'], {});
  revoke();
  return proxy;
}

describe('dedupBy given a revoked proxy as a batch', () => {
  it.each(STRATEGIES)('%s: nothing thrown out; the batches before it come out, then the output errors naming dedupBy', async (_, options) => {
    const source = new Subject<unknown[]>();
    const out: DedupedBatch<unknown>[] = [];
    let error: unknown;
    let completed = false;
    source.pipe(dedupBy(options)).subscribe({ next: (b) => out.push(b), error: (e: unknown) => (error = e), complete: () => (completed = true) });
    const thrown: unknown[] = [];
    for (const batch of [['a'], revokedProxy(), ['c']]) {
      try {
        source.next(batch);
      } catch (e) {
        thrown.push(e);
      }
    }
    source.complete();
    for (let i = 0; i < 5; i++) await Promise.resolve();
    await new Promise((resolve) => setImmediate(resolve));
    expect(thrown).toEqual([]);
    expect(out.map((b) => b.items)).toEqual([['a']]);
    expect(completed).toBe(false);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(/^dedupBy: a batch could not be read \(Cannot perform 'IsArray' on a proxy that has been revoked\)/);
  });
});
