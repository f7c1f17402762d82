/**
 * How error messages show what a user function returned or threw. Never throws itself: the value may have a
 * null prototype, a throwing `toString` or be a revoked proxy, and the message must still be made.
 */

const MAX_STRING = 60;

/** A short description that tells types apart: `"1"` is not `1`, and `7n` is not `7`. */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}...` : value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    default:
      if (value === null) return 'null';
      try {
        if (Array.isArray(value)) return 'an array';
        const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
        if (proto === Object.prototype) return 'an object';
        // Stryker disable next-line ConditionalExpression: without this line, reading null's constructor below throws and the catch answers the same.
        if (proto === null) return 'an object';
        const name = proto.constructor?.name;
        return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object with a custom prototype';
      } catch {
        return 'an object'; // a revoked proxy, or a prototype getter that throws
      }
  }
}

/** The message of a thrown value: an Error's message, a thrown string as it is, anything else described. */
export function describeThrown(thrown: unknown): string {
  try {
    if (thrown instanceof Error) return thrown.message;
  } catch {
    // a proxy whose prototype cannot be read: describe it below
  }
  return typeof thrown === 'string' ? thrown : describeValue(thrown);
}

/**
 * The error for a user function, called once per request, that threw: it names the operator and the function,
 * and keeps what was thrown as `cause`.
 */
export function userFunctionThrew(where: string, fn: string, thrown: unknown): TypeError {
  return new TypeError(`${where}: ${fn}(request) threw: ${describeThrown(thrown)}`, { cause: thrown });
}

/** The message for a user function, called once per request, that returned what it may not: it names the operator,
 * the function and the value, then says what it must return (`rule`). */
export function userFunctionReturned(where: string, fn: string, value: unknown, rule: string): string {
  return `${where}: ${fn}(request) returned ${describeValue(value)}; ${rule}`;
}
