/**
 * `copyVectors` (src/dedup/vectorLeaders.ts), where the lead's stop-21 Stryker run of :856-913 left survivors
 * (issue 17): the embedder's answer is refused with a message naming what is wrong, and a Float32Array is checked
 * by its fast path (a memory copy and sums of x * 0), never coordinate by coordinate. The fast path's mutants gave
 * the same verdict through the slow path; they show here as calls of `Number.isFinite`, which only the slow path
 * makes.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { copyVectors, MalformedEmbeddingError } from '../src/dedup/vectorLeaders.js';

afterEach(() => void vi.restoreAllMocks());

const float32 = (length: number, at = (d: number) => Math.sin(d + 1)) => Float32Array.from({ length }, (_, d) => at(d));

describe('copyVectors refuses, naming the fault', () => {
  it.each([
    ['an array-like object for the list', { length: 1, 0: [1, 2] }, 1, /^malformed embeddings: expected an array of vectors, got object$/],
    ['a string for the list', 'ab', 2, /^malformed embeddings: expected an array of vectors, got string$/],
    ['a number for a vector', [5], 1, /^malformed embeddings: vector 0 is not an array of numbers$/],
    ['a function for a vector (it has a length)', [(a: number, b: number) => a + b], 1, /^malformed embeddings: vector 0 is not an array of numbers$/],
    ['a string for a vector', ['ab'], 1, /^malformed embeddings: vector 0 is not an array of numbers$/],
    ['a vector whose length is a string', [{ length: '2', 0: 1, 1: 2 }], 1, /^malformed embeddings: vector 0 is not an array of numbers$/],
    ['NaN in a plain array', [[1, Number.NaN, 3]], 1, /^malformed embeddings: vector 0 has NaN at dimension 1$/],
    ['Infinity in a plain array', [[1, 2], [3, Number.POSITIVE_INFINITY]], 2, /^malformed embeddings: vector 1 has Infinity at dimension 1$/],
    ['a string coordinate', [[1, '2']], 1, /^malformed embeddings: vector 0 has 2 at dimension 1$/],
    ['NaN in a Float32Array', [float32(7, (d) => (d === 5 ? Number.NaN : d))], 1, /^malformed embeddings: vector 0 has NaN at dimension 5$/],
    ['-Infinity in a Float32Array, in its last four', [float32(8, (d) => (d === 7 ? Number.NEGATIVE_INFINITY : 1))], 1, /^malformed embeddings: vector 0 has -Infinity at dimension 7$/],
  ])('%s', (_name, vectors, count, message) => {
    for (const shared of [false, true]) {
      let thrown: unknown;
      try {
        copyVectors(vectors, count, undefined, shared);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(MalformedEmbeddingError);
      expect((thrown as Error).message).toMatch(message);
    }
  });
});

describe('copyVectors checks a Float32Array by its fast path', () => {
  it.each([1, 3, 4, 5, 384, 385])('%i dimensions: copied, and no coordinate checked one by one', (length) => {
    const isFinite = vi.spyOn(Number, 'isFinite');
    const given = [float32(length), float32(length, (d) => -d - 0.5)];
    for (const shared of [false, true]) {
      const { vectors, length: got } = copyVectors(given, 2, undefined, shared);
      expect(got).toBe(length);
      expect(vectors.map((v) => [...v])).toEqual(given.map((v) => [...v]));
      expect(vectors[0]).not.toBe(given[0]);
    }
    expect(isFinite).not.toHaveBeenCalled();
  });

  it('a plain array is checked coordinate by coordinate (the slow path, for contrast)', () => {
    const isFinite = vi.spyOn(Number, 'isFinite');
    copyVectors([[1, 2, 3]], 1, undefined, false);
    expect(isFinite).toHaveBeenCalledTimes(3);
  });
});
