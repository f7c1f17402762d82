/**
 * What a request's dedup key and scope may be, how they compare, and the canonical encoding that turns a key
 * made of arrays and objects into one string. The rules are in docs/keys.md.
 */
import { describeThrown, describeValue, userFunctionReturned, userFunctionThrew } from '../base/describeValue.js';

/**
 * What a `key` function may return. Keys are compared by value and type: `'1'`, `1` and `1n` are three keys;
 * arrays in order (`['a,b']` is not `['a', 'b']`); plain objects whatever the order of their fields, a field
 * whose value is `undefined` counting as absent. Numbers must be finite (`-0` is `0`). Anything else (NaN,
 * Infinity, undefined, symbols, functions, Dates, Maps and other class instances, circular structures) rejects
 * that request with a `TypeError`.
 */
export type DedupKey =
  | string
  | number
  | bigint
  | boolean
  | null
  | readonly DedupKey[]
  | { readonly [field: string]: DedupKey | undefined };

/**
 * What a `scope` function (or `process(request, { scope })`) may return: a string, a number (not NaN) or a
 * bigint, or `undefined` for "no scope". Values of different types are different scopes: `1`, `'1'` and `1n`
 * never share an answer.
 */
export type DedupScope = string | number | bigint | undefined;

/** The encoding of the default key: any number, Dates, undefined in arrays (see `stableKey`). */
const DEFAULT_RULES = 0;
/** The encoding of a user's key: finite numbers, no Dates, no undefined outside object fields (see `DedupKey`). */
const CUSTOM_RULES = 1;
type Rules = typeof DEFAULT_RULES | typeof CUSTOM_RULES;

/** Errors that already say where and what went wrong: wrappers pass them on unchanged (see `describeThrow`). */
const describedErrors = new WeakSet<object>();

/** A `TypeError` that wrappers pass on as it is. (No `cause`: no caller had one to give, and its branch was untested.) */
export function describedError(message: string): TypeError {
  const error = new TypeError(message);
  describedErrors.add(error);
  return error;
}

/** Names the user function that threw, keeping the original as `cause`; an error that says it all passes as is. */
export function describeThrow(fnName: string, error: unknown, where = 'dedupBy'): TypeError {
  if (error instanceof TypeError && describedErrors.has(error)) return error;
  // describeThrown never throws (String() of a null-prototype object would, and fail the whole batch).
  const described = userFunctionThrew(where, fnName, error);
  describedErrors.add(described);
  return described;
}

const SCOPE_RULE = 'a scope may be a string, a number (not NaN) or a bigint, or undefined for no scope';
const KEY_RULE = 'a key may be a string, a finite number, a bigint, a boolean, null, or an array or plain object of these';

/** True for what `scope` may return (see `DedupScope`). */
export function isScope(value: unknown): value is DedupScope {
  const type = typeof value;
  return type === 'string' || value === undefined || (type === 'number' && value === value) || type === 'bigint';
}

/** The rule for scopes, for messages of the callers that check a scope themselves. */
export const SCOPE_TYPES = 'a string, a number (not NaN) or a bigint';

/**
 * A string of its own for each scope, for keys composed into one string: the type first, and a string's length,
 * so `1`, `'1'` and `1n` differ and no scope's tag is the start of another's.
 */
export function scopeTag(scope: DedupScope): string {
  switch (typeof scope) {
    case 'string':
      return `s${scope.length}:${scope}`;
    case 'number':
      return `n${scope};`; // -0 prints as 0: one scope, as in a Map
    case 'bigint':
      return `b${scope};`;
    default:
      return '-'; // undefined
  }
}

/** A `scope` function checked on every call: its throws and its wrong answers name it. */
export function checkedScope<T>(where: string, scope: (request: T) => unknown): (request: T) => DedupScope {
  return (request) => {
    let value: unknown;
    try {
      value = scope(request);
    } catch (error) {
      throw describeThrow('scope', error, where);
    }
    if (isScope(value)) return value;
    throw describedError(userFunctionReturned(where, 'scope', value, SCOPE_RULE));
  };
}

