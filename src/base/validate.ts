/**
 * Option checks shared by every operator. They run when the operator is created, so a bad option fails at the
 * line that wrote it, with the operator and the option named in the message.
 */
import { describeThrown, describeValue } from './describeValue.js';

/** A value for an option's error message: a string quoted, anything else as `String` gives it, never throwing. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  try {
    if (Array.isArray(value)) return 'an array';
    return String(value);
  } catch {
    // No text of its own (no prototype, a `toString` that throws, a revoked proxy): the message is still made.
    return describeValue(value);
  }
}

export function fail(where: string, message: string, Kind: typeof RangeError | typeof TypeError): never {
  throw new Kind(`${where}: ${message}`);
}

function expectNumber(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number') fail(where, `${name} must be a number, got ${describe(value)}`, TypeError);
  if (!Number.isFinite(value)) fail(where, `${name} must be finite, got ${describe(value)}`, RangeError);
  return value;
}

/** A duration in milliseconds: finite and at least `min` (0 unless said). */
export function duration(where: string, name: string, value: unknown, min = 0): number {
  const ms = expectNumber(where, name, value);
  if (ms < min) fail(where, `${name} must be >= ${min} ms, got ${describe(value)}`, RangeError);
  return ms;
}

/**
 * A duration in milliseconds that may be `Infinity`, meaning "never" (no timer is set). Any finite size is
 * honoured: timers longer than the host's limit of 2^31-1 ms are chained (see `scheduleAfter`).
 */
export function durationOrNever(where: string, name: string, value: unknown, min = 0): number {
  // Infinity passes both checks below as it is: no fast path for it.
  if (typeof value !== 'number') fail(where, `${name} must be a number, got ${describe(value)}`, TypeError);
  if (!(value >= min)) {
    fail(where, `${name} must be >= ${min} ms, or Infinity for no limit; got ${describe(value)}`, RangeError);
  }
  return value;
}

/** A finite number >= 0 (a cost, a rate). */
export function nonNegative(where: string, name: string, value: unknown): number {
  const x = expectNumber(where, name, value);
  if (x < 0) fail(where, `${name} must be >= 0, got ${describe(value)}`, RangeError);
  return x;
}

/** An integer count of at least `min`. `Infinity` is accepted only when `allowInfinity` says so. */
export function count(where: string, name: string, value: unknown, min: number, allowInfinity = false): number {
  if (allowInfinity && value === Infinity) return Infinity;
  const n = expectNumber(where, name, value);
  if (!Number.isInteger(n)) fail(where, `${name} must be an integer, got ${describe(value)}`, RangeError);
  if (n < min) fail(where, `${name} must be >= ${min}, got ${describe(value)}`, RangeError);
  return n;
}

/** A number in [0, 1]. */
export function unitInterval(where: string, name: string, value: unknown): number {
  const x = expectNumber(where, name, value);
  if (x < 0 || x > 1) fail(where, `${name} must be within [0, 1], got ${describe(value)}`, RangeError);
  return x;
}

/** A finite number, any sign. */
export function finite(where: string, name: string, value: unknown): number {
  return expectNumber(where, name, value);
}

export function optionalFunction<F>(where: string, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') fail(where, `${name} must be a function, got ${describe(value)}`, TypeError);
  return value as F;
}

export function requiredFunction<F>(where: string, name: string, value: unknown): F {
  if (value === undefined) fail(where, `${name} is required`, TypeError);
  return optionalFunction<F>(where, name, value) as F;
}

export function oneOf<V extends string>(where: string, name: string, value: unknown, allowed: readonly V[]): V {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    fail(where, `${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(value)}`, TypeError);
  }
  return value as V;
}

export function boolean(where: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(where, `${name} must be true or false, got ${describe(value)}`, TypeError);
  return value;
}

export function optionsObject<O extends object>(where: string, value: O | undefined): O {
  if (value === undefined) return {} as O;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail(where, `options must be an object, got ${describe(value)}`, TypeError);
  }
  return value;
}

/**
 * A plain copy of an options object (`process(request, options)`, `configure(options)`), each field read once,
 * inherited enumerable ones too (as `for...in` reads them) unless `own`: a getter or Proxy that answers
 * differently on a later read cannot have one value checked and another used, and a field (or a Proxy's list of
 * them) that throws is refused naming it, rather than surfacing as its own bare error.
 */
export function readOnce<O extends object>(where: string, given: O, own = false): O {
  const copy: Record<string, unknown> = {};
  let names: string[] = [];
  try {
    if (own) names = Object.keys(given);
    else for (const name in given) names.push(name);
  } catch (error) {
    fail(where, `options could not be read (${describeThrown(error)})`, TypeError);
  }
  for (const name of names) {
    try {
      copy[name] = (given as Record<string, unknown>)[name];
    } catch (error) {
      fail(where, `options.${name} could not be read (${describeThrown(error)})`, TypeError);
    }
  }
  return copy as O;
}

/**
 * Refuses an own enumerable name of `options` that is not in `known`, listing the known ones: a typo would
 * otherwise be ignored, silently (`dedupTreshold` leaving the threshold at its default).
 */
export function optionNames(where: string, options: object, known: Readonly<Record<string, true>>): void {
  for (const name of Object.keys(options)) {
    if (!Object.prototype.hasOwnProperty.call(known, name)) {
      // All of them rather than the nearest: a dozen names read at a glance, and bufferWindow alone stays small.
      fail(where, `unknown option ${name}; the options are ${Object.keys(known).join(', ')}`, TypeError);
    }
    notNull(where, options, name);
  }
}

/**
 * Refuses an option given as `null`. No option takes it, but the defaults are applied with `??`, which would take
 * null for an option left out: `processingTimeoutMs: null`, meant as "no limit", ran with the default 30 s.
 */
export function notNull(where: string, options: object, name: string, hint = 'leave it out for its default'): void {
  if ((options as Record<string, unknown>)[name] !== null || Object.prototype.hasOwnProperty.call(CHECKED_FOR_NULL, name)) return;
  fail(where, `${name} is null, which no option takes; ${hint}`, TypeError);
}

/** Options whose own check refuses null already, saying what they must be (`stats must be a recorder ...`). */
const CHECKED_FOR_NULL: Readonly<Record<string, true>> = { stats: true, scheduler: true, feedback: true };

export function scheduler(where: string, value: unknown): void {
  if (value === undefined) return;
  const s = value as { now?: unknown; schedule?: unknown } | null;
  if (!s || typeof s.now !== 'function' || typeof s.schedule !== 'function') {
    fail(where, 'scheduler must be an RxJS SchedulerLike (with now() and schedule())', TypeError);
  }
  // Every timing rule compares its readings: a clock that gives no time is refused here rather than never batching.
  let now: unknown;
  try {
    now = (s.now as () => unknown).call(s);
  } catch (error) {
    now = error;
  }
  if (!Number.isFinite(now)) fail(where, `scheduler.now() must give a finite number of ms, got ${describe(now)}`, TypeError);
}

/**
 * A `stats` recorder (`createBatchStats()`), for the operators composed by hand. Told by its shape, not by
 * `instanceof`, so that `bufferWindow` alone does not bundle the recorder's class; a snapshot, `{}` or `true`
 * (the likely mistakes) has neither method.
 */
export function statsRecorder(where: string, value: unknown): void {
  if (value === undefined) return;
  const r = value as { snapshot?: unknown; recordResult?: unknown } | null;
  if (!r || typeof r.snapshot !== 'function' || typeof r.recordResult !== 'function') {
    fail(where, 'stats must be a recorder made by createBatchStats()', TypeError);
  }
}
