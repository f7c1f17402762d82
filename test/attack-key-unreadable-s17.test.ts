/**
 * Requests and keys that throw when the key reads them (H-ATK4, stop 17): a field that is a getter that throws,
 * a revoked proxy as the request or inside it. The encoder let the raw error through (`boom`, or `Cannot perform
 * 'IsArray' on a proxy that has been revoked`), naming neither the key nor where in the request. The request was
 * rejected alone, as it should be; now the message says what and where, as for every value the key cannot encode
 * (docs/keys.md): `the default key cannot encode a value that threw when read (boom) at request.a; pass a key
 * function`, or `key(request) returned ... at key.a`.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { runMoments } from './support.js';

const revoked = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};
const throwing = () =>
  Object.defineProperty({}, 'a', {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });

async function settle<T>(make: (batcher: ReturnType<typeof createBatcher<unknown, string>>) => Promise<T>, key?: (r: unknown) => unknown) {
  const clock = virtualClock();
  const batcher = createBatcher<unknown, string>({
    windowMs: 0,
    scheduler: clock.scheduler,
    ...(key && { key: key as never }),
    execute: (items) => items.map((_, i) => `answer ${i}`),
  });
  const outcomes: PromiseSettledResult<T>[] = [];
  void Promise.allSettled([make(batcher)]).then(([o]) => outcomes.push(o!));
  await runMoments(clock.scheduler, () => outcomes.length === 1);
  await batcher.close();
  return outcomes[0]!;
}

describe('the default key, given what throws when read', () => {
  it.each([
    ['a field whose getter throws', () => throwing(), /^createBatcher: the default key cannot encode a value that threw when read \(boom\) at request\.a; pass a key function$/],
    ['a revoked proxy as the request', () => revoked(), /^createBatcher: the default key cannot encode a value that threw when read \(Cannot perform 'IsArray' on a proxy that has been revoked\) at request; pass a key function$/],
    ['a revoked proxy inside it', () => ({ q: 'x', opts: [revoked()] }), /^createBatcher: the default key cannot encode a value that threw when read \(.*\) at request\.opts\[0\]; pass a key function$/],
  ])('%s: that request is rejected with a TypeError saying what and where', async (_, make, message) => {
    const outcome = await settle((b) => b.process(make()));
    expect(outcome.status).toBe('rejected');
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(TypeError);
    expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(message);
  });

  it('the requests batched with it get their own answers', async () => {
    const outcome = await settle((b) => Promise.allSettled([b.process('fine'), b.process(throwing()), b.process('also fine')]));
    const all = (outcome as PromiseFulfilledResult<PromiseSettledResult<string>[]>).value;
    expect(all.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });
});

describe('a key function returning what throws when read', () => {
  it('names key(request) and where in the key', async () => {
    const outcome = await settle((b) => b.process({ q: 'x' }), () => ({ nested: throwing() }));
    expect(outcome.status).toBe('rejected');
    expect(((outcome as PromiseRejectedResult).reason as Error).message).toMatch(/^createBatcher: key\(request\) returned a value that threw when read \(boom\) at key\.nested\.a; /);
  });
});