/** A `key` function whose throws name it. What it returns is checked by `customSlotKey`. */
export function checkedKey<T>(where: string, key: (request: T) => unknown): (request: T) => unknown {
  return (request) => {
    try {
      return key(request);
    } catch (error) {
      throw describeThrow('key', error, where);
    }
  };
}

/**
 * The map key of a key returned by the user's `key`: a primitive as it is, an array or object as its canonical
 * encoding. The two kinds go into separate tables (`isEncoded`), so no string can pose as an encoding.
 */
export function customSlotKey(where: string): (key: unknown) => unknown {
  return (key) => {
    switch (typeof key) {
      case 'string':
      case 'bigint':
      case 'boolean':
        return key;
      case 'number':
        if (key - key === 0) return key; // finite
        break;
      case 'object':
        if (key === null) return null;
        return encodeOrThrow(key, CUSTOM_RULES, (what, path) => `${where}: key(request) returned ${what}${path === '' ? '' : ` at key${path}`}; ${KEY_RULE}`);
    }
    throw describedError(userFunctionReturned(where, 'key', key, KEY_RULE));
  };
}

/**
 * The map key of a request under the default key: a primitive as it is (a Map already tells `'1'`, `1` and
 * `1n` apart and counts NaN equal to NaN and -0 equal to 0), an object as its canonical encoding (`stableKey`).
 */
export function defaultSlotKey(where: string): (request: unknown) => unknown {
  const message = (what: string, path: string) => `${where}: ${defaultKeyMessage(what, path)}`;
  return (request) => {
    const type = typeof request;
    // Symbols and functions are refused by the encoding, saying why.
    if ((type === 'object' && request !== null) || type === 'symbol' || type === 'function') {
      return encodeOrThrow(request, DEFAULT_RULES, message);
    }
    return request;
  };
}

/**
 * True when a raw key (what `key` returned, or the request under the default key) is an array or object: its
 * slot key is then its encoding, kept in tables apart from primitive keys so that no string key meets one.
 */
export function isEncoded(key: unknown): boolean {
  // Stryker disable next-line ConditionalExpression,LogicalOperator: callers ask only about keys that are not strings, and in a Map no number, bigint, boolean or null equals an encoding (a string), so the table they land in changes no answer.
  return typeof key === 'object' && key !== null;
}

/**
 * The default dedup key of a request, as one string: canonical JSON (fields sorted), extended so that every
 * value it accepts has its own encoding: `NaN`, `Infinity` and `-Infinity` apart from `null`, bigints as
 * `123n`, Dates as `D` and their time, `undefined` in arrays apart from `null`. For JSON data it is exactly
 * the canonical JSON. Throws a `TypeError` naming what it cannot encode (symbols, functions, class instances
 * other than Date, circular structures) and where.
 */
export function stableKey(request: unknown): string {
  // Not marked as described: called inside a user's `key`, its error is reported as that key's throw.
  return encodeOrThrow(request, DEFAULT_RULES, defaultKeyMessage, undefined, false);
}

function defaultKeyMessage(what: string, path: string): string {
  return `the default key cannot encode ${what} at request${path}; pass a key function`;
}

/**
 * The canonical encoding of a request without its text (similarity dedup compares the rest exactly), by the
 * rules of the default key. `TEXT_REMOVED`, and every string equal to `removedText` when given, encode as a mark
 * no value of the request can produce.
 */
export function restEncoding(where: string, rest: unknown, removedText?: string): string {
  return encodeOrThrow(rest, DEFAULT_RULES, (what, path) => `${where}: ${restMessage(what, path)}`, removedText);
}

function restMessage(what: string, path: string): string {
  return (
    `the rest of the request (compared exactly by similarity dedup) cannot encode ${what} at request${path}; ` +
    'send plain data: strings, numbers, bigints, booleans, null, Dates, arrays and plain objects'
  );
}

/** Stands for the text taken out of a request (see `restEncoding`); no request can hold it. */
export const TEXT_REMOVED: unique symbol = Symbol('text removed');

/** True for an object of no class: `{}`, `Object.create(null)`, or a plain object of another realm. */
export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null || Object.getPrototypeOf(proto) === null;
}

/** Past this depth the fast pass stops, in case the structure is circular, and the tracked pass takes over. */
const FAST_DEPTH = 64;

