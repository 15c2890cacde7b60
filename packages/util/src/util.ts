/**
 * `wsgiref.util`: helpers over the environ.
 *
 * @module
 */
import { codedTypeError, describe } from './_latin1.ts';
import { normpath } from './_posixpath.ts';
import { quote, quoteTable } from './_quote.ts';
import type { QuoteTable } from './_quote.ts';
import { MemoryErrorStream } from './error-stream.ts';
import { toInputStream } from './input-stream.ts';
import type { Environ } from './types.ts';

/** `quote()`'s default `safe='/'`, used for `SCRIPT_NAME`; built on first use, not at import. */
let scriptNameSafe: QuoteTable | undefined;
/** The safe set `request_uri` gives `quote()` for `PATH_INFO`; built on first use. */
let pathInfoSafe: QuoteTable | undefined;

/** The HTTP/1.1 hop-by-hop headers, lower-case (RFC 2616 §13.5.1, as wsgiref lists them). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/**
 * `environ[key]` as a string: `fallback` when it is absent (`undefined`), a `TypeError` when it
 * is something else, or absent with no fallback (Python's `KeyError`).
 */
function field(environ: Readonly<Record<string, unknown>>, key: string, fallback?: string): string {
  const value = environ[key];
  if (typeof value === 'string') return value;
  if (value === undefined && fallback !== undefined) return fallback;
  throw codedTypeError(
    'ERR_WSGI_INVALID_ENVIRON',
    value === undefined
      ? `environ['${key}'] is missing`
      : `environ['${key}'] must be a string, got ${describe(value)}`,
  );
}

/**
 * Guesses the URL scheme from the CGI `HTTPS` variable: `'https'` when it is `'yes'`, `'on'` or
 * `'1'`, else `'http'`.
 *
 * @see Python `wsgiref.util.guess_scheme`
 */
export function guessScheme(environ: Readonly<Record<string, unknown>>): 'http' | 'https' {
  const https = environ['HTTPS'];
  return https === 'yes' || https === 'on' || https === '1' ? 'https' : 'http';
}

/**
 * The application's base URI: scheme, host (`HTTP_HOST`, else `SERVER_NAME` with
 * `SERVER_PORT` unless it is the scheme's default) and the percent-quoted `SCRIPT_NAME` (or `/`),
 * without `PATH_INFO` or `QUERY_STRING`.
 *
 * @throws TypeError (code `ERR_WSGI_INVALID_ENVIRON`) when a key it needs is missing or not a
 *   string; (code `ERR_WSGI_NOT_LATIN1`) when `SCRIPT_NAME` has a character above `\xff`.
 * @see PEP 3333, "URL Reconstruction"; Python `wsgiref.util.application_uri`
 */
export function applicationUri(environ: Readonly<Record<string, unknown>>): string {
  const scheme = field(environ, 'wsgi.url_scheme');
  let url = `${scheme}://`;
  const host = field(environ, 'HTTP_HOST', '');
  if (host !== '') {
    url += host;
  } else {
    url += field(environ, 'SERVER_NAME');
    const port = field(environ, 'SERVER_PORT');
    if (port !== (scheme === 'https' ? '443' : '80')) url += `:${port}`;
  }
  return (
    url +
    quote(
      field(environ, 'SCRIPT_NAME', '') || '/',
      (scriptNameSafe ??= quoteTable('/')),
      'SCRIPT_NAME',
    )
  );
}

/**
 * The full request URI: `applicationUri()` plus the percent-quoted `PATH_INFO` (`;`, `=` and
 * `,` left as they are) and, when `includeQuery` and it is non-empty, `?QUERY_STRING` as is.
 *
 * @param includeQuery - append the query string; default `true`.
 * @throws TypeError as `applicationUri()` does, and for a non-string `PATH_INFO` or
 *   `QUERY_STRING`.
 * @see PEP 3333, "URL Reconstruction"; Python `wsgiref.util.request_uri`
 */
export function requestUri(
  environ: Readonly<Record<string, unknown>>,
  includeQuery = true,
): string {
  const url = applicationUri(environ);
  const path = quote(
    field(environ, 'PATH_INFO', ''),
    (pathInfoSafe ??= quoteTable('/;=,')),
    'PATH_INFO',
  );
  // applicationUri() ends in the `/` that stands for an empty SCRIPT_NAME: don't double it.
  const uri = field(environ, 'SCRIPT_NAME', '') === '' ? url + path.slice(1) : url + path;
  const query = includeQuery ? field(environ, 'QUERY_STRING', '') : '';
  return query === '' ? uri : `${uri}?${query}`;
}

