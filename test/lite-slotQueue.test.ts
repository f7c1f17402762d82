/**
 * `slotQueue`, the lean core's queue (src/lite/slotQueue.ts), against a model (reliability row 33 for /lite): a
 * removed slot leaves at once (size, the oldest arrival, what a take returns), the others leave in arrival order,
 * and memory stays within 2 × waiting + 32 however the slots leave.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slotQueue, type Queued } from '../src/lite/slotQueue.js';

type Op =
  | { kind: 'push'; gap: number; count: number }
  | { kind: 'remove'; pick: number; count: number }
  | { kind: 'take'; n: number }
  | { kind: 'drain' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('push' as const), gap: fc.integer({ min: 0, max: 3 }), count: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat(), count: fc.integer({ min: 1, max: 30 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const) }) },
);

interface Item extends Queued {
  readonly id: number;
}

describe('slotQueue against a model', () => {
  it('removed slots leave at once; the rest leave in arrival order; size, oldest arrival and footprint O(waiting)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 6 }), (ops, rounds) => {
        const queue = slotQueue<Item>();
        let model: Item[] = [];
        const left: Item[] = [];
        let now = 0;
        let next = 0;
        for (let round = 0; round < rounds; round++) {
          for (const op of ops) {
            if (op.kind === 'push') {
              now += op.gap;
              for (let i = 0; i < op.count; i++) {
                const item: Item = { id: next++, at: now };
                queue.push(item);
                model.push(item);
              }
            } else if (op.kind === 'remove') {
              for (let i = 0; i < op.count && model.length > 0; i++) {
                const [item] = model.splice((op.pick + i * 7) % model.length, 1);
                queue.remove(item!);
                left.push(item!);
              }
              // Removing again what already left (taken, removed) changes nothing.
              if (left.length > 0) queue.remove(left[op.pick % left.length]!);
            } else if (op.kind === 'take') {
              const taken = queue.take(op.n);
              expect(taken.map((item) => item.id)).toEqual(model.slice(0, op.n).map((item) => item.id));
              left.push(...model.splice(0, op.n));
            } else {
              expect(queue.drainAll().map((item) => item.id)).toEqual(model.map((item) => item.id));
              left.push(...model);
              model = [];
            }
            expect(queue.size).toBe(model.length);
            expect(queue.oldestArrivedAt()).toBe(model[0]?.at);
            expect(queue.footprint).toBeLessThanOrEqual(2 * model.length + 32);
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps a slot that was taken out of the queue when it is removed after', () => {
    const queue = slotQueue<Item>();
    const a: Item = { id: 1, at: 0 };
    const b: Item = { id: 2, at: 1 };
    queue.push(a);
    queue.push(b);
    expect(queue.take(1)).toEqual([a]);
    queue.remove(a);
    expect(queue.size).toBe(1);
    expect(queue.take(5)).toEqual([b]);
  });
});
