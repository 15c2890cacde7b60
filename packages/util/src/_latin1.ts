/**
 * Checks on PEP 3333 "native strings" (one char per byte, char codes 0–255).
 *
 * @module
 */

/** A control character (below `\x20` but tab, and `\x7f`) or a character above `\xff`. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE_HEADER_CHAR = /[\0-\x08\n-\x1f\x7f\u0100-\uffff]/;

/** Any character above `\xff`: not a native string. */
const NON_LATIN1 = /[^\0-\xff]/;

/** A `TypeError` with a Node-style `code`, so callers can tell our checks apart. */
export type CodedTypeError = TypeError & { code: string };

/** Builds a `TypeError` carrying `code`. */
export function codedTypeError(code: string, message: string): CodedTypeError {
  return Object.assign(new TypeError(message), { code });
}

/** Quotes an arbitrary value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  const primitive = value as number | bigint | boolean | undefined;
  return `${typeof primitive} ${String(primitive)}`;
}

/** `true` when every char code of `s` is 0–255. */
export function isLatin1(s: string): boolean {
  return !NON_LATIN1.test(s);
}

/**
 * Throws unless `value` is a string without control characters (tab allowed) and without
 * characters above `\xff`: the rule for header names and values (no response splitting).
 */
export function checkHeaderString(value: unknown, what: string): string {
  if (typeof value !== 'string') {
    throw codedTypeError(
      'ERR_WSGI_INVALID_HEADER_TYPE',
      `Header ${what} must be a string, got ${describe(value)}`,
    );
  }
  if (UNSAFE_HEADER_CHAR.test(value)) {
    throw codedTypeError(
      'ERR_WSGI_INVALID_HEADER_CHAR',
      `Header ${what} ${JSON.stringify(value)} contains a control character or a character above \\xff`,
    );
  }
  return value;
}

/** Encodes a native string as bytes, refusing characters above `\xff`. */
export function latin1Bytes(s: string, what: string): Buffer {
  if (!isLatin1(s)) {
    throw codedTypeError(
      'ERR_WSGI_NOT_LATIN1',
      `${what} must be a native (latin-1) string; it has a character above \\xff`,
    );
  }
  return Buffer.from(s, 'latin1');
}

/**
 * `reason` typed as an `Error` for `Promise.reject`, unchanged: a source's failure is passed on
 * exactly as it was thrown, whatever its type.
 */
export function asReason(reason: unknown): Error {
  return reason as Error;
}
