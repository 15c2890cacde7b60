/**
 * Parses `type; name=value; name="quoted value"` header values (`Content-Type`,
 * `Content-Disposition`), as RFC 9110 §5.6.6 and RFC 6266 describe them.
 *
 * Quoted strings follow the HTML form-submission rules rather than RFC 9110's: browsers do
 * not escape backslashes (they percent-encode `"`, CR and LF instead), so a backslash is kept
 * as it is. `name*=UTF-8''…` (RFC 8187) is decoded and takes precedence over `name=`.
 *
 * @module
 */

/** A header value split into its lower-cased type and its lower-cased parameter names. */
export interface ParsedHeader {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

function decodeExtended(value: string): string | undefined {
  const match = /^([A-Za-z0-9!#$%&+^_`{}~-]+)'[^']*'(.*)$/.exec(value);
  if (match?.[1]?.toLowerCase() !== 'utf-8') return undefined;
  try {
    return decodeURIComponent(match[2] ?? '');
  } catch {
    return undefined;
  }
}

/** Parses a header value; malformed parameters are skipped, never thrown on. */
export function parseHeaderParams(value: string): ParsedHeader {
  const semicolon = value.indexOf(';');
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const params = new Map<string, string>();
  const extended = new Map<string, string>();
  let pos = semicolon < 0 ? value.length : semicolon + 1;
  while (pos < value.length) {
    const eq = value.indexOf('=', pos);
    if (eq < 0) break;
    const name = value.slice(pos, eq).trim().toLowerCase();
    pos = eq + 1;
    while (value[pos] === ' ' || value[pos] === '\t') pos++;
    let raw: string;
    if (value[pos] === '"') {
      const close = value.indexOf('"', pos + 1);
      const end = close < 0 ? value.length : close;
      raw = value.slice(pos + 1, end);
      const next = value.indexOf(';', end);
      pos = next < 0 ? value.length : next + 1;
    } else {
      const next = value.indexOf(';', pos);
      raw = value.slice(pos, next < 0 ? value.length : next).trim();
      pos = next < 0 ? value.length : next + 1;
    }
    if (name.endsWith('*')) {
      const decoded = decodeExtended(raw);
      if (decoded !== undefined) extended.set(name.slice(0, -1), decoded);
    } else if (name !== '' && !params.has(name)) {
      params.set(name, raw);
    }
  }
  for (const [name, decoded] of extended) params.set(name, decoded);
  return { type, params };
}
