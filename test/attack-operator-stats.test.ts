/**
 * The `stats` option of the operators composed by hand. `batchDedup` and `createBatcher` refuse a `stats` that is
 * not a recorder at creation; `dedupBy`, `fanOut`, `bufferWindow` and `adaptiveBuffer` took anything. The likely
 * mistake is handing over a snapshot (`stats: recorder.snapshot()`) or a plain object: `dedupBy` then threw
 * `stats?.recordDedup is not a function` out of its `next` as an uncaught exception and dropped the batch, and
 * `fanOut` errored at subscription with `current(...).stats?.attach is not a function`. Each now refuses it when
 * created, with a TypeError naming the operator and the option, as the fused entry points do (bad-input row 12).
 */
import { describe, expect, it } from 'vitest';
import { createBatchStats, dedupBy, fanOut } from '../src/index.js';
import { adaptiveBuffer, bufferWindow } from '../src/operators/index.js';

const NOT_RECORDERS: readonly (readonly [string, unknown])[] = [
  ['a snapshot of a recorder', createBatchStats().snapshot()],
  ['an empty object', {}],
  ['null', null],
  ['true', true],
];

const OPERATORS: readonly (readonly [string, (stats: unknown) => unknown])[] = [
  ['dedupBy', (stats) => dedupBy({ stats: stats as never })],
  ['fanOut', (stats) => fanOut({ execute: (items: string[]) => items, stats: stats as never })],
  ['bufferWindow', (stats) => bufferWindow({ windowMs: 5, stats: stats as never })],
  ['adaptiveBuffer', (stats) => adaptiveBuffer({ stats: stats as never })],
];

describe('operators composed by hand refuse a stats that is not a recorder, at creation', () => {
  for (const [operator, create] of OPERATORS) {
    it.each(NOT_RECORDERS)(`${operator}, stats %s: a TypeError naming ${operator} and stats`, (_, stats) => {
      expect(() => create(stats)).toThrow(new TypeError(`${operator}: stats must be a recorder made by createBatchStats()`));
    });

    it(`${operator} takes a recorder made by createBatchStats()`, () => {
      expect(() => create(createBatchStats())).not.toThrow();
    });
  }
});
