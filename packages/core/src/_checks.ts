/**
 * The checks `startResponse()` makes on what the application hands it.
 *
 * @module
 */
import { inspect } from 'node:util';

import { isHopByHop } from '@wsgi/util';

import { DECLARED_LENGTH } from './_content-length.ts';
import { WSGIAssertionError } from './_errors.ts';

/** Anything but tab, printable ASCII and `\x80`–`\xff` (API.md, deviation 4). */
const UNSAFE = /[^\t\x20-\x7e\x80-\xff]/;
/** RFC 9110, section 5.6.2: `token = 1*tchar`. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Three digits and a space (PEP 3333, "The start_response() Callable"). */
const STATUS = /^[0-9]{3} /;

/** What a header name is: a token that is not hop-by-hop, `Content-Length`, or neither. */
const PLAIN = 0;
const LENGTH = 1;
const NOT_TOKEN = 2;
const HOP_BY_HOP = 3;

/**
 * The names found to be tokens and not hop-by-hop, each with its kind: an application sends
 * the same few names with every response, so each is checked once. Bounded, so names made
 * per response cannot grow it without limit (those are checked every time).
 */
const checkedNames = new Map<string, number>();
const CHECKED_NAMES_LIMIT = 512;

function nameKind(name: string): number {
  const known = checkedNames.get(name);
  if (known !== undefined) return known;
  if (!TOKEN.test(name)) return NOT_TOKEN;
  if (isHopByHop(name)) return HOP_BY_HOP;
  const kind = name.length === 14 && name.toLowerCase() === 'content-length' ? LENGTH : PLAIN;
  if (checkedNames.size < CHECKED_NAMES_LIMIT) checkedNames.set(name, kind);
  return kind;
}

function describe(value: unknown): string {
  return inspect(value, { depth: 1, breakLength: Infinity });
}

function checkString(value: unknown, title: string): string {
  if (typeof value !== 'string') {
    const code = title === 'Status' ? 'ERR_WSGI_INVALID_STATUS' : 'ERR_WSGI_INVALID_HEADER';
    throw new WSGIAssertionError(code, `${title} must be a string (got ${describe(value)})`);
  }
  return value;
}

/**
 * Returns `status` when it is a string of at least four characters, three digits then a space,
 * with no control character or character above `\xff`, and its code is at least 200: the
 * application's response is the final one, and a server that frames HTTP itself would send a
 * 1xx code as an interim response (or fail on a code below 100) and desynchronise the connection.
 *
 * @throws WSGIAssertionError (`ERR_WSGI_INVALID_STATUS`) otherwise.
 */
export function checkStatus(status: unknown): string {
  const text = checkString(status, 'Status');
  if (!STATUS.test(text) || UNSAFE.test(text)) {
    throw new WSGIAssertionError(
      'ERR_WSGI_INVALID_STATUS',
      `Status must be three digits, a space and a reason without control characters (got ${describe(text)})`,
    );
  }
  // The first digit: 0 or 1 is not a final response.
  if (text.charCodeAt(0) < 0x32) {
    throw new WSGIAssertionError(
      'ERR_WSGI_INVALID_STATUS',
      `Status must be a final response, 200 or above; 1xx responses are the server's business (got ${describe(text)})`,
    );
  }
  return text;
}

/**
 * Returns a copy of `headers` when it is an array of `[name, value]` string pairs, each name an
 * RFC 9110 token and not hop-by-hop, each value free of control characters (tab allowed) and
 * of characters above `\xff`, and at most one `Content-Length`, of 1 to 15 digits (RFC 9110,
 * section 8.6: anything else would reframe the response). The copy keeps later changes to the
 * application's list out.
 *
 * @throws WSGIAssertionError (`ERR_WSGI_INVALID_HEADER` or `ERR_WSGI_HOP_BY_HOP_HEADER`).
 */
export function checkHeaders(headers: unknown): Array<[string, string]> {
  if (!Array.isArray(headers)) {
    throw new WSGIAssertionError(
      'ERR_WSGI_INVALID_HEADER',
      `Headers must be an array of [name, value] pairs (got ${describe(headers)})`,
    );
  }
  const copy: Array<[string, string]> = [];
  let length = false;
  for (const pair of headers as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new WSGIAssertionError(
        'ERR_WSGI_INVALID_HEADER',
        `Each header must be a [name, value] pair (got ${describe(pair)})`,
      );
    }
    const name = checkString((pair as unknown[])[0], 'Header name');
    const value = checkString((pair as unknown[])[1], 'Header value');
    const kind = nameKind(name);
    if (kind === NOT_TOKEN || UNSAFE.test(value)) {
      throw new WSGIAssertionError(
        'ERR_WSGI_INVALID_HEADER',
        `Header names must be tokens and values must not hold control characters (got ${describe([name, value])})`,
      );
    }
    if (kind === HOP_BY_HOP) {
      throw new WSGIAssertionError(
        'ERR_WSGI_HOP_BY_HOP_HEADER',
        `Hop-by-hop header, '${name}: ${value}', not allowed`,
      );
    }
    if (kind === LENGTH) {
      if (length || !DECLARED_LENGTH.test(value)) {
        throw new WSGIAssertionError(
          'ERR_WSGI_INVALID_HEADER',
          `Content-Length must be given once, as 1 to 15 digits (got ${describe([name, value])})`,
        );
      }
      length = true;
    }
    copy.push([name, value]);
  }
  return copy;
}
