/**
 * `copyVectors` with a shared buffer keeps the views it made of it and takes them again when that buffer is reused
 * for the next answer (issue 15, stop 18: no new subarray per vector per batch). A view taken again must be of the
 * new answer's length and show the new answer's numbers; a buffer of another answer never lends its views.
 */
import { describe, expect, it } from 'vitest';
import { copyVectors } from '../src/dedup/vectorLeaders.js';

const f32 = (...xs: number[]) => Float32Array.from(xs);

describe('copyVectors, views of a reused buffer', () => {
  it('a reused buffer of the same length gives the new answer, in views of that buffer', () => {
    const first = copyVectors([f32(1, 2), f32(3, 4)], 2, undefined, true);
    const second = copyVectors([f32(5, 6), f32(7, 8)], 2, undefined, true, first.buffer);
    expect(second.buffer).toBe(first.buffer);
    expect(second.vectors.map((v) => [...v])).toEqual([
      [5, 6],
      [7, 8],
    ]);
    expect(second.vectors.every((v) => v.buffer === first.buffer!.buffer)).toBe(true);
  });

  it('a reused buffer of the same length lends the views made of it last time, not new ones', () => {
    const first = copyVectors([f32(1, 2), f32(3, 4)], 2, undefined, true);
    const second = copyVectors([f32(5, 6), f32(7, 8)], 2, undefined, true, first.buffer);
    expect(second.vectors[0]).toBe(first.vectors[0]);
    expect(second.vectors[1]).toBe(first.vectors[1]);
  });

  it('a reused buffer cut for another vector length gives views of the new length', () => {
    const first = copyVectors([f32(1, 2), f32(3, 4)], 2, undefined, true);
    // Four numbers of room: two vectors of 2 before, four vectors of 1 now.
    const second = copyVectors([f32(9), f32(8), f32(7), f32(6)], 4, undefined, true, first.buffer);
    expect(second.buffer).toBe(first.buffer);
    expect(second.length).toBe(1);
    expect(second.vectors.map((v) => [...v])).toEqual([[9], [8], [7], [6]]);
  });

  it('a buffer too small is not reused, and the new one is cut into views of its own', () => {
    const small = copyVectors([f32(1, 2)], 1, undefined, true);
    const bigger = copyVectors([f32(1, 2), f32(3, 4)], 2, undefined, true, small.buffer);
    expect(bigger.buffer).not.toBe(small.buffer);
    expect(bigger.vectors.every((v) => v.buffer === bigger.buffer!.buffer)).toBe(true);
    expect(bigger.vectors.map((v) => [...v])).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // The small buffer's view still shows its own answer.
    expect([...small.vectors[0]!]).toEqual([1, 2]);
  });
});
