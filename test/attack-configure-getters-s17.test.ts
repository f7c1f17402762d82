/**
 * `configure()` given an options object whose fields are getters (a live config object, a proxy) (H-ATK4, stop 17).
 * It read each field twice: once to build the new settings, once to list what changed. A `key` that reads as the
 * new function the first time and as the old one the second was put in effect, yet not listed as changed, so no
 * new in-flight generation started: a request keyed by the new `key` joined an execution begun for a request
 * keyed by the old one, and was answered with that request's result, equal to it under neither key (row 38). A
 * getter that threw on its second read threw out of `configure()` after the new dedup stage had been made. Now
 * each field is read once, and a field that throws when read is refused naming it.
 */
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';
import { runMoments } from './support.js';

interface Req {
  readonly id: string;
  readonly tenant: string;
}

const byId = (r: Req) => r.id;
const byTenant = (r: Req) => r.tenant;

function batcherOn(clock: ReturnType<typeof virtualClock>) {
  const vts = clock.scheduler;
  return createBatcher<Req, string>({
    windowMs: 0,
    key: byId,
    scheduler: vts,
    execute: (items) => new Promise((resolve) => vts.schedule(() => resolve(items.map((r) => `answer for ${r.id}/${r.tenant}`)), 10)),
  });
}

describe('configure() reads each option once', () => {
  it('a key getter that reads differently the second time: no request is answered for one equal to it under neither key', async () => {
    const clock = virtualClock();
    const batcher = batcherOn(clock);
    const first = batcher.process({ id: 'x', tenant: 'y' }); // executing from 0 to 10, keyed 'x' by id
    clock.advanceBy(2);
    let reads = 0;
    batcher.configure({
      get key() {
        return reads++ === 0 ? byTenant : byId;
      },
    });
    const second = batcher.process({ id: 'x', tenant: 'x' });
    const third = batcher.process({ id: 'z', tenant: 'x' }); // 'z' by id, 'x' by tenant: never equal to the first
    let got: string[] | undefined;
    void Promise.all([first, second, third]).then((answers) => (got = answers));
    await runMoments(clock.scheduler, () => got !== undefined);
    // By tenant (the key read): the second and third are equal, and share one execution of their own.
    expect(got).toEqual(['answer for x/y', 'answer for x/x', 'answer for x/x']);
    expect(reads).toBe(1);
    await batcher.close();
  });

  it('a getter that throws on its second read: configure() takes the value read once, and throws nothing', async () => {
    const clock = virtualClock();
    const batcher = batcherOn(clock);
    let reads = 0;
    expect(() =>
      batcher.configure({
        get windowMs() {
          if (reads++ > 0) throw new Error('read twice');
          return 5;
        },
      }),
    ).not.toThrow();
    const answer = batcher.process({ id: 'a', tenant: 't' });
    let got: string | undefined;
    void answer.then((a) => (got = a));
    await runMoments(clock.scheduler, () => got !== undefined);
    expect(got).toBe('answer for a/t');
    expect(clock.scheduler.now()).toBe(15); // the window of 5 ms, then the 10 ms execution
    await batcher.close();
  });

  it('a getter that throws: refused naming the option, and nothing changes', async () => {
    const clock = virtualClock();
    const batcher = batcherOn(clock);
    expect(() =>
      batcher.configure({
        windowMs: 7,
        get maxSize(): number {
          throw new Error('config store is down');
        },
      }),
    ).toThrow(/^createBatcher\.configure: options\.maxSize could not be read \(config store is down\)$/);
    const answer = batcher.process({ id: 'a', tenant: 't' });
    let got: string | undefined;
    void answer.then((a) => (got = a));
    await runMoments(clock.scheduler, () => got !== undefined);
    expect(clock.scheduler.now()).toBe(10); // windowMs still 0
    await batcher.close();
  });

  it('a Proxy whose list of names throws: refused naming the options, and nothing changes (stop 22: check.readOnce)', async () => {
    const clock = virtualClock();
    const batcher = batcherOn(clock);
    const options = new Proxy(
      { windowMs: 7 },
      {
        ownKeys() {
          throw new Error('config store is down');
        },
      },
    );
    expect(() => batcher.configure(options)).toThrow(/^createBatcher\.configure: options could not be read \(config store is down\)$/);
    const answer = batcher.process({ id: 'a', tenant: 't' });
    let got: string | undefined;
    void answer.then((a) => (got = a));
    await runMoments(clock.scheduler, () => got !== undefined);
    expect(clock.scheduler.now()).toBe(10); // windowMs still 0
    await batcher.close();
  });
});
