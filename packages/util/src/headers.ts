/**
 * `wsgiref.headers`: a mutable, case-insensitive list of response headers.
 *
 * @module
 */
import { checkHeaderString, codedTypeError, describe } from './_latin1.ts';

/**
 * Formats one `addHeader` parameter: the bare name for an empty value, else `name="value"`
 * with backslashes and double quotes backslash-escaped. Like `wsgiref.headers._formatparam`
 * (called with its default `quote=1`), a non-empty value is always quoted, whatever it holds.
 */
function formatParam(name: string, value: string): string {
  if (value.length === 0) return name;
  return `${name}="${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * A collection of HTTP response headers: an ordered list of `[name, value]` pairs with
 * case-insensitive lookup by name. Duplicates are kept in order.
 *
 * Names and values must be strings (`TypeError`, code `ERR_WSGI_INVALID_HEADER_TYPE`) without
 * control characters (tab allowed) or characters above `\xff` (`TypeError`, code
 * `ERR_WSGI_INVALID_HEADER_CHAR`), so nothing can split a response through it. Unlike Python,
 * the list given to the constructor is copied, not shared.
 *
 * @see Python `wsgiref.headers.Headers`
 */
export class Headers {
  /** The pairs, in order. */
  readonly #items: Array<readonly [string, string]> = [];
  /** The names lower-cased, parallel to `#items`, so lookups do not lower-case every time. */
  readonly #lower: string[] = [];

  /**
   * @param list - initial `[name, value]` pairs (default none); each is checked.
   * @throws TypeError when `list` is not an array of string pairs or a string is unsafe.
   */
  constructor(list: Array<[string, string]> = []) {
    if (!Array.isArray(list)) {
      throw new TypeError(`Headers must be an array of [name, value] pairs, got ${describe(list)}`);
    }
    for (const pair of list as unknown[]) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`Each header must be a [name, value] pair, got ${describe(pair)}`);
      }
      const [name, value] = pair as unknown[];
      this.#append(checkHeaderString(name, 'name'), checkHeaderString(value, 'value'));
    }
  }

  /** The number of headers, duplicates included (Python's `len()`). */
  get length(): number {
    return this.#items.length;
  }

  /** The first value for `name` (any case), or `undefined` when it is absent. */
  get(name: string): string | undefined {
    const key = lowerName(name);
    const i = this.#lower.indexOf(key);
    return i === -1 ? undefined : this.#items[i]?.[1];
  }

  /** Whether a header `name` is present (Python's `in`). */
  has(name: string): boolean {
    return this.#lower.includes(lowerName(name));
  }

  /** Every value for `name`, in order; empty when absent (Python's `get_all`). */
  getAll(name: string): string[] {
    const key = lowerName(name);
    const out: string[] = [];
    this.#lower.forEach((k, i) => {
      const item = this.#items[i];
      if (k === key && item) out.push(item[1]);
    });
    return out;
  }

  /** Replaces every `name` header by one `name: value`, appended at the end. */
  set(name: string, value: string): void {
    checkHeaderString(name, 'name');
    checkHeaderString(value, 'value');
    this.delete(name);
    this.#append(name, value);
  }

  /** Removes every `name` header; nothing happens when there is none. */
  delete(name: string): void {
    const key = lowerName(name);
    for (let i = this.#lower.length - 1; i >= 0; i--) {
      if (this.#lower[i] === key) {
        this.#lower.splice(i, 1);
        this.#items.splice(i, 1);
      }
    }
  }

  /**
   * The first value for `name`; when there is none, appends `name: value` and returns `value`.
   *
   * @see Python `Headers.setdefault`
   */
  setDefault(name: string, value: string): string {
    checkHeaderString(name, 'name');
    checkHeaderString(value, 'value');
    const found = this.get(name);
    if (found !== undefined) return found;
    this.#append(name, value);
    return value;
  }

  /**
   * Appends a header with parameters, as `email`-style `value; key="param"`. A `_` in a
   * parameter name becomes `-`; a `null` parameter gives the bare name; a non-empty value is
   * always quoted, with `\` and `"` backslash-escaped; an empty one gives the bare name.
   *
   * @example
   * h.addHeader('Content-Disposition', 'attachment', { filename: 'bud.gif' });
   * // Content-Disposition: attachment; filename="bud.gif"
   * @see Python `Headers.add_header`
   */
  addHeader(name: string, value: string | null, params: Record<string, string | null> = {}): void {
    checkHeaderString(name, 'name');
    const parts: string[] = [];
    if (value !== null) parts.push(checkHeaderString(value, 'value'));
    for (const [key, param] of Object.entries(params as Record<string, unknown>)) {
      const paramName = checkHeaderString(key, 'parameter name').replaceAll('_', '-');
      parts.push(
        param === null ? paramName : formatParam(paramName, checkHeaderString(param, 'parameter')),
      );
    }
    this.#append(name, parts.join('; '));
  }

  /** All names, in order, duplicates included. */
  keys(): string[] {
    return this.#items.map(([name]) => name);
  }

  /** All values, in order, duplicates included. */
  values(): string[] {
    return this.#items.map(([, value]) => value);
  }

  /** A copy of all `[name, value]` pairs, in order. */
  items(): Array<[string, string]> {
    return this.#items.map(([name, value]) => [name, value]);
  }

  /** Iterates over copies of the `[name, value]` pairs, as `items()` does. */
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.items()[Symbol.iterator]();
  }

  /** The header block: `Name: value\r\n` per header and a final `\r\n`. */
  toString(): string {
    let out = '';
    for (const [name, value] of this.#items) out += `${name}: ${value}\r\n`;
    return `${out}\r\n`;
  }

  /** `toString()` encoded as latin-1 bytes (Python's `bytes(headers)`). */
  toBytes(): Uint8Array {
    return Buffer.from(this.toString(), 'latin1');
  }

  #append(name: string, value: string): void {
    this.#items.push([name, value]);
    this.#lower.push(name.toLowerCase());
  }
}

function lowerName(name: unknown): string {
  if (typeof name !== 'string') {
    throw codedTypeError(
      'ERR_WSGI_INVALID_HEADER_TYPE',
      `Header name must be a string, got ${describe(name)}`,
    );
  }
  return name.toLowerCase();
}
