/**
 * Checking and quoting values that come from callers.
 *
 * @module
 */
import { inspect } from 'node:util';

/** A short, one-line picture of an arbitrary value, for an error message. */
export function describe(value: unknown): string {
  return inspect(value, { depth: 0, breakLength: Infinity });
}

/**
 * Whether `value` is a `Request` or `Response` (per `kind`): an instance of this realm's
 * class, or an object that says it is one (another realm's, undici's own, a server's).
 */
export function isFetchObject<K extends 'Request' | 'Response'>(
  value: unknown,
  kind: K,
): value is K extends 'Request' ? Request : Response {
  if (value instanceof (kind === 'Request' ? Request : Response)) return true;
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.prototype.toString.call(value) === `[object ${kind}]`
  );
}
