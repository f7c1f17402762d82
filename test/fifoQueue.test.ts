/**
 * `FifoQueue`, the queue of `bufferWindow` and `adaptiveBuffer` (the engine's `WaitingQueue` is checked in
 * trust-inputs.test.ts and trust-inputs.properties.test.ts): values leave in arrival order, the oldest arrival is
 * right, and memory is bounded by what waits however long the queue lives.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FifoQueue } from '../src/internal/fifoQueue.js';

type Op = { kind: 'push'; gap: number; count: number } | { kind: 'take'; n: number } | { kind: 'drain' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      gap: fc.integer({ min: 0, max: 3 }),
      count: fc.integer({ min: 1, max: 40 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const) }) },
);

describe('FifoQueue against a model', () => {
  it('same values out in the same order, same size and oldest arrival, footprint O(waiting)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (ops, rounds) => {
        const queue = new FifoQueue<number>();
        let model: { value: number; arrivedAt: number }[] = [];
        let now = 0;
        let next = 0;
        for (let round = 0; round < rounds; round++) {
          for (const op of ops) {
            if (op.kind === 'push') {
              now += op.gap;
              for (let i = 0; i < op.count; i++) {
                queue.push(next, now);
                model.push({ value: next++, arrivedAt: now });
              }
            } else if (op.kind === 'take') {
              const expected = model.slice(0, op.n).map((m) => m.value);
              expect(queue.take(op.n)).toEqual(expected);
              model = model.slice(expected.length);
            } else {
              expect(queue.drainAll()).toEqual(model.map((m) => m.value));
              model = [];
            }
            expect(queue.size).toBe(model.length);
            expect(queue.oldestArrivedAt()).toBe(model[0]?.arrivedAt);
            expect(queue.footprint).toBeLessThanOrEqual(2 * queue.size + 64);
          }
        }
        expect(queue.drainAll()).toEqual(model.map((m) => m.value));
        expect(queue.size).toBe(0);
        expect(queue.footprint).toBe(0);
        expect(queue.oldestArrivedAt()).toBeUndefined();
      }),
      { numRuns: 40 },
    );
  });
});

describe('FifoQueue memory', () => {
  it('a queue that never empties (each take leaves one behind, as a full buffer waiting for a slot does) stays O(waiting)', () => {
    const queue = new FifoQueue<number>();
    queue.push(0, 0);
    let worst = 0;
    for (let i = 1; i <= 100_000; i++) {
      queue.push(i, i);
      const out = queue.take(1);
      if (out.length !== 1 || out[0] !== i - 1) throw new Error(`took ${out.join()} at ${i}, expected ${i - 1}`);
      worst = Math.max(worst, queue.footprint - (2 * queue.size + 64));
    }
    expect(queue.size).toBe(1);
    expect(queue.oldestArrivedAt()).toBe(100_000);
    expect(worst).toBeLessThanOrEqual(0);
  });

  it('taking everything empties the queue: no oldest arrival, no slot held', () => {
    const queue = new FifoQueue<string>();
    queue.push('a', 5);
    queue.push('b', 7);
    expect(queue.take(1)).toEqual(['a']);
    expect(queue.oldestArrivedAt()).toBe(7);
    expect(queue.take(10)).toEqual(['b']);
    expect(queue.size).toBe(0);
    expect(queue.footprint).toBe(0);
    expect(queue.oldestArrivedAt()).toBeUndefined();
  });
});
