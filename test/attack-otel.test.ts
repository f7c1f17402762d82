/**
 * `publishBatchStats` given what is not a meter, a source or its options. Before, it failed inside with whatever
 * JavaScript said (`Cannot destructure property 'meter' of 'options' as it is undefined`, `Cannot read properties of
 * null (reading 'createObservableCounter')`, `Cannot use 'in' operator to search for 'getStats' in null`), or took a
 * number as a prefix and a string as attributes. Now each is refused at the call with a TypeError that starts `publishBatchStats:` and names the
 * argument, before anything is registered with the meter. A meter that is well formed but whose methods throw lets
 * its own error through, at the call.
 */
import { describe, expect, it } from 'vitest';
import { createBatchStats } from '../src/index.js';
import { publishBatchStats } from '../src/otel/index.js';

/** A meter that records what it was asked, enough for publishBatchStats. */
function recordingMeter() {
  const calls: string[] = [];
  const meter = {
    createObservableCounter: (name: string) => (calls.push(`counter ${name}`), {}),
    createObservableGauge: (name: string) => (calls.push(`gauge ${name}`), {}),
    addBatchObservableCallback: () => void calls.push('callback'),
    removeBatchObservableCallback: () => void calls.push('removed'),
  };
  return { meter, calls };
}

const stats = createBatchStats();

describe('publishBatchStats refuses bad arguments, naming them', () => {
  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 5],
    ['an array', []],
  ])('options %s: a TypeError naming options', (_, options) => {
    expect(() => publishBatchStats(stats, options as never)).toThrow(/^publishBatchStats: options must be an object with a meter/);
  });

  it.each([
    ['missing', undefined],
    ['null', null],
    ['a string', 'meter'],
    ['an object without createObservableCounter', { createObservableGauge: () => ({}), addBatchObservableCallback: () => {} }],
    ['an object without addBatchObservableCallback', { createObservableCounter: () => ({}), createObservableGauge: () => ({}) }],
  ])('meter %s: a TypeError naming meter, nothing registered', (_, meter) => {
    expect(() => publishBatchStats(stats, { meter } as never)).toThrow(/^publishBatchStats: meter must be an OpenTelemetry Meter/);
  });

  it.each([
    ['null', null],
    ['a number', 5],
    ['a string', 'stats'],
  ])('source %s: a TypeError naming source, nothing registered', (_, source) => {
    const { meter, calls } = recordingMeter();
    expect(() => publishBatchStats(source as never, { meter } as never)).toThrow(/^publishBatchStats: source must have getStats\(\) or snapshot\(\)/);
    expect(calls).toEqual([]);
  });

  it.each([
    ['a number', 5],
    ['an object', {}],
  ])('prefix %s: a TypeError naming prefix, nothing registered', (_, prefix) => {
    const { meter, calls } = recordingMeter();
    expect(() => publishBatchStats(stats, { meter, prefix } as never)).toThrow(/^publishBatchStats: prefix must be a string/);
    expect(calls).toEqual([]);
  });

  it.each([
    ['a string', 'batcher=embed'],
    ['an array', ['batcher', 'embed']],
  ])('attributes %s: a TypeError naming attributes, nothing registered', (_, attributes) => {
    const { meter, calls } = recordingMeter();
    expect(() => publishBatchStats(stats, { meter, attributes } as never)).toThrow(/^publishBatchStats: attributes must be an object/);
    expect(calls).toEqual([]);
  });

  it('a well-formed meter whose method throws: its own error, at the call', () => {
    const meter = { ...recordingMeter().meter, createObservableGauge: () => { throw new Error('meter broken'); } };
    expect(() => publishBatchStats(stats, { meter } as never)).toThrow('meter broken');
  });

  it('a well-formed call registers one callback and unregisters it once', () => {
    const { meter, calls } = recordingMeter();
    const published = publishBatchStats(stats, { meter } as never);
    published.unregister();
    published.unregister();
    expect(calls.filter((c) => c === 'callback' || c === 'removed')).toEqual(['callback', 'removed']);
  });
});
