/**
 * A scheduler whose clock gives no time. Every timing rule compares readings of `scheduler.now()`; NaN compares
 * false with everything, so with such a clock no window ever closed and nothing was batched until the source
 * ended (a promise caller without `timeoutMs` waited forever). A clock broken from the start is refused where the
 * scheduler is given, naming `scheduler.now()`; one that breaks later is marbles/attack-clock-broken's.
 */
import { describe, expect, it } from 'vitest';
import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { adaptiveBuffer, batchDedup, bufferWindow, createBatcher, dedupBy, fanOut } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { runFor } from './support.js';

const up = (items: string[]) => items.map((q) => q.toUpperCase());

function clockReading(read: () => unknown): SchedulerLike {
  return { now: read as () => number, schedule: asyncScheduler.schedule.bind(asyncScheduler) as SchedulerLike['schedule'] };
}

const BROKEN: [string, () => unknown, RegExp][] = [
  ['NaN', () => NaN, /scheduler\.now\(\) must give a finite number of ms, got NaN$/],
  ['Infinity', () => Infinity, /scheduler\.now\(\) must give a finite number of ms, got Infinity$/],
  ['a string', () => '12', /scheduler\.now\(\) must give a finite number of ms, got "12"$/],
  ['a throw', () => { throw new Error('no clock here'); }, /scheduler\.now\(\) must give a finite number of ms, got Error: no clock here$/],
];

const ENTRIES: [string, (scheduler: SchedulerLike) => unknown][] = [
  ['bufferWindow', (scheduler) => bufferWindow({ windowMs: 5, scheduler })],
  ['adaptiveBuffer', (scheduler) => adaptiveBuffer({ scheduler })],
  ['dedupBy', (scheduler) => dedupBy({ scheduler })],
  ['fanOut', (scheduler) => fanOut({ execute: up, scheduler })],
  ['batchDedup', (scheduler) => batchDedup({ execute: up, scheduler })],
  ['createBatcher', (scheduler) => createBatcher({ execute: up, scheduler })],
];

describe.each(ENTRIES)('%s: a scheduler whose now() gives no time is refused at creation', (name, create) => {
  it.each(BROKEN)('now() giving %s: a TypeError naming scheduler.now()', (_what, read, message) => {
    expect(() => create(clockReading(read))).toThrow(TypeError);
    expect(() => create(clockReading(read))).toThrow(new RegExp(`^${name}: `));
    expect(() => create(clockReading(read))).toThrow(message);
  });
});

describe('createBatcher: a clock that breaks after creation', () => {
  it.each([NaN, Infinity])('reading %s from the first call on: each window still ends windowMs after it opened', async (broken) => {
    const clock = virtualClock();
    let isBroken = false;
    const scheduler: SchedulerLike = {
      now: () => (isBroken ? broken : clock.scheduler.now()),
      schedule: clock.scheduler.schedule.bind(clock.scheduler) as SchedulerLike['schedule'],
    };
    const calls: string[][] = [];
    const batcher = createBatcher<string, string>({ scheduler, windowMs: 5, execute: (items) => (calls.push(items), up(items)) });
    isBroken = true;
    const first = batcher.process('a');
    await runFor(clock, 4);
    expect(calls).toEqual([]);
    await runFor(clock, 1);
    expect(calls).toEqual([['a']]);
    await expect(first).resolves.toBe('A');
    const second = batcher.process('b');
    await runFor(clock, 5);
    await expect(second).resolves.toBe('B');
    expect(calls).toEqual([['a'], ['b']]);
  });
});
