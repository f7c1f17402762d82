/**
 * batchDedup's `signal(request)` returning a signal-shaped object whose listener-method GETTER throws
 * (src/internal/pipelineConfig.ts, `isAbortSignal`), which no test reached in the whole-core mutation run of stop 16
 * (docs/testing.md, issue 17). Public API only.
 */
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchDedup, type BatchResult } from '../src/index.js';
import { virtualClock } from '../src/testing/index.js';

const up = (items: readonly string[]) => items.map((q) => q.toUpperCase());

/** Signal-shaped, never aborting, but reading `broken` throws. */
function signalWithThrowingGetter(broken: 'addEventListener' | 'removeEventListener'): AbortSignal {
  const methods = { addEventListener() {}, removeEventListener() {} };
  const signal = { aborted: false, reason: undefined, ...methods };
  Object.defineProperty(signal, broken, {
    enumerable: true,
    get() {
      throw new Error(`${broken} getter is broken`);
    },
  });
  return signal as unknown as AbortSignal;
}

function run(broken: 'addEventListener' | 'removeEventListener') {
  const clock = virtualClock();
  const source = new Subject<string>();
  const results: BatchResult<string, string>[] = [];
  let ended = 'not yet';
  source
    .pipe(
      batchDedup<string, string>({
        scheduler: clock.scheduler,
        windowMs: 5,
        signal: (r) => (r === 'odd' ? signalWithThrowingGetter(broken) : undefined),
        execute: up,
      }),
    )
    .subscribe({ next: (r) => results.push(r), error: (e: unknown) => (ended = `error ${String(e)}`), complete: () => (ended = 'complete') });
  source.next('odd');
  source.next('plain');
  source.complete();
  clock.runAll();
  return { results, ended };
}

describe('batchDedup: signal(request) returning an object whose listener-method getter throws', () => {
  // pipelineConfig.ts:608 (isAbortSignal's catch) `return false` made `return true` (BooleanLiteral): such an object
  // passed for an AbortSignal; with a throwing removeEventListener getter its request was even sent and answered.
  it.each(['addEventListener', 'removeEventListener'] as const)(
    '%s getter throwing: that request alone is rejected with a TypeError saying signal(request) must return an AbortSignal',
    (broken) => {
      const { results, ended } = run(broken);
      expect(ended).toBe('complete');
      expect(results).toHaveLength(2);
      const odd = results.find((r) => r.request === 'odd');
      expect(odd?.status).toBe('rejected');
      expect(odd?.error).toBeInstanceOf(TypeError);
      expect(String(odd?.error)).toMatch(/batchDedup: signal\(request\) returned .*it must return an AbortSignal or undefined/);
      expect(results.find((r) => r.request === 'plain')?.value).toBe('PLAIN');
    },
  );
});