/**
 * Moves the first segment of `PATH_INFO` to the end of `SCRIPT_NAME` and returns it; returns
 * `undefined` (Python's `None`) when `PATH_INFO` is empty. Modifies `environ` in place.
 *
 * Empty and `.` segments of `PATH_INFO` are skipped, but never its last segment (so a
 * trailing `/` survives); `SCRIPT_NAME` is normalized as by `posixpath.normpath`, so a `..`
 * segment takes one back. When `PATH_INFO` is just `/`, it returns `''` and `SCRIPT_NAME` gets
 * a trailing `/`, so `/x` and `/x/` stay apart. A last segment of `.` returns `undefined` but
 * still empties `PATH_INFO`.
 *
 * @throws TypeError (code `ERR_WSGI_INVALID_ENVIRON`) for a non-string `PATH_INFO` or
 *   `SCRIPT_NAME`; RangeError for a non-empty `PATH_INFO` that does not start with `/`
 *   (Python fails there with an `IndexError` or garbles the path).
 * @see Python `wsgiref.util.shift_path_info`
 */
export function shiftPathInfo(environ: Record<string, unknown>): string | undefined {
  const pathInfo = field(environ, 'PATH_INFO', '');
  if (pathInfo === '') return undefined;
  if (!pathInfo.startsWith('/')) {
    throw new RangeError(`PATH_INFO must be empty or start with '/', got ${describe(pathInfo)}`);
  }
  const scriptName = field(environ, 'SCRIPT_NAME', '');
  // PATH_INFO is '/' + segments. Empty and '.' segments are dropped, but never the last one
  // (so a trailing '/' survives); the first segment left is the name.
  const segments = pathInfo.slice(1).split('/');
  const last = segments.length - 1;
  const kept = segments.filter((s, i) => i === last || (s !== '' && s !== '.'));
  const name = kept.shift() ?? '';

  let script = normpath(`${scriptName}/${name}`);
  if (script.endsWith('/')) script = script.slice(0, -1);
  if (name === '' && !script.endsWith('/')) script += '/';
  environ['SCRIPT_NAME'] = script;
  environ['PATH_INFO'] = kept.length === 0 ? '' : `/${kept.join('/')}`;
  return name === '.' ? undefined : name;
}

/**
 * Fills in what a WSGI environ needs, for tests: `SERVER_NAME` `127.0.0.1`, `SERVER_PROTOCOL`
 * `HTTP/1.0`, `HTTP_HOST` (the server name), `REQUEST_METHOD` `GET`, `SCRIPT_NAME` `''` and
 * `PATH_INFO` `/` (only when both are absent), `wsgi.version` `[1, 0]`, the `wsgi.run_once`,
 * `wsgi.multithread` and `wsgi.multiprocess` flags `false`, an empty `wsgi.input`, an in-memory
 * `wsgi.errors` (`String(environ['wsgi.errors'])` gives what was written), `wsgi.url_scheme` from
 * `guessScheme()`, and `SERVER_PORT` `80` or `443` for it. Keys already set (not `undefined`)
 * are left alone. Not for real servers: the data is fake.
 *
 * @see Python `wsgiref.util.setup_testing_defaults`
 */
export function setupTestingDefaults(environ: Record<string, unknown>): asserts environ is Environ {
  const setDefault = (key: string, value: () => unknown): void => {
    if (environ[key] === undefined) environ[key] = value();
  };
  setDefault('SERVER_NAME', () => '127.0.0.1');
  setDefault('SERVER_PROTOCOL', () => 'HTTP/1.0');
  setDefault('HTTP_HOST', () => environ['SERVER_NAME']);
  setDefault('REQUEST_METHOD', () => 'GET');
  if (environ['SCRIPT_NAME'] === undefined && environ['PATH_INFO'] === undefined) {
    environ['SCRIPT_NAME'] = '';
    environ['PATH_INFO'] = '/';
  }
  setDefault('wsgi.version', () => [1, 0] as const);
  setDefault('wsgi.run_once', () => false);
  setDefault('wsgi.multithread', () => false);
  setDefault('wsgi.multiprocess', () => false);
  setDefault('wsgi.input', () => toInputStream(new Uint8Array(0)));
  setDefault('wsgi.errors', () => new MemoryErrorStream());
  setDefault('wsgi.url_scheme', () => guessScheme(environ));
  const scheme = environ['wsgi.url_scheme'];
  if (scheme === 'http') setDefault('SERVER_PORT', () => '80');
  else if (scheme === 'https') setDefault('SERVER_PORT', () => '443');
}

/**
 * Whether `name` (any case) is an HTTP/1.1 hop-by-hop header, which a WSGI application must not
 * send: `Connection`, `Keep-Alive`, `Proxy-Authenticate`, `Proxy-Authorization`, `TE`,
 * `Trailers`, `Transfer-Encoding`, `Upgrade`.
 *
 * @throws TypeError when `name` is not a string.
 * @see PEP 3333, "Other HTTP Features"; Python `wsgiref.util.is_hop_by_hop`
 */
export function isHopByHop(name: string): boolean {
  if (typeof name !== 'string') {
    throw new TypeError(`isHopByHop() takes a header name string, got ${describe(name)}`);
  }
  return HOP_BY_HOP.has(name.toLowerCase());
}
