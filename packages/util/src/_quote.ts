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
