/**
 * H-BR, stop 22: `batchDedup` with `signal(request)`, the request's signal aborted from inside `key(request)` or
 * `priority(request)` while the engine takes it in. The engine read the signal before calling them, and not
 * after: aborted inside `key`, the request then joined an equal request waiting and was answered with its result
 * (`second: a!` below) where `/lite`'s lean core refuses it with the reason (reliability row 122: a request whose
 * signal aborted before it joined is refused, never joined); aborted inside `priority`, it was queued with an
 * abort listener that would never fire, and sent. It is now refused with the reason, as one aborted before it
 * arrived, on main and `/lite` with `engine()`; the lean core runs the key cases too.
 */
import { Subject, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup as mainBatchDedup, type BatchResult } from '../src/index.js';
import { batchDedup as liteBatchDedup, engine, priorities } from '../src/lite/index.js';
import { virtualClock } from '../src/testing/index.js';

interface Req {
  readonly id: string;
  readonly key: string;
  /** Its signal, aborted by `key` (or `priority`) when it reads the request. */
  readonly controller?: AbortController;
}
type Make = (options: object) => OperatorFunction<Req, BatchResult<Req, string>>;
const makers: [string, Make][] = [
  ['main', (options) => mainBatchDedup(options as never) as never],
  ['/lite with engine()', (options) => liteBatchDedup({ ...options, engine: engine() } as never) as never],
  ['/lite lean core', (options) => liteBatchDedup(options as never) as never],
];

const reason = new Error('left while keyed');

function run(make: Make, requests: Req[], options: object = {}) {
  const clock = virtualClock();
  const source = new Subject<Req>();
  const outcomes: string[] = [];
  const sent: string[] = [];
  source
    .pipe(
      make({
        scheduler: clock.scheduler,
        windowMs: 5,
        key: (r: Req) => {
          r.controller?.abort(reason);
          return r.key;
        },
        signal: (r: Req) => r.controller?.signal,
        execute: (items: Req[]) => {
          sent.push(...items.map((r) => r.id));
          return items.map((r) => `${r.key}!`);
        },
        ...options,
      }),
    )
    .subscribe((r) => outcomes.push(`${r.request.id}: ${r.status === 'fulfilled' ? r.value : (r.error as Error).message}`));
  for (const request of requests) source.next(request);
  clock.advanceBy(10);
  source.complete();
  clock.runAll();
  return { outcomes: outcomes.sort(), sent };
}

describe.each(makers)('%s: the signal aborted from inside key(request)', (_name, make) => {
  it('with an equal request waiting: refused with the reason, never joined to it', () => {
    const { outcomes, sent } = run(make, [
      { id: 'first', key: 'a' },
      { id: 'second', key: 'a', controller: new AbortController() },
    ]);
    expect(outcomes).toEqual(['first: a!', 'second: left while keyed']);
    expect(sent).toEqual(['first']);
  });

  it('alone: refused with the reason, never sent', () => {
    const { outcomes, sent } = run(make, [{ id: 'alone', key: 'b', controller: new AbortController() }]);
    expect(outcomes).toEqual(['alone: left while keyed']);
    expect(sent).toEqual([]);
  });
});

describe('the signal aborted from inside priority(request)', () => {
  const prioritized: [string, Make, object][] = [
    ['main', makers[0]![1], { enablePriorities: true, enableDedup: false, priority: abortingPriority }],
    ['/lite with priorities()', makers[2]![1], { enableDedup: false, priorities: priorities({ priority: abortingPriority }) }],
  ];
  function abortingPriority(r: Req): number {
    r.controller?.abort(reason);
    return 1;
  }

  it.each(prioritized)('%s: refused with the reason, never sent', (_name, make, options) => {
    const { outcomes, sent } = run(make, [{ id: 'x', key: 'x', controller: new AbortController() }, { id: 'y', key: 'y' }], options);
    expect(outcomes).toEqual(['x: left while keyed', 'y: y!']);
    expect(sent).toEqual(['y']);
  });
});
