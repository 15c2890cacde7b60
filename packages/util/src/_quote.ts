/**
 * Percent-quoting of native strings, as Python's `urllib.parse.quote(s, safe,
 * encoding='latin1')`: one `%XX` (upper-case hex) per byte outside the safe set.
 *
 * @module
 */
import { codedTypeError } from './_latin1.ts';

/** Bytes `quote` never escapes: letters, digits and `_.-~`. */
const ALWAYS_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~';

/** A table from byte to its quoted form, for one `safe` set. */
export type QuoteTable = readonly string[];

/** Builds the table for `quote(..., safe)`. */
export function quoteTable(safe: string): QuoteTable {
  const table: string[] = [];
  for (let code = 0; code < 256; code++) {
    const char = String.fromCharCode(code);
    table.push(
      ALWAYS_SAFE.includes(char) || safe.includes(char)
        ? char
        : `%${code.toString(16).toUpperCase().padStart(2, '0')}`,
    );
  }
  return table;
}

/**
 * Quotes `s` with `table`; a character above `\xff` throws a `TypeError` (code
 * `ERR_WSGI_NOT_LATIN1`), as Python's latin-1 encoding does. Returns `s` itself when nothing
 * needs quoting.
 */
export function quote(s: string, table: QuoteTable, what: string): string {
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const quoted = table[s.charCodeAt(i)];
    if (quoted === undefined) {
      throw codedTypeError(
        'ERR_WSGI_NOT_LATIN1',
        `${what} must be a native (latin-1) string; it has a character above \\xff`,
      );
    }
    if (quoted.length !== 1) {
      out += s.slice(start, i) + quoted;
      start = i + 1;
    }
  }
  return start === 0 ? s : out + s.slice(start);
}

/** The value of one hex digit's char code, or -1. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/**
 * Percent-decodes `s` into a PEP 3333 native string: each valid `%XX` becomes the character
 * with that code (one per byte, latin-1); an invalid escape stays as it is. Every other
 * character is kept as it is.
 *
 * @param s - a percent-encoded string, such as the path of a request target.
 * @returns `s` itself when it holds no `%`.
 * @see Python's `urllib.parse.unquote(s, encoding='latin-1')`, which `wsgiref.simple_server`
 *   uses for `PATH_INFO`; PEP 3333, "Unicode Issues".
 */
export function unquoteNative(s: string): string {
  let at = s.indexOf('%');
  if (at === -1) return s;
  let out = '';
  let from = 0;
  while (at !== -1) {
    const high = hexValue(s.charCodeAt(at + 1));
    const low = hexValue(s.charCodeAt(at + 2));
    if (high === -1 || low === -1) {
      at = s.indexOf('%', at + 1);
      continue;
    }
    out += s.slice(from, at) + String.fromCharCode(high * 16 + low);
    from = at + 3;
    at = s.indexOf('%', from);
  }
  return out + s.slice(from);
}
