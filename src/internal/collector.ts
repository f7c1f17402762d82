import type { SchedulerLike, Subscription } from 'rxjs';
import { BatchTimeoutError } from '../errors.js';
import type { BatchFeedback } from './feedback.js';
import { scheduleAfter } from '../base/timer.js';
import { steadyClock } from '../base/clock.js';
import { describeThrown } from '../base/describeValue.js';
import { abortReason } from '../base/signal.js';
import { WaitingQueue, type PriorityHeap, type QueueEntry } from './waitingQueue.js';

import type { WindowSettings } from './windowSettings.js';

/**
 * What a collector needs of its queue: `FifoQueue` (the operators) or the engine's `WaitingQueue`, which also
 * withdraws values and orders them by priority.
 */
export interface CollectorQueue<T> {
  readonly size: number;
  /** (`priority` and `trackable` are read by `WaitingQueue` only.) */
  push(value: T, arrivedAt: number, priority?: number, trackable?: boolean): unknown;
  /** Up to `n` values, in the order they are to be batched. */
  take(n: number): T[];
  drainAll(): T[];
  oldestArrivedAt(): number | undefined;
}

/** What every collector is told: the window rules, the clock and where batches go. */
export interface WindowCollectorConfig<T> {
  /** When a value arrived, if the caller already read the clock for it (saves a clock read per value). */
  readonly arrivedAt?: (value: T) => number;
  readonly scheduler: SchedulerLike;
  /** Read at every decision, so live reconfiguration takes effect at once. */
  readonly settings: () => WindowSettings;
  /** The window for a window opening now; defaults to `settings().windowMs` (adaptiveBuffer overrides it). */
  readonly windowMs?: () => number;
  /** After a batch report, the length the open window may have at most now (an adaptive window that shrank). */
  readonly replanMs?: () => number;
  /** Told of every arrival before its window is decided (the adaptive window estimates the rate). */
  readonly onArrival?: (now: number) => boolean | void;
  /**
   * With a feedback channel a batch is formed only while an execution slot is free. The collector takes the slot
   * as it emits (`reserve`), in the engine; composed by hand, `fanOut` takes it (see `collect`).
   */
  readonly feedback?: Pick<BatchFeedback, 'hasCapacity' | 'reserve' | 'onRelease'> | undefined;
  readonly emit: (batch: T[]) => void;
  /** Everything accepted has been emitted or dropped after `close()`. */
  readonly onDrained?: () => void;
}

/** The engine's collector also orders by priority and lets values leave unbatched. */
export interface CollectorConfig<T> extends WindowCollectorConfig<T> {
  /** Order by priority in this heap (made by `priorities()`); none: arrival order. */
  readonly heap?: PriorityHeap<T>;
  readonly agingPerMs?: number;
  /** A value left the queue without being batched (deadline passed or aborted). */
  readonly onDrop?: (value: T, error: unknown) => void;
}

export interface PushOptions {
  readonly priority?: number;
  /** Absolute scheduler time after which the value is dropped with `BatchTimeoutError` if still waiting. */
  readonly deadline?: number;
  readonly timeoutMs?: number;
  /** Aborting removes the value if it is still waiting. */
  readonly signal?: AbortSignal;
  /** The caller may take the value back (`withdraw`): `push` returns its entry. */
  readonly withdrawable?: boolean;
}

/**
 * The state machine behind every collecting operator: a queue of waiting values, one window timer, and the
 * rules of DESIGN.md. Time is read only through the scheduler, so `TestScheduler` drives it.
 *
 * A buffer is due when it holds `maxSize` values, when `maxWaitMs` has passed since its oldest value arrived,
 * when its window has closed with at least `minSize` values, or when the source has ended. A due buffer is
 * emitted at once unless the feedback channel says every execution slot is taken; then it waits (and keeps
 * growing) until a slot frees.
 *
 * This class batches with the queue it is given: a plain `FifoQueue` in `bufferWindow` and `adaptiveBuffer`.
 * `BatchCollector` below adds priorities, deadlines, signals and withdrawal for the engine; the split keeps those
 * out of the operators' bundles (docs/decisions.md, "bufferWindow at 3 kB: a FIFO queue of its own").
 */
