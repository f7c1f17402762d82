/**
 * Error messages show what a user function returned or threw, telling types apart and never throwing themselves
 * (src/base/describeValue.ts). Found unguarded by mutation testing (docs/testing.md): long strings shown
 * whole, nameless classes shown as "an instance of undefined", a thrown string shown as "undefined", a revoked
 * proxy described as nothing at all.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { describeThrown, describeValue } from '../src/base/describeValue.js';
import { virtualClock } from '../src/testing/index.js';
import { settleAll } from './support.js';

const revokedProxy = (): object => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
};

describe('describeValue: a short description that tells types apart', () => {
  it('shows a string of up to 60 characters whole, quoted', () => {
    const sixty = 'x'.repeat(60);
    expect(describeValue(sixty)).toBe(JSON.stringify(sixty));
  });

  it('cuts a longer string to its first 60 characters and "..."', () => {
    const long = `${'a'.repeat(60)}TAIL`;
    expect(describeValue(long)).toBe(JSON.stringify(`${'a'.repeat(60)}...`));
  });

  it.each([
    ['a plain object', {}, 'an object'],
    ['an object without prototype', Object.create(null) as object, 'an object'],
    ['an instance of a named class', new (class Point {})(), 'an instance of Point'],
    ['an instance of a nameless class', new ((() => class {})())(), 'an object with a custom prototype'],
    ['an object whose prototype has no constructor', Object.create(Object.create(Object.create(null) as object) as object) as object, 'an object with a custom prototype'],
    ['an object whose constructor name is not a string', Object.create({ constructor: { name: 42 } }) as object, 'an object with a custom prototype'],
    ['a revoked proxy (every look at it throws)', revokedProxy(), 'an object'],
  ])('%s', (_, value, description) => {
    expect(describeValue(value)).toBe(description);
  });
});

describe('describeThrown: the message of what a user function threw', () => {
  it.each([
    ['an Error: its message', new RangeError('out of range'), 'out of range'],
    ['a string: as it is, unquoted', 'no tenant', 'no tenant'],
    ['a number: described', 42, '42'],
    ['an object with a message field but no Error: described, not read', { message: 'not an error' }, 'an object'],
    ['a revoked proxy: described without throwing', revokedProxy(), 'an object'],
  ])('%s', (_, thrown, message) => {
    expect(describeThrown(thrown)).toBe(message);
  });

  it.each([
    ['a string', 'no tenant', 'createBatcher: key(request) threw: no tenant'],
    ['a number', 7, 'createBatcher: key(request) threw: 7'],
  ])('a key function that throws %s rejects that request with a message that shows it', async (_, thrown, message) => {
    const clock = virtualClock();
    const batcher = createBatcher<string, string>({
      windowMs: 5,
      scheduler: clock.scheduler,
      key: (r) => {
        if (r === 'poison') throw thrown;
        return r;
      },
      execute: (items) => items.map((s) => s.toUpperCase()),
    });
    const bad = batcher.process('poison');
    const good = batcher.process('ok');
    expect(((await settleAll(clock, bad)) as PromiseRejectedResult).reason).toMatchObject({ name: 'TypeError', message });
    expect(await settleAll(clock, good)).toEqual({ status: 'fulfilled', value: 'OK' });
  });
});
