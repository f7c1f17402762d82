import { readFileSync } from 'node:fs';
import { map } from 'rxjs';
import { expect, it } from 'vitest';
import { batchDedup } from '../src/index.js';
import { createTestScheduler, outcome, simulatedBackend } from '../src/testing/index.js';

// The "Testing your pipelines" example of README.md, verbatim (the last test holds the two together).
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

it('README.md shows the example above verbatim, imports mapped to the package', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.split('\n## Testing your pipelines\n')[1]?.split('\n## ')[0] ?? '';
  const block = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(block, 'a ts code block under "## Testing your pipelines"').toBeDefined();
  const source = readFileSync(new URL(import.meta.url), 'utf8');
  const lines = block!.trimEnd().split('\n');
  const imports = lines.filter((line) => line.startsWith('import '));
  const code = lines.filter((line) => !line.startsWith('import ')).join('\n').trim();
  // The example's code is this file's example body, one indent deeper.
  expect(source).toContain(code.replace(/^(?=.)/gm, '  '));
  const ourPath: Record<string, string> = {
    'rxjs-batch-dedup': '../src/index.js',
    'rxjs-batch-dedup/testing': '../src/testing/index.js',
    rxjs: 'rxjs',
  };
  expect(imports.length).toBeGreaterThan(0);
  for (const line of imports) {
    const [, names, from] = /^import \{ (.+) \} from '([^']+)';$/.exec(line) ?? [];
    const ours = new RegExp(`^import \\{ (.+) \\} from '${ourPath[from!] ?? '?'}';$`, 'm').exec(source)?.[1];
    expect(ours, `this file imports from the sources what the README imports from ${from}`).toBeDefined();
    for (const name of names!.split(', ')) expect(ours!.split(', '), line).toContain(name);
  }
});