/** Where the tracked pass is and what it found: the ancestors (to find cycles) and the path. */
interface Trail {
  readonly ancestors: object[];
  readonly path: (string | number)[];
  problem?: string;
}

function encodeOrThrow(
  value: unknown,
  rules: Rules,
  message: (what: string, path: string) => string,
  removed?: string,
  described = true,
): string {
  // The fast pass tracks nothing; on a failure (or a deep structure) the tracked pass finds what and where.
  let fast: string | undefined;
  try {
    fast = encode(value, rules, removed, 0, undefined);
  } catch {
    // A read that threw (a getter, a revoked proxy): the tracked pass says what and where.
  }
  if (fast !== undefined) return fast;
  const trail: Trail = { ancestors: [], path: [] };
  let encoded: string | undefined;
  try {
    encoded = encode(value, rules, removed, 0, trail);
  } catch (error) {
    trail.problem = error instanceof RangeError ? 'a structure nested too deeply' : `a value that threw when read (${describeThrown(error)})`;
  }
  if (encoded !== undefined) return encoded;
  // The tracked pass returns undefined only through `fail` or a throw, both of which set the problem.
  const text = message(trail.problem!, formatPath(trail.path));
  throw described ? describedError(text) : new TypeError(text);
}

/**
 * One value's encoding, or undefined when it cannot be encoded (the tracked pass records why in `trail`).
 * Every form starts with its own character (`"` string, digit / `-` / `N` / `I` number, digits then `n`
 * bigint, `t` `f` `n` `u` keywords, `D` Date, `~` removed text, `[` array, `{` object) and ends before the next
 * `,` `]` `}`, so the encoding of different values always differs.
 */
function encode(
  value: unknown,
  rules: Rules,
  removed: string | undefined,
  depth: number,
  trail: Trail | undefined,
): string | undefined {
  switch (typeof value) {
    case 'string':
      return value === removed ? '~' : JSON.stringify(value);
    case 'number':
      if (rules === CUSTOM_RULES && value - value !== 0) return fail(trail, String(value));
      return String(value); // String(-0) is '0': -0 is 0
    case 'bigint':
      return `${value}n`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      return rules === CUSTOM_RULES ? fail(trail, 'undefined') : 'undefined';
    case 'symbol':
      return value === TEXT_REMOVED ? '~' : fail(trail, 'a symbol');
    // A function goes on as an object of no plain kind, refused below as describeValue names it: 'a function'.
  }
  if (value === null) return 'null';
  const object = value as object;
  if (trail) {
    if (trail.ancestors.includes(object)) return fail(trail, 'a circular reference');
  } else if (depth >= FAST_DEPTH) {
    return undefined;
  }
  let out: string | undefined;
  if (Array.isArray(object)) {
    if (trail) trail.ancestors.push(object);
    out = '[';
    for (let i = 0; i < object.length; i++) {
      trail?.path.push(i);
      const element = encode(object[i], rules, removed, depth + 1, trail);
      if (element === undefined) return undefined;
      trail?.path.pop();
      out += i === 0 ? element : `,${element}`;
    }
    out += ']';
  } else {
    if (!isPlainObject(object)) {
      if (rules === DEFAULT_RULES && object instanceof Date) return `D${object.getTime()}`;
      return fail(trail, describeValue(object));
    }
    if (trail) trail.ancestors.push(object);
    const fields = Object.keys(object).sort();
    out = '{';
    let first = true;
    for (const field of fields) {
      // On the path before it is read: a getter that throws is reported at its field.
      trail?.path.push(field);
      const fieldValue = (object as Record<string, unknown>)[field];
      if (fieldValue === undefined) {
        trail?.path.pop();
        continue; // as JSON: an undefined field is an absent one
      }
      const encoded = encode(fieldValue, rules, removed, depth + 1, trail);
      if (encoded === undefined) return undefined;
      trail?.path.pop();
      out += `${first ? '' : ','}${JSON.stringify(field)}:${encoded}`;
      first = false;
    }
    out += '}';
  }
  if (trail) trail.ancestors.pop();
  return out;
}

function fail(trail: Trail | undefined, what: string): undefined {
  if (trail) trail.problem = what;
  return undefined;
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const step of path) {
    out += typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
  }
  return out;
}

