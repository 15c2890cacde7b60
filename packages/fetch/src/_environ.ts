/**
 * Building the CGI variables of a request environ from a Fetch `Request`, by the rules of our
 * HTTP server (`@wsgi/simple`, after `wsgiref.simple_server.WSGIRequestHandler.get_environ()`).
 *
 * @module
 */
import { unquoteNative } from '@wsgi/util';

/** The request-line version a Fetch `Request` does not carry: what its servers speak at least. */
const SERVER_PROTOCOL = 'HTTP/1.1';

/** Header name (as Fetch gives it, lower case) → its CGI key without `HTTP_`, cached. */
const keyCache = new Map<string, string>();
const KEY_CACHE_LIMIT = 1024;

function headerKey(name: string): string {
  let key = keyCache.get(name);
  if (key === undefined) {
    key = name.toUpperCase().replaceAll('-', '_');
    // Bounded, so a client sending ever-new names cannot grow it without limit.
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(name, key);
  }
  return key;
}

/**
 * `PATH_INFO` for a mount point: the path with `scriptName` taken off its front when it starts
 * with it (up to a `/` or the end), else the whole path (the host server already took the
 * prefix off, as Hono's `mount()` does).
 */
function stripScriptName(path: string, scriptName: string): string {
  if (scriptName === '' || !path.startsWith(scriptName)) return path;
  const rest = path.slice(scriptName.length);
  return rest === '' || rest.startsWith('/') ? rest : path;
}

/**
 * Adds the CGI variables of `request` to `env`: `SERVER_NAME` and `SERVER_PORT` from the URL
 * (the scheme's default port when it has none), `SCRIPT_NAME` (the mount point),
 * `PATH_INFO` (percent-decoded, latin-1), the raw `QUERY_STRING`, `CONTENT_TYPE` (default
 * `text/plain`, as `wsgiref` does), `CONTENT_LENGTH` (default `''`), and each header as
 * `HTTP_*`. A header whose name holds `_` is dropped, so no client can pass `X_User` off as
 * `X-User`; one whose key spells an existing CGI variable is not copied; `HTTP_HOST` comes
 * from the URL when the request has no `Host` (HTTP/2's `:authority`).
 *
 * @returns the URL's scheme, `'http'` or `'https'`, for `wsgi.url_scheme`.
 */
export function fillEnviron(
  env: Record<string, unknown>,
  request: Request,
  url: URL,
  scriptName: string,
): 'http' | 'https' {
  const headers = request.headers;
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  env['SERVER_NAME'] = url.hostname;
  env['GATEWAY_INTERFACE'] = 'CGI/1.1';
  env['SERVER_PORT'] = url.port === '' ? (scheme === 'https' ? '443' : '80') : url.port;
  env['SCRIPT_NAME'] = scriptName;
  env['SERVER_PROTOCOL'] = SERVER_PROTOCOL;
  env['REQUEST_METHOD'] = request.method;
  env['PATH_INFO'] = stripScriptName(unquoteNative(url.pathname), scriptName);
  // url.search drops the `?` (and an empty query); QUERY_STRING is what follows it, raw.
  env['QUERY_STRING'] = url.search.slice(1);
  env['CONTENT_TYPE'] = headers.get('content-type') ?? 'text/plain';
  env['CONTENT_LENGTH'] = headers.get('content-length') ?? '';

  headers.forEach((value, name) => {
    if (name.includes('_')) return;
    const key = headerKey(name);
    // Content-Type, Content-Length and any name that spells an existing CGI key.
    if (env[key] !== undefined) return;
    const httpKey = `HTTP_${key}`;
    const previous = env[httpKey];
    // Fetch's Headers joined repeats with ', ' already; only Set-Cookie comes one by one.
    env[httpKey] = previous === undefined ? value : `${previous as string},${value}`;
  });
  if (env['HTTP_HOST'] === undefined) env['HTTP_HOST'] = url.host;
  return scheme;
}
