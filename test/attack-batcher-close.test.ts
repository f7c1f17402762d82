/**
 * H-ATK1: `close()` resolves only once every accepted promise has settled (docs/reliability.md, row 9), in the
 * order a caller sees: a request rejected as the last one owed used to be answered by resolving its promise with
 * a rejected promise, which settles it two microtask turns later, after `close()` had resolved: code after
 * `await batcher.close()` saw that request still pending. Found by test/attack-batcher.properties.test.ts.
 */
import { NEVER } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { createBatcher as createLiteBatcher, engine } from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';
import { turn } from './support.js';

describe.each([
  ['main', createBatcher],
  ['lite', createLiteBatcher],
  // /lite on the engine (the lean core is its default).
  ['lite with engine()', ((options: object) => createLiteBatcher({ ...(options as { execute: () => [] }), engine: engine() })) as typeof createLiteBatcher],
] as const)('createBatcher (%s): close() after the last request is rejected', (_, make) => {
  it.each([
    ['processingTimeoutMs', { processingTimeoutMs: 1, execute: () => NEVER as never }],
    ['a rejecting execute', { execute: () => Promise.reject(new Error('backend down')) }],
    ['a throwing execute', { execute: () => { throw new Error('backend down'); } }],
  ] as const)('by %s: the rejection has settled when close() resolves', async (_name, options) => {
    const clock = virtualClock();
    const batcher = make<string, string>({ scheduler: clock.scheduler, windowMs: 0, ...options });
    let rejected = false;
    void batcher.process('a').catch(() => (rejected = true));
    await turn();
    let seenAtClose: boolean | undefined;
    void batcher.close().then(() => (seenAtClose = rejected));
    for (let i = 0; i < 5 && seenAtClose === undefined; i++) {
      clock.runAll();
      await turn();
    }
    expect(seenAtClose).toBe(true);
  });
});
