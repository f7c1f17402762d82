/**
 * Stop 22 (helper op): an option given as `null`. No option takes null (none has it in its type), yet most were
 * read with `??`, so null silently meant the default: `fanOut({ processingTimeoutMs: null })` (meant as "no
 * limit") ran with 30 s, `dedupBy({ mergeGuard: null })` (meant as "no guard") with the built-in guard, while
 * `concurrency: null` and `requestTimeoutMs: null` were refused. Row 12: every invalid option is refused at
 * creation naming it. Red before the fix in src/base/validate.ts and src/internal/pipelineConfig.ts: every case
 * below was created without error.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveBuffer, batchDedup, bufferWindow, createBatcher, dedupBy, fanOut } from '../src/index.js';
import { batchDedup as liteBatchDedup, createBatcher as liteCreateBatcher } from '../src/lite/index.js';

const execute = (items: unknown[]) => items;

describe('an option given as null is refused when the operator is created, naming it', () => {
  it.each([
    ['bufferWindow', 'windowMs', () => bufferWindow({ windowMs: null as never })],
    ['bufferWindow', 'maxSize', () => bufferWindow({ maxSize: null as never })],
    ['adaptiveBuffer', 'targetLatencyMs', () => adaptiveBuffer({ targetLatencyMs: null as never })],
    ['dedupBy', 'mergeGuard', () => dedupBy({ mergeGuard: null as never })],
    ['dedupBy', 'enableDedup', () => dedupBy({ enableDedup: null as never })],
    ['fanOut', 'processingTimeoutMs', () => fanOut({ execute, processingTimeoutMs: null as never })],
    ['batchDedup', 'processingTimeoutMs', () => batchDedup({ execute, processingTimeoutMs: null as never })],
    ['batchDedup', 'windowMs', () => batchDedup({ execute, windowMs: null as never })],
    ['createBatcher', 'dedupThreshold', () => createBatcher({ execute, dedupThreshold: null as never })],
    // /lite's lean core checks its options itself.
    ['batchDedup', 'windowMs', () => liteBatchDedup({ execute, windowMs: null as never })],
    ['createBatcher', 'maxSize', () => liteCreateBatcher({ execute, maxSize: null as never })],
  ] as const)('%s: %s', (where, name, make) => {
    expect(make).toThrow(TypeError);
    expect(make).toThrow(new RegExp(`^${where}: ${name} is null`));
  });

  it('createBatcher.configure: refused too', async () => {
    const batcher = createBatcher<string, string>({ execute: (items) => items, windowMs: 7 });
    expect(() => batcher.configure({ windowMs: null as never })).toThrow(/^createBatcher\.configure: windowMs is null/);
    await batcher.close();
  });

  it('undefined is still no option given: the default', () => {
    expect(() => bufferWindow({ windowMs: undefined })).not.toThrow();
    expect(() => fanOut({ execute, processingTimeoutMs: undefined })).not.toThrow();
    expect(() => batchDedup({ execute, windowMs: undefined })).not.toThrow();
  });
});