export class WindowCollector<T> {
  protected windowEnd: number | undefined;
  private openedAt = 0;
  private timer: Subscription | undefined;
  private timerAt = Infinity;
  /** The next moment at which the decision can change by itself (the timer may be set earlier, never later). */
  private decisionAt = Infinity;
  /** The queue size at which an arrival must be evaluated (`minSize` brings the window's end in, `maxSize` fills). */
  private evaluateAtSize = 0;
  /** When the latest timer fired, since the current window opened. */
  // Stryker disable next-line UnaryOperator: openWindow sets it before anything reads it (a value is queued only in an open window, and reached() is read only with values queued).
  private firedAt = -Infinity;
  private evaluating = false;
  private closed = false;
  private disposed = false;
  private readonly stopListening: (() => void) | undefined;
  /** The scheduler's clock; a broken reading counts as the last good one (`steadyClock`). */
  protected readonly now: () => number;

  constructor(
    protected readonly config: WindowCollectorConfig<T>,
    protected readonly queue: CollectorQueue<T>,
  ) {
    this.now = steadyClock(config.scheduler);
    // A freed slot matters only to values waiting for one (an empty queue was evaluated when it emptied).
    this.stopListening = config.feedback?.onRelease(() => {
      // Stryker disable next-line ConditionalExpression: made false, a release with nothing waiting evaluates an empty queue, which finds it as it was left when it emptied (and an onDrained again reaches an owner that ended once); made true it is killed.
      if (this.queue.size === 0) return;
      this.replan(); // an adaptive window may have shortened on the report
      this.evaluate();
    });
  }

  get size(): number {
    return this.queue.size;
  }

  /** @return the value's entry, for `withdraw`, when the options made it withdrawable (`BatchCollector`) */
  push(value: T, options?: PushOptions): QueueEntry<T> | undefined {
    const now = this.config.arrivedAt ? this.config.arrivedAt(value) : this.now();
    // true: the adaptive window shrank (a batch overdue), and the open window ends no later than it now says.
    const replanned = this.config.onArrival?.(now) === true && this.replan();
    if (this.queue.size === 0) this.openWindow(now);
    const entry = this.enqueue(value, now, options);
    // Stryker disable next-line ConditionalExpression: made true, every arrival is evaluated, which decides the same (the fast path only skips evaluations whose outcome it knows); made false it is killed (a timeout).
    if (replanned || !this.unchangedBy(now)) this.evaluate(now);
    return entry;
  }

  /** Puts an arriving value in the queue (and watches it, in `BatchCollector`). */
  protected enqueue(value: T, now: number, _options?: PushOptions): QueueEntry<T> | undefined {
    this.queue.push(value, now);
    return undefined;
  }

  /**
   * True when one more arrival cannot change the decision: a timer is armed for the next moment that matters,
   * the clock has not passed it, and the new size neither fills the buffer nor reaches `minSize` (which would
   * bring the window's end into play). Saves a full evaluation per arrival. The sizes are those of the latest
   * evaluation; a change of settings re-evaluates (`refresh`).
   */
  // Stryker disable next-line BlockStatement: emptied, it answers undefined (false): every arrival is evaluated, which decides the same (the fast path only skips evaluations whose outcome it knows).
  private unchangedBy(now: number): boolean {
    // Stryker disable next-line BooleanLiteral: `this.evaluating` then skips only arrivals during an evaluation, where evaluate() returns at once anyway: every other arrival is evaluated, which decides the same.
    return this.timer !== undefined && !this.evaluating && now <= this.decisionAt && this.queue.size < this.evaluateAtSize;
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
    // Stryker disable next-line BooleanLiteral: dispose() is the last call a collector gets (its timer and release listener are gone, its owner no longer pushes, withdraws find their entries drained); an evaluation it interrupts finds the queue empty.
    this.disposed = true;
    this.cancelTimer();
    this.stopListening?.();
    return this.queue.drainAll();
  }

  /** The open window ends no later than `replanMs` (an adaptive window that shrank) says now. */
  private replan(): boolean {
    // Stryker disable next-line ConditionalExpression,BooleanLiteral: without a window (`windowEnd === undefined` made false), `end < undefined` below is false and returns false the same; returning true only makes an arrival skip the fast path, which decides the same. The other mutants of this line are killed.
    if (!this.config.replanMs || this.windowEnd === undefined) return false;
    const end = this.openedAt + this.config.replanMs();
    // Stryker disable next-line EqualityOperator,BooleanLiteral: `<=` differs only when the end is unchanged, and returning true only makes an arrival skip the fast path: the same decision either way. `>=` and the `!` removed are killed.
    if (!(end < this.windowEnd)) return false;
    this.windowEnd = end;
    return true;
  }

  protected openWindow(now: number): void {
    const { windowMs } = this.config;
    this.windowEnd = now + (windowMs ? windowMs() : this.config.settings().windowMs);
    this.openedAt = now;
    this.firedAt = -Infinity;
  }

