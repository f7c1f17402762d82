import { VirtualTimeScheduler } from 'rxjs';
import { it } from 'vitest';
import { createBatcher } from '../src/index.js';
import { trackTimers } from '../src/testing/index.js';
import { runMoments } from './support.js';
it('dbg', async () => {
  const clock = new VirtualTimeScheduler();
  const live: string[] = [];
  const inner = trackTimers(clock);
  const sched = { now: () => clock.now(), schedule: (w: any, d: any, s: any) => { const stack = new Error().stack!.split('\n').slice(2, 6).join(' | '); live.push(`${d}: ${stack}`); return inner.scheduler.schedule(w, d, s); } };
  const batcher = createBatcher<{ q: string }, string>({
    windowMs: 0, maxWaitMs: 0, maxSize: 2, processingTimeoutMs: 1, dedupStrategy: 'embedding', embedTimeoutMs: 1,
    text: () => 'same', embedCacheSize: 0, mergeGuard: false, dedupThreshold: 0.5, scheduler: sched as any,
    key: (r) => r.q,
    embed: (texts) => new Promise((resolve) => clock.schedule(() => resolve(texts.map(() => [1, 0])), 2)),
    execute: (items) => items.map((i) => i.q),
  });
  const c0 = new AbortController(); const c1 = new AbortController();
  clock.schedule(() => { c0.abort(new Error('a0')); c1.abort(new Error('a1')); }, 0);
  batcher.process({ q: 'x' }, { timeoutMs: 0, signal: c0.signal }).catch((e) => console.log('r0', String(e)));
  batcher.process({ q: 'x' }, { signal: c1.signal }).catch((e) => console.log('r1', String(e)));
  let pending = -1;
  void batcher.close().then(() => (pending = inner.pending()));
  await runMoments(clock, () => pending >= 0);
  console.log('pending at close', pending);
  console.log(live.join('\n'));
});
