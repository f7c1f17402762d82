/**
 * The operators composed by hand refuse an option name they do not know, at creation, naming it and listing
 * theirs (a dozen at most: `batchDedup` and `createBatcher`, with fifty, name the nearest instead; docs/reliability.md
 * row 34). Before, a typo was ignored: `dedupBy({ dedupTreshold: 0.5 })` ran at the default threshold, 0.98.
 */
import { describe, expect, it } from 'vitest';
import * as main from '../src/index.js';
import * as lite from '../src/lite/index.js';
import * as operators from '../src/operators/index.js';

const execute = (items: readonly string[]) => items.map((item) => item.length);

/** Every documented option of each operator (docs/operators.md, the option interfaces), with a valid value. */
const WINDOW = { windowMs: 5, maxSize: 4, minSize: 1, maxWaitMs: 10, scheduler: undefined, feedback: undefined, stats: undefined };
const DOCUMENTED = {
  bufferWindow: WINDOW,
  adaptiveBuffer: { ...WINDOW, targetLatencyMs: 100, minWindowMs: 1, maxWindowMs: 50 },
  dedupBy: {
    enableDedup: true,
    dedupStrategy: 'exact',
    dedupThreshold: 0.9,
    dedupFunction: undefined,
    key: (r: string) => r,
    scope: () => 'one',
    embed: undefined,
    text: undefined,
    metric: undefined,
    mergeGuard: undefined,
    embedCacheSize: undefined,
    embedTimeoutMs: undefined,
    embedAhead: undefined,
    scheduler: undefined,
    stats: undefined,
  },
  fanOut: { execute, concurrency: 2, processingTimeoutMs: 100, onTimeout: 'reject', scheduler: undefined, feedback: undefined, stats: undefined, enqueuedAt: undefined },
} as const;

type Name = keyof typeof DOCUMENTED;
const ENTRIES = { main, lite, operators } as const;
const make = (entry: keyof typeof ENTRIES, name: Name, options: object) =>
  (ENTRIES[entry][name] as (options: object) => unknown)(options);

describe.each(Object.keys(ENTRIES) as (keyof typeof ENTRIES)[])('the operators of %s', (entry) => {
  it.each(Object.keys(DOCUMENTED) as Name[])('%s takes every documented option', (name) => {
    const options = entry === 'lite' && name === 'dedupBy' ? { ...DOCUMENTED.dedupBy, embed: undefined } : DOCUMENTED[name];
    expect(() => make(entry, name, options)).not.toThrow();
  });

  it('bufferWindow refuses windowMS, listing its options', () => {
    expect(() => make(entry, 'bufferWindow', { windowMS: 5 })).toThrow(
      new TypeError('bufferWindow: unknown option windowMS; the options are windowMs, maxSize, minSize, maxWaitMs, scheduler, feedback, stats'),
    );
  });

  it('adaptiveBuffer refuses targetLatency, listing its options', () => {
    expect(() => make(entry, 'adaptiveBuffer', { targetLatency: 100 })).toThrow(
      new TypeError('adaptiveBuffer: unknown option targetLatency; the options are windowMs, maxSize, minSize, maxWaitMs, scheduler, feedback, stats, targetLatencyMs, minWindowMs, maxWindowMs'),
    );
  });

  it('dedupBy refuses dedupTreshold, listing its options', () => {
    expect(() => make(entry, 'dedupBy', { dedupTreshold: 0.5 })).toThrow(
      new TypeError(
        'dedupBy: unknown option dedupTreshold; the options are enableDedup, dedupStrategy, dedupThreshold, dedupFunction, key, scope, ' +
          'embed, text, metric, mergeGuard, embedCacheSize, embedTimeoutMs, embedAhead, scheduler, stats',
      ),
    );
  });

  it('fanOut refuses timeoutMs, listing its options', () => {
    expect(() => make(entry, 'fanOut', { execute, timeoutMs: 5 })).toThrow(
      new TypeError('fanOut: unknown option timeoutMs; the options are execute, concurrency, processingTimeoutMs, onTimeout, scheduler, feedback, stats, enqueuedAt'),
    );
  });

  it('the first unknown name is the one named', () => {
    expect(() => make(entry, 'bufferWindow', { windowMs: 5, foo: 1, bar: 2 })).toThrow(/^bufferWindow: unknown option foo; /);
  });

  it('an option of another operator is refused (a window option given to dedupBy)', () => {
    expect(() => make(entry, 'dedupBy', { windowMs: 5 })).toThrow(/^dedupBy: unknown option windowMs; /);
  });
});

describe('what the check leaves alone', () => {
  it('names inherited from a prototype are not options (as Object.keys reads them), so a class instance works', () => {
    class Settings {
      windowMs = 5;
    }
    (Settings.prototype as unknown as Record<string, unknown>)['extra'] = 1;
    expect(() => main.bufferWindow(new Settings())).not.toThrow();
  });

});
