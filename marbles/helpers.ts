import type { SchedulerLike } from 'rxjs';
import { expect } from 'vitest';
import { BatchStatsRecorder } from '../src/stats/batchStats.js';
import { createTestScheduler } from '../src/testing/index.js';

/** A TestScheduler asserting with vitest's `toEqual`, for readable diffs. */
export function testScheduler() {
  return createTestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** A recorder that also notes the scheduler time of every fallback. */
export class StampedStats extends BatchStatsRecorder {
  readonly fallbacksAt: number[] = [];
  constructor(private readonly clock: SchedulerLike) {
    super({ scheduler: clock });
  }
  override recordEmbedFallback(): void {
    super.recordEmbedFallback();
    this.fallbacksAt.push(this.clock.now());
  }
}