  /**
   * A moment has been reached once the clock has passed it, or a timer for it has fired. Arrivals in the very
   * tick a window closes, before its timer runs, still join it; so a window of 0 ms collects the current tick.
   */
  private reached(t: number, now: number): boolean {
    return now > t || this.firedAt >= t;
  }

  private isDue(now: number, s: WindowSettings): boolean {
    const size = this.queue.size;
    if (size === 0) return false;
    if (this.closed || size >= s.maxSize) return true;
    if (this.reached(this.queue.oldestArrivedAt()! + s.maxWaitMs, now)) return true;
    return size >= s.minSize && this.reached(this.windowEnd!, now);
  }

  protected evaluate(now = this.now()): void {
    if (this.evaluating || this.disposed) return;
    this.evaluating = true;
    const { feedback } = this.config;
    let s = this.config.settings();
    let due: boolean;
    try {
      while ((due = this.isDue(now, s)) && (!feedback || feedback.hasCapacity())) {
        this.flush(now, s);
        // Emitting may have run anything downstream, reconfiguration and new arrivals included, and taken time.
        now = this.now();
        s = this.config.settings();
      }
    } finally {
      this.evaluating = false;
    }
    if (this.disposed) return;
    if (this.queue.size === 0) {
      this.windowEnd = undefined;
      this.decisionAt = -Infinity; // the next arrival opens a window and must be evaluated
      // An armed timer is left to run out (it finds nothing due): when the next value arrives sooner, as under
      // load, it serves that window instead of a timer being cancelled and set once per batch.
      if (this.closed) {
        this.cancelTimer();
        this.config.onDrained?.();
      }
      return;
    }
    this.armTimer(now, s, due);
  }

  private flush(now: number, s: WindowSettings): void {
    const batch = this.queue.take(s.maxSize);
    // Values left behind (only when a full buffer waited for a free slot) start a window of their own.
    // Stryker disable next-line ConditionalExpression,EqualityOperator: made true (`size >= 0`), an emptied queue gets a window nothing reads: evaluate() ends it when the loop ends, and an arrival during the emission opens its own first (a readmit follows a withdrawal of a value queued, so opened, since).
    if (this.queue.size > 0 && !this.reached(this.windowEnd!, now)) this.openWindow(now);
    this.config.feedback?.reserve();
    this.config.emit(batch);
  }

  private armTimer(now: number, s: WindowSettings, due: boolean): void {
    if (due) {
      // Due, but every slot is taken: the next release re-evaluates.
      this.cancelTimer();
      return;
    }
    let at = this.queue.oldestArrivedAt()! + s.maxWaitMs;
    // The longest this timer need be: what is due is due within maxWaitMs of an arrival, or within the open
    // window's length of its opening, both at or before now. Only a clock that stepped back since makes `at - now`
    // longer; the timer then fires at this bound, never early (and `at` counts as reached).
    let bound = s.maxWaitMs;
    if (this.queue.size >= s.minSize) {
      at = Math.min(at, this.windowEnd!);
      bound = Math.min(bound, this.windowEnd! - this.openedAt);
    }
    this.decisionAt = at;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: made true (or `<=`), a buffer at or past minSize has every arrival evaluated (its size is past minSize), which decides the same: the fast path only skips evaluations whose outcome it knows. Made false it is killed.
    this.evaluateAtSize = this.queue.size < s.minSize ? s.minSize : s.maxSize;
    // A timer due no later than needed stays: when it fires, evaluation re-arms for the rest.
    if (this.timer && this.timerAt <= at) return;
    this.cancelTimer();
    this.timerAt = at;
    this.timer = scheduleAfter(
      this.config.scheduler,
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        const firedAt = this.now();
        this.firedAt = Math.max(firedAt, at);
        this.evaluate(firedAt);
      },
      Math.max(0, Math.min(at - now, bound)),
    );
  }

  private cancelTimer(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}

/**
 * The engine's collector: a `WindowCollector` over a `WaitingQueue`, so values are taken by priority when
 * it has a `heap`, a value leaves unbatched when its deadline passes or its signal aborts (`onDrop`), and its
 * caller may take it back (`withdraw`) or queue it again in its old place (`readmit`).
 */
export class BatchCollector<T> extends WindowCollector<T> {
  declare protected readonly config: CollectorConfig<T>;
  declare protected readonly queue: WaitingQueue<T>;

