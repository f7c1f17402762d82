import { map } from 'rxjs';
import { expect, it } from 'vitest';
import { batchDedup } from '../src/index.js';
import { createTestScheduler, outcome, simulatedBackend } from '../src/testing/index.js';

// The "Testing your pipelines" example of README.md, verbatim.
it('README testing example holds', () => {
  const scheduler = createTestScheduler((a, b) => expect(a).toEqual(b));
  scheduler.run(({ hot, expectObservable }) => {
    const backend = simulatedBackend({ scheduler, durationMs: () => 5, compute: (q: string) => q.toUpperCase() });
    const results = hot('a--b--a---|').pipe(batchDedup({ execute: backend.execute, windowMs: 10 }), map(outcome));
    expectObservable(results).toBe('---------------(xyz|)', {
      x: { request: 'a', value: 'A' }, y: { request: 'a', value: 'A' }, z: { request: 'b', value: 'B' },
    });
  });
});

it('the default assertion of createTestScheduler reports a difference', () => {
  const scheduler = createTestScheduler();
  expect(() =>
    scheduler.run(({ cold, expectObservable }) => {
      expectObservable(cold('a|')).toBe('b|');
    }),
  ).toThrow(/marbles differ/);
});
