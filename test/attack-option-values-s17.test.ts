/**
 * An option given a value that cannot be turned into text (H-ATK4, stop 17): an object of no prototype
 * (`Object.create(null)`, as a parsed config or a `Map`-like record may be), one whose `toString` throws, a
 * revoked proxy. The option checks named the option and the value with `String(value)`, which threw instead:
 * `TypeError: Cannot convert object to primitive value`, or the object's own error, naming neither the option
 * nor the call, at creation and in `configure()` alike. Now the message names the option as for any other wrong
 * value, and a refused `configure()` changes nothing.
 */
import { describe, expect, it } from 'vitest';
import { adaptiveBuffer, batchDedup, bufferWindow, createBatcher, dedupBy, fanOut } from '../src/index.js';
import * as lite from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';
import { runMoments } from './support.js';

const revoked = (() => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
})();
const HOSTILE: [string, unknown][] = [
  ['an object of no prototype', Object.create(null)],
  ['an object whose toString throws', { toString: () => { throw new Error('no text for you'); } }],
  ['a revoked proxy', revoked],
];
const execute = (items: string[]) => items.map((item) => `answer ${item}`);

const MAKERS: [string, RegExp, (value: unknown) => unknown][] = [
  ['createBatcher', /^createBatcher: windowMs must be a number, got /, (v) => createBatcher({ execute, windowMs: v as number })],
  ['lite createBatcher', /^createBatcher: maxSize must be a number, got /, (v) => lite.createBatcher({ execute, maxSize: v as number })],
  ['batchDedup', /^batchDedup: processingTimeoutMs must be a number, got /, (v) => batchDedup({ execute, processingTimeoutMs: v as number })],
  ['bufferWindow', /^bufferWindow: maxWaitMs must be a number, got /, (v) => bufferWindow({ maxWaitMs: v as number })],
  ['adaptiveBuffer', /^adaptiveBuffer: targetLatencyMs must be a number, got /, (v) => adaptiveBuffer({ targetLatencyMs: v as number })],
  ['dedupBy', /^dedupBy: dedupThreshold must be a number, got /, (v) => dedupBy({ dedupStrategy: 'embedding', dedupThreshold: v as number })],
  ['fanOut', /^fanOut: concurrency must be a number, got /, (v) => fanOut({ execute, concurrency: v as number })],
];

describe('an option value that cannot be turned into text is refused naming the option', () => {
  for (const [entry, message, make] of MAKERS) {
    for (const [what, value] of HOSTILE) {
      it(`${entry}, given ${what}`, () => {
        expect(() => make(value)).toThrow(message);
      });
    }
  }

  for (const [what, value] of HOSTILE) {
    it(`createBatcher.configure, given ${what}: refused naming the option, and the batcher keeps its settings`, async () => {
      const clock = virtualClock();
      const sent: string[][] = [];
      const batcher = createBatcher<string, string>({
        windowMs: 5,
        scheduler: clock.scheduler,
        execute: (items) => {
          sent.push([...items]);
          return execute(items);
        },
      });
      expect(() => batcher.configure({ windowMs: value as number })).toThrow(/^createBatcher\.configure: windowMs must be a number, got /);
      const answers = batcher.processAll(['a', 'b']);
      let got: string[] | undefined;
      void answers.then((a) => (got = a));
      await runMoments(clock.scheduler, () => got !== undefined);
      expect(got).toEqual(['answer a', 'answer b']);
      expect(clock.scheduler.now()).toBe(5); // the window of 5 ms still in effect
      expect(sent).toEqual([['a', 'b']]);
      await batcher.close();
    });
  }
});