  constructor(config: CollectorConfig<T>) {
    super(config, new WaitingQueue<T>(config.heap, config.agingPerMs ?? 0, config.arrivedAt));
  }

  /** @param arrivedAt for a value queued again (`readmit`), its own arrival, earlier than `now` */
  protected override enqueue(
    value: T,
    now: number,
    options?: PushOptions,
    arrivedAt?: number,
  ): QueueEntry<T> | undefined {
    // Watched: it may leave unbatched (a deadline, a signal, its caller taking it back).
    const watch =
      options !== undefined &&
      (options.deadline !== undefined || options.signal !== undefined || options.withdrawable === true);
    const priority = options?.priority ?? 0;
    const entry =
      arrivedAt === undefined
        ? this.queue.push(value, now, priority, watch)
        : this.queue.insert(value, arrivedAt, priority, watch);
    if (watch) {
      entry!.unwatch = watchWaiting(this.config.scheduler, options, now, (error) => this.withdraw(entry!, error));
    }
    return entry;
  }

  /**
   * Queues again a value that arrived before now (a request promoted in place of a withdrawn one it had joined):
   * at the place its own arrival time gives it, so `maxWaitMs` counts from that time, in the window now open (or
   * one opening now). Not an arrival: the adaptive window is not told.
   * @return the value's entry, for `withdraw`, when the options made it withdrawable
   */
  readmit(value: T, arrivedAt: number, options?: PushOptions): QueueEntry<T> | undefined {
    const now = this.now();
    if (this.windowEnd === undefined) this.openWindow(now);
    const entry = this.enqueue(value, now, options, arrivedAt);
    this.evaluate(now);
    return entry;
  }

  /** Raises a waiting entry to the priority of an equal, more urgent request that joined it (`WaitingQueue.raise`). */
  raise(entry: QueueEntry<T>, priority: number, arrivedAt: number): void {
    this.queue.raise(entry, priority, arrivedAt);
  }

  /**
   * Takes a value out of the queue (its caller's withdrawal, its deadline, its signal), answering it through
   * `onDrop` with `error`.
   * @return false when it had left the queue already (batched, expired, aborted)
   */
  withdraw(entry: QueueEntry<T>, error: unknown): boolean {
    if (!this.queue.remove(entry)) return false;
    this.config.onDrop?.(entry.value, error);
    this.evaluate();
    return true;
  }
}

/**
 * Watches a request waiting for a batch: its deadline (`options.deadline`, a timer) and its `signal` (an abort
 * listener). `leave` gets the error it must be answered with (`BatchTimeoutError`, or the signal's reason) when
 * either comes first.
 * @return what stops watching, or undefined when there is nothing to watch
 */
export function watchWaiting(
  scheduler: SchedulerLike,
  options: PushOptions,
  now: number,
  leave: (error: unknown) => void,
): (() => void) | undefined {
  const { deadline, signal } = options;
  if (deadline === undefined && signal === undefined) return undefined; // withdrawn by its caller only
  let timer: Subscription | undefined;
  if (deadline !== undefined) {
    const timeoutMs = options.timeoutMs ?? deadline - now;
    timer = scheduleAfter(
      scheduler,
      () => leave(new BatchTimeoutError(`request waited ${timeoutMs} ms in the queue (requestTimeoutMs)`, timeoutMs)),
      // Never further than its length from now: a wall clock that stepped back since the arrival (a follower
      // queued again in its leader's place) would hold the deadline for the length of the step.
      Math.min(timeoutMs, Math.max(0, deadline - now)),
    );
  }
  // A deadline alone (the check above leaves one of the two).
  if (signal === undefined) return () => timer!.unsubscribe();
  const onAbort = () => leave(abortReason(signal, 'batchDedup: signal(request)'));
  try {
    signal.addEventListener('abort', onAbort, { once: true });
  } catch (error) {
    // A signal that cannot be listened to (a signal-shaped object whose method throws): its request leaves now.
    timer?.unsubscribe();
    leave(new TypeError(`batchDedup: signal(request) returned a signal whose addEventListener('abort') threw: ${describeThrown(error)}`, { cause: error }));
    return undefined;
  }
  return () => {
    timer?.unsubscribe();
    forget(signal, onAbort);
  };
}

/**
 * Removes an abort listener. A signal-shaped object whose `removeEventListener` throws keeps it: the listener
 * then finds its request answered, and the answer is not held up by the signal.
 */
export function forget(signal: AbortSignal, onAbort: () => void): void {
  try {
    signal.removeEventListener('abort', onAbort);
  } catch {
    // kept, harmlessly (see above)
  }
}
