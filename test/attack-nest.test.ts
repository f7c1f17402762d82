/**
 * Per-call options through the NestJS service (H-ATK2). `BatchDedupService.process(request, options)` read
 * `options.signal` and spread `options` into its own before the batcher saw them, so the batcher's refusal of bad
 * per-call options (docs/reliability.md row 19) was lost: `null` failed with "Cannot read properties of null", `5`
 * or `'x'` were taken as no options, a `signal` that is no AbortSignal failed with "addEventListener is not a
 * function". Now the batcher judges the options as given, and the Observable errors with its message.
 *
 * Found on the way: `createBatcher.process` accepted a `signal` without `removeEventListener` (its check asked for
 * `aborted` and `addEventListener` only), then threw when the request was answered, so the promise never settled.
 * It is refused now, as `batchDedup`'s `signal(request)` refuses it (`isAbortSignal`).
 */
import { firstValueFrom, lastValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { createBatcher, type Batcher } from '../src/index.js';
import { BatchDedupService } from '../src/nestjs/index.js';

let batcher: Batcher<number, number> | undefined;
afterEach(async () => {
  await batcher?.close();
  batcher = undefined;
});

function service(): BatchDedupService<number, number> {
  const made = createBatcher<number, number>({ execute: async (xs) => xs.map((x) => 2 * x), windowMs: 1 });
  batcher = made;
  return new BatchDedupService<number, number>('double', () => made);
}

/** What the Observable of `process` gives: its value, or its error's name and message. */
async function outcome(result: Promise<number | number[]>): Promise<string> {
  return result.then(
    (value) => `value ${JSON.stringify(value)}`,
    (error: unknown) => `${(error as Error).name}: ${(error as Error).message}`,
  );
}

/** A signal as a polyfill of another realm might look, without removeEventListener. */
const withoutRemove = () => ({ aborted: false, reason: undefined, addEventListener: () => undefined }) as unknown as AbortSignal;

describe('BatchDedupService.process with bad per-call options: refused as the batcher refuses them', () => {
  it.each([
    ['null', null, 'TypeError: createBatcher.process: options must be an object, got null'],
    ['a number', 5, 'TypeError: createBatcher.process: options must be an object, got 5'],
    ['a string', 'x', 'TypeError: createBatcher.process: options must be an object, got "x"'],
    ['a signal that is a string', { signal: 'x' }, 'TypeError: createBatcher.process: signal must be an AbortSignal'],
    ['a signal that is an empty object', { signal: {} }, 'TypeError: createBatcher.process: signal must be an AbortSignal'],
    ['a signal without removeEventListener', { signal: withoutRemove() }, 'TypeError: createBatcher.process: signal must be an AbortSignal'],
  ])('%s', async (_, options, expected) => {
    const doubles = service();
    expect(await outcome(firstValueFrom(doubles.process(1, options as never)))).toBe(expected);
    // The service goes on serving.
    expect(await outcome(firstValueFrom(doubles.process(2)))).toBe('value 4');
  });

  it('processAll with options that are not an object errors with the batcher message', async () => {
    const doubles = service();
    expect(await outcome(lastValueFrom(doubles.processAll([1, 2], 7 as never)))).toBe('TypeError: createBatcher.process: options must be an object, got 7');
  });

  it('a real signal is still linked: aborting it withdraws the request with its reason', async () => {
    const doubles = service();
    const controller = new AbortController();
    const pending = outcome(firstValueFrom(doubles.process(3, { signal: controller.signal })));
    controller.abort(new Error('caller left'));
    expect(await pending).toBe('Error: caller left');
  });
});

describe('createBatcher.process with a signal without removeEventListener', () => {
  it('is refused at once, not accepted and left unsettled', async () => {
    batcher = createBatcher<number, number>({ execute: async (xs) => xs.map((x) => 2 * x), windowMs: 1 });
    const settled = await Promise.race([
      outcome(batcher.process(1, { signal: withoutRemove() })),
      new Promise<string>((resolve) => setTimeout(() => resolve('still pending after 200 ms'), 200)),
    ]);
    expect(settled).toBe('TypeError: createBatcher.process: signal must be an AbortSignal');
  });
});
