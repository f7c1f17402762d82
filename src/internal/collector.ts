import type { SchedulerLike, Subscription } from 'rxjs';
import { BatchTimeoutError } from '../errors.js';
import type { BatchFeedback } from './feedback.js';
import { WaitingQueue, type QueueEntry } from './waitingQueue.js';
import type { WindowSettings } from './windowSettings.js';

export interface CollectorConfig<T> {
  readonly scheduler: SchedulerLike;
  /** Read at every decision, so live reconfiguration takes effect at once. */
  readonly settings: () => WindowSettings;
  /** The window for a window opening now; defaults to `settings().windowMs` (adaptiveBuffer overrides it). */
  readonly windowMs?: () => number;
  /** Told of every arrival before its window is decided (the adaptive window estimates the rate). */
  readonly onArrival?: (now: number) => void;
  readonly prioritized?: boolean;
  readonly agingPerMs?: number;
  /** With a feedback channel a batch is formed only while an execution slot is free. */
  readonly feedback?: BatchFeedback;
  readonly emit: (batch: T[]) => void;
  /** A value left the queue without being batched (deadline passed or aborted). */
  readonly onDrop?: (value: T, error: unknown) => void;
  /** Everything accepted has been emitted or dropped after `close()`. */
  readonly onDrained?: () => void;
}

export interface PushOptions {
  readonly priority?: number;
  /** Absolute scheduler time after which the value is dropped with `BatchTimeoutError` if still waiting. */
  readonly deadline?: number;
  readonly timeoutMs?: number;
  /** Aborting removes the value if it is still waiting. */
  readonly signal?: AbortSignal;
}

/**
 * The state machine behind every collecting operator: a queue of waiting values, one window timer, and the
 * rules of DESIGN.md. Time is read only through the scheduler, so `TestScheduler` drives it.
 *
 * A buffer is due when it holds `maxSize` values, when `maxWaitMs` has passed since its oldest value arrived,
 * when its window has closed with at least `minSize` values, or when the source has ended. A due buffer is
 * emitted at once unless the feedback channel says every execution slot is taken; then it waits (and keeps
 * growing) until a slot frees.
 */
export class BatchCollector<T> {
  private readonly queue: WaitingQueue<T>;
  private readonly extras = new Map<QueueEntry<T>, () => void>();
  private windowEnd: number | undefined;
  private timer: Subscription | undefined;
  private timerAt = Infinity;
  private evaluating = false;
  private closed = false;
  private disposed = false;
  private readonly stopListening: (() => void) | undefined;

  constructor(private readonly config: CollectorConfig<T>) {
    this.queue = new WaitingQueue<T>(config.prioritized ?? false, config.agingPerMs ?? 0);
    this.stopListening = config.feedback?.onRelease(() => this.evaluate());
  }

  get size(): number {
    return this.queue.size;
  }

  push(value: T, options?: PushOptions): void {
    const now = this.config.scheduler.now();
    this.config.onArrival?.(now);
    if (this.queue.size === 0) this.windowEnd = now + (this.config.windowMs ?? this.defaultWindowMs)();
    const entry = this.queue.push(value, now, options?.priority ?? 0);
    if (options && (options.deadline !== undefined || options.signal)) this.watch(entry, options, now);
    this.evaluate();
  }

  /** The source has ended: everything waiting is due. `onDrained` fires once the queue is empty. */
  close(): void {
    this.closed = true;
    this.evaluate();
  }

  /** Re-reads the settings (after live reconfiguration) and re-arms the timer. */
  refresh(): void {
    this.evaluate();
  }

  /** Cancels every timer and listener and returns the values still waiting. */
  dispose(): T[] {
    this.disposed = true;
    this.cancelTimer();
    this.stopListening?.();
    for (const release of this.extras.values()) release();
    this.extras.clear();
    return this.queue.drainAll().map((entry) => entry.value);
  }

  private readonly defaultWindowMs = () => this.config.settings().windowMs;

  private watch(entry: QueueEntry<T>, options: PushOptions, now: number): void {
    const { scheduler } = this.config;
    let timer: Subscription | undefined;
    const onAbort = () => {
      const reason: unknown = options.signal!.reason;
      this.drop(entry, reason);
    };
    if (options.deadline !== undefined) {
      const timeoutMs = options.timeoutMs ?? options.deadline - now;
      timer = scheduler.schedule(() => {
        this.drop(entry, new BatchTimeoutError(`request waited ${timeoutMs} ms in the queue (timeoutMs)`, timeoutMs));
      }, Math.max(0, options.deadline - now));
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
    this.extras.set(entry, () => {
      timer?.unsubscribe();
      options.signal?.removeEventListener('abort', onAbort);
    });
  }

  private drop(entry: QueueEntry<T>, error: unknown): void {
    if (!this.queue.remove(entry)) return;
    this.release(entry);
    this.config.onDrop?.(entry.value, error);
    this.evaluate();
  }

  private release(entry: QueueEntry<T>): void {
    const release = this.extras.get(entry);
    if (release) {
      this.extras.delete(entry);
      release();
    }
  }

  private isDue(now: number, s: WindowSettings): boolean {
    const size = this.queue.size;
    if (size === 0) return false;
    if (this.closed || size >= s.maxSize) return true;
    if (now >= this.queue.oldestArrivedAt()! + s.maxWaitMs) return true;
    return size >= s.minSize && now >= this.windowEnd!;
  }

  private evaluate(): void {
    if (this.evaluating || this.disposed) return;
    this.evaluating = true;
    const { scheduler, feedback } = this.config;
    try {
      for (;;) {
        const now = scheduler.now();
        const s = this.config.settings();
        if (!this.isDue(now, s) || (feedback && !feedback.hasCapacity())) break;
        this.flush(now, s);
      }
    } finally {
      this.evaluating = false;
    }
    if (this.disposed) return;
    if (this.queue.size === 0) {
      this.windowEnd = undefined;
      this.cancelTimer();
      if (this.closed) this.config.onDrained?.();
      return;
    }
    this.armTimer();
  }

  private flush(now: number, s: WindowSettings): void {
    const entries = this.queue.take(s.maxSize);
    if (this.extras.size > 0) for (const entry of entries) this.release(entry);
    // Values left behind (only when a full buffer waited for a free slot) start a window of their own.
    if (this.queue.size > 0 && this.windowEnd! > now) {
      this.windowEnd = now + (this.config.windowMs ?? this.defaultWindowMs)();
    }
    this.config.feedback?.reserve();
    this.config.emit(entries.map((entry) => entry.value));
  }

  private armTimer(): void {
    const { scheduler, feedback } = this.config;
    const now = scheduler.now();
    const s = this.config.settings();
    let at: number;
    if (this.isDue(now, s)) {
      // Due but every slot is taken: the next release re-evaluates.
      if (feedback && !feedback.hasCapacity()) {
        this.cancelTimer();
        return;
      }
      at = now;
    } else {
      at = this.queue.oldestArrivedAt()! + s.maxWaitMs;
      if (this.queue.size >= s.minSize) at = Math.min(at, this.windowEnd!);
    }
    if (this.timer && at === this.timerAt) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = scheduler.schedule(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.evaluate();
    }, Math.max(0, at - now));
  }

  private cancelTimer(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
