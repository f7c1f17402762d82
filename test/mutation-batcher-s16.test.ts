/**
 * createBatcher's calls and submissions (src/batcher/createBatcher.ts), where the whole-core mutation run of stop 16
 * found survivors (docs/testing.md, issue 17). Public API only; each `it` names the mutant it kills.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher, createBatchStats, type BatchResult } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { drain } from './support.js';

const up = (items: readonly string[]) => items.map((q) => q.toUpperCase());

/** An AbortSignal-shaped object; `addEventListener` throws `broken` when called. */
function signalWhoseAddThrows(aborted: boolean, reason: unknown, broken: Error): AbortSignal {
  return {
    aborted,
    reason,
    addEventListener() {
      throw broken;
    },
    removeEventListener() {},
  } as unknown as AbortSignal;
}

describe('createBatcher: a call whose signal has aborted already', () => {
  // createBatcher.ts:105 `signal && abortState(signal) === undefined` made `signal || ...` (LogicalOperator), and its
  // right side made true (ConditionalExpression): a listener was added to a signal that had aborted already, and a
  // signal whose addEventListener throws then refused the call with that TypeError instead of the abort's reason.
  it('is refused with the signal\'s reason, without adding a listener that could fail', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const reason = new Error('caller gave up');
    const signal = signalWhoseAddThrows(true, reason, new Error('addEventListener is broken'));
    await expect(batcher.process('a', { signal })).rejects.toBe(reason);
    expect(await drain(clock, batcher.close())).toBe(true);
  });
});

describe('createBatcher: a call whose signal cannot take a listener', () => {
  // createBatcher.ts:111 `{ cause: error }` made `{}` (ObjectLiteral): the TypeError lost the error that
  // addEventListener threw.
  it('is refused with a TypeError whose cause is what addEventListener threw', async () => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up });
    const broken = new Error('addEventListener is broken');
    const refused = await batcher.process('a', { signal: signalWhoseAddThrows(false, undefined, broken) }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TypeError);
    expect((refused as TypeError).cause).toBe(broken);
    expect(await drain(clock, batcher.close())).toBe(true);
  });
});

describe('createBatcher.processStreaming after a defect in the pipeline', () => {
  // createBatcher.ts:273 reject()'s `deduplicated` argument `false` made `true` (BooleanLiteral): a request failed by a
  // defect was reported as having shared an equal request's execution.
  it('yields the request as rejected with the defect, not deduplicated, in no batch', async () => {
    const clock = virtualClock();
    const stats = createBatchStats({ scheduler: clock.scheduler });
    const batcher = createBatcher<string, string>({ scheduler: clock.scheduler, windowMs: 5, execute: up, stats });
    const defect = new Error('recorder broke');
    stats.recordRequests = () => {
      throw defect;
    };
    const results: BatchResult<string, string>[] = [];
    for await (const result of batcher.processStreaming(['a'])) results.push(result);
    expect(results).toEqual([{ request: 'a', status: 'rejected', error: defect, batchId: 0, deduplicated: false, latencyMs: 0 }]);
  });
});

describe('createBatcher.processAll given something that is not iterable', () => {
  // createBatcher.ts:346 the iterable check made false (ConditionalExpression) or its block emptied (BlockStatement), and
  // :347 its message's `where` or text emptied (StringLiteral): the caller got the engine's own "is not iterable" or
  // an error naming nothing.
  it('rejects with a TypeError naming processAll and what it got', async () => {
    const batcher = createBatcher<string, string>({ windowMs: 1, execute: up });
    await expect(batcher.processAll(5 as unknown as string[])).rejects.toThrow(
      new TypeError('createBatcher.processAll: requests must be iterable, got 5'),
    );
    await batcher.close();
  });

  // createBatcher.ts:346 `?.[Symbol.iterator]` made `[Symbol.iterator]` (OptionalChaining): null made the check itself
  // throw "Cannot read properties of null".
  it('null: rejects with a TypeError naming processAll and null', async () => {
    const batcher = createBatcher<string, string>({ windowMs: 1, execute: up });
    await expect(batcher.processAll(null as unknown as string[])).rejects.toThrow(
      new TypeError('createBatcher.processAll: requests must be iterable, got null'),
    );
    await batcher.close();
  });
});

describe('createBatcher given no options object', () => {
  // createBatcher.ts:418 (refuseSignalOption) `typeof options === 'object'` made true, or `&&` made `||`
  // (ConditionalExpression, LogicalOperator): reading `signal` of undefined threw "Cannot read properties of undefined"
  // instead of naming the option that is missing.
  it('undefined: throws a TypeError saying execute is required', () => {
    expect(() => createBatcher(undefined as never)).toThrow(new TypeError('createBatcher: execute is required'));
  });

  // createBatcher.ts:418 `options !== null` made true, or the object check made true (ConditionalExpression): null made
  // the signal check throw "Cannot read properties of null".
  it('null: throws a TypeError saying options must be an object', () => {
    expect(() => createBatcher(null as never)).toThrow(new TypeError('createBatcher: options must be an object, got null'));
  });
});

describe('createBatcher.process given a priority that is not a finite number', () => {
  // createBatcher.ts:426 (checkProcessOptions) the priority check made false (ConditionalExpression): with priorities
  // on, a NaN priority was queued (and answered) as if it were one.
  it('with priorities on, NaN is refused with a RangeError naming priority', async () => {
    const batcher = createBatcher<string, string>({ windowMs: 1, execute: up, enablePriorities: true });
    await expect(batcher.process('a', { priority: Number.NaN })).rejects.toThrow(
      new RangeError('createBatcher.process: priority must be finite, got NaN'),
    );
    await batcher.close();
  });

  // createBatcher.ts:426 the name 'priority' emptied (StringLiteral): the error named no option.
  it('a string is refused with a TypeError naming priority', async () => {
    const batcher = createBatcher<string, string>({ windowMs: 1, execute: up, enablePriorities: true });
    await expect(batcher.process('a', { priority: 'high' as unknown as number })).rejects.toThrow(
      new TypeError('createBatcher.process: priority must be a number, got "high"'),
    );
    await batcher.close();
  });
});

describe('createBatcher.process given a signal that is not quite an AbortSignal', () => {
  const NOT_A_SIGNAL = new TypeError('createBatcher.process: signal must be an AbortSignal');

  // createBatcher.ts:432 `typeof s.addEventListener !== 'function'` made false (ConditionalExpression): a signal
  // without addEventListener was taken, and the call then failed calling it, with a message about a throw.
  it('without addEventListener: refused, saying signal must be an AbortSignal', async () => {
    const batcher = createBatcher<string, string>({ windowMs: 1, execute: up });
    const signal = { aborted: false, reason: undefined, removeEventListener() {} } as unknown as AbortSignal;
    await expect(batcher.process('a', { signal })).rejects.toThrow(NOT_A_SIGNAL);
    await batcher.close();
  });

  // createBatcher.ts:442 (abortedIsBoolean) `typeof signal.aborted === 'boolean'` made true (ConditionalExpression): a
  // signal whose `aborted` is no boolean was taken and its request answered.
  it("whose aborted is not a boolean: refused, saying signal must be an AbortSignal", async () => {
    const batcher = createBatcher<string, string>({ windowMs: 1, execute: up });
    const signal = { aborted: 'no', reason: undefined, addEventListener() {}, removeEventListener() {} } as unknown as AbortSignal;
    await expect(batcher.process('a', { signal })).rejects.toThrow(NOT_A_SIGNAL);
    await batcher.close();
  });
});
