/**
 * A value as it was given, for error messages: a string `'0'` must not read as the number 0, nor a bigint `0n`.
 * Objects are named by kind only: printing one could run its `toString`.
 */
export function describeGiven(value: unknown): string {
  switch (typeof value) {
    case 'number':
    case 'undefined':
      return String(value);
    case 'string':
      return `${JSON.stringify(value)} (a string)`;
    case 'bigint':
      return `${value}n (a bigint)`;
    case 'boolean':
      return `${value} (a boolean)`;
    case 'symbol':
      return `${value.toString()} (a symbol)`;
    case 'function':
      return '(a function)';
    default:
      return value === null ? 'null' : Array.isArray(value) ? '(an array)' : '(an object)';
  }
}
