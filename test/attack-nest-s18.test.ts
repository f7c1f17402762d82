/**
 * BatchDedupService.process used before module init (a provider's constructor, an `onModuleInit` that runs
 * before the registry's): the Observable errors, naming the batcher, and must leave nothing on the caller's
 * signal behind it (reliability 25: one listener per call, removed when the call settles).
 */
import { describe, expect, it } from 'vitest';
import { BatchDedupRegistry } from '../src/nestjs/index.js';

/** A signal the service can link (duck-typed, as `createBatcher` checks it) that counts its live listeners. */
function countingSignal() {
  const listeners = new Set<unknown>();
  return {
    listeners,
    signal: {
      aborted: false,
      reason: undefined,
      addEventListener: (_type: string, listener: unknown) => void listeners.add(listener),
      removeEventListener: (_type: string, listener: unknown) => void listeners.delete(listener),
    } as unknown as AbortSignal,
  };
}

describe('BatchDedupService.process before module init', () => {
  const registry = () => new BatchDedupRegistry({ batchers: { double: { execute: (xs: number[]) => xs.map((x) => 2 * x) } } });

  it('errors naming the batcher and that it is used before module init', () => {
    const errors: unknown[] = [];
    registry().get<number, number>('double').process(1).subscribe({ error: (error: unknown) => errors.push(error) });
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/batcher "double" used before module init/);
  });

  it("leaves no listener on the caller's signal", () => {
    const { signal, listeners } = countingSignal();
    const errors: unknown[] = [];
    registry().get<number, number>('double').process(1, { signal }).subscribe({ error: (error: unknown) => errors.push(error) });
    expect(errors).toHaveLength(1);
    expect(listeners.size).toBe(0);
  });
});

describe('BatchDedupService.processAll given what is not iterable', () => {
  it.each([[undefined], [null], [42], [{ length: 1, 0: 1 }]])('throws a TypeError naming processAll and the batcher (%s)', (requests) => {
    const registry = new BatchDedupRegistry({ batchers: { double: { execute: (xs: number[]) => xs.map((x) => 2 * x) } } });
    registry.onModuleInit();
    const service = registry.get<number, number>('double');
    expect(() => service.processAll(requests as unknown as number[])).toThrow(
      expect.objectContaining({ name: 'TypeError', message: expect.stringMatching(/^BatchDedupService\.processAll \("double"\): requests must be iterable, got /) }),
    );
  });
});
