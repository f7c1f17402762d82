import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/batcher/createBatcher.js';
import { batchDedup } from '../src/operators/batchDedup.js';
import { bufferWindow } from '../src/operators/bufferWindow.js';
import { dedupBy } from '../src/operators/dedupBy.js';
import { fanOut } from '../src/operators/fanOut.js';
import { createBatchStats } from '../src/stats/batchStats.js';

const execute = (items: unknown[]) => items;

/** [description, options, error class, the text the message must contain] */
const windowCases: [string, object, typeof Error, RegExp][] = [
  ['negative windowMs', { windowMs: -1 }, RangeError, /windowMs must be >= 0/],
  ['NaN windowMs', { windowMs: NaN }, RangeError, /windowMs must be >= 0 ms, or Infinity for no limit; got NaN/],
  ['-Infinity windowMs', { windowMs: -Infinity }, RangeError, /windowMs must be >= 0 ms, or Infinity for no limit/],
  ['string windowMs', { windowMs: '50' }, TypeError, /windowMs must be a number, got "50"/],
  ['maxSize 0', { maxSize: 0 }, RangeError, /maxSize must be >= 1/],
  ['fractional maxSize', { maxSize: 2.5 }, RangeError, /maxSize must be an integer/],
  ['minSize 0', { minSize: 0 }, RangeError, /minSize must be >= 1/],
  ['minSize above maxSize', { minSize: 5, maxSize: 4 }, RangeError, /minSize \(5\) must not exceed maxSize \(4\)/],
  ['negative maxWaitMs', { maxWaitMs: -5 }, RangeError, /maxWaitMs must be >= 0/],
  ['bad scheduler', { scheduler: {} }, TypeError, /scheduler must be an RxJS SchedulerLike/],
];

const dedupCases: [string, object, typeof Error, RegExp][] = [
  ['threshold above 1', { dedupThreshold: 1.5 }, RangeError, /dedupThreshold must be within \[0, 1\]/],
  ['negative threshold', { dedupThreshold: -0.1 }, RangeError, /dedupThreshold/],
  ['unknown strategy', { dedupStrategy: 'fuzzy' }, TypeError, /dedupStrategy must be one of 'exact', 'embedding', 'hybrid'/],
  ['key not a function', { key: 'id' }, TypeError, /key must be a function/],
  ['scope not a function', { scope: 'tenant' }, TypeError, /scope must be a function/],
  ['dedupFunction not a function', { dedupFunction: 0.9 }, TypeError, /dedupFunction must be a function/],
  ['enableDedup not boolean', { enableDedup: 'yes' }, TypeError, /enableDedup must be true or false/],
];

const fanOutCases: [string, object, typeof Error, RegExp][] = [
  ['missing execute', { execute: undefined }, TypeError, /execute is required/],
  ['execute not a function', { execute: 'http://backend' }, TypeError, /execute must be a function/],
  ['concurrency 0', { concurrency: 0 }, RangeError, /concurrency must be >= 1/],
  ['processingTimeoutMs 0', { processingTimeoutMs: 0 }, RangeError, /processingTimeoutMs must be >= 1/],
  ['unknown onTimeout', { onTimeout: 'retry' }, TypeError, /onTimeout must be one of 'reject', 'individual'/],
];

const pipelineCases: [string, object, typeof Error, RegExp][] = [
  ['maxQueueSize 0', { maxQueueSize: 0 }, RangeError, /maxQueueSize must be >= 1/],
  ['negative cost', { costPerRequestUsd: -1 }, RangeError, /costPerRequestUsd must be >= 0/],
  ['requestTimeoutMs 0', { requestTimeoutMs: 0 }, RangeError, /requestTimeoutMs must be >= 1/],
  ['priority not a function', { priority: 1 }, TypeError, /priority must be a function/],
  ['stats not a recorder', { stats: {} }, TypeError, /stats must be a recorder made by createBatchStats/],
  ['enablePriorities not boolean', { enablePriorities: 1 }, TypeError, /enablePriorities must be true or false/],
];

describe('option validation at creation', () => {
  it.each(windowCases)('bufferWindow: %s', (_, options, Kind, message) => {
    expect(() => bufferWindow(options as never)).toThrow(Kind);
    expect(() => bufferWindow(options as never)).toThrow(new RegExp(`^bufferWindow: ${message.source}`));
  });

  it.each(dedupCases)('dedupBy: %s', (_, options, Kind, message) => {
    expect(() => dedupBy(options as never)).toThrow(Kind);
    expect(() => dedupBy(options as never)).toThrow(message);
  });

  it.each(fanOutCases)('fanOut: %s', (_, options, Kind, message) => {
    const full = { execute, ...options };
    expect(() => fanOut(full as never)).toThrow(Kind);
    expect(() => fanOut(full as never)).toThrow(new RegExp(`^fanOut: ${message.source}`));
  });

  it.each([...windowCases, ...dedupCases, ...fanOutCases, ...pipelineCases])('batchDedup: %s', (_, options, Kind, message) => {
    const full = { execute, ...options };
    expect(() => batchDedup(full as never)).toThrow(Kind);
    expect(() => batchDedup(full as never)).toThrow(message);
  });

  it.each(pipelineCases)('createBatcher: %s', (_, options, Kind, message) => {
    expect(() => createBatcher({ execute, ...options } as never)).toThrow(Kind);
    expect(() => createBatcher({ execute, ...options } as never)).toThrow(new RegExp(`^createBatcher: ${message.source}`));
  });

  it('rejects options that are not an object', () => {
    expect(() => bufferWindow(42 as never)).toThrow(/bufferWindow: options must be an object, got 42/);
    expect(() => batchDedup(null as never)).toThrow(TypeError);
  });

  it('createBatchStats validates its options too', () => {
    expect(() => createBatchStats({ costPerRequestUsd: NaN })).toThrow(/costPerRequestUsd must be finite/);
    expect(() => createBatchStats({ latencySamples: 0 })).toThrow(/latencySamples must be >= 1/);
  });

  it('accepts the documented defaults', () => {
    expect(() => bufferWindow()).not.toThrow();
    expect(() => dedupBy()).not.toThrow();
    expect(() => batchDedup({ execute })).not.toThrow();
    expect(() => bufferWindow({ maxSize: Infinity, windowMs: 0, maxWaitMs: 0 })).not.toThrow();
  });
});
