/**
 * Building the request environ the way `wsgiref.simple_server.WSGIRequestHandler.get_environ()`
 * does, from what `node:http` parsed.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';

import { unquoteNative } from '@wsgi/util';

import { isMounted, splitMount } from './_mount.ts';

/** `WSGIServer/0.2 Node/<version>`, Python's `server_version + ' ' + sys_version`. */
export const SERVER_SOFTWARE = `WSGIServer/0.2 Node/${process.versions.node}`;

/** A header's environ keys: `X-Forwarded-For` → `X_FORWARDED_FOR` and `HTTP_X_FORWARDED_FOR`. */
interface HeaderKeys {
  readonly key: string;
  readonly httpKey: string;
}

/** Header name (as the client spelled it) → its keys, cached: no string work per request. */
const keyCache = new Map<string, HeaderKeys>();
const KEY_CACHE_LIMIT = 1024;

function headerKeys(name: string): HeaderKeys {
  let keys = keyCache.get(name);
  if (keys === undefined) {
    const key = name.toUpperCase().replaceAll('-', '_');
    keys = { key, httpKey: `HTTP_${key}` };
    // Bounded, so a client sending ever-new names cannot grow it without limit.
    if (keyCache.size < KEY_CACHE_LIMIT) keyCache.set(name, keys);
  }
  return keys;
}

/** `http.server` reduces a leading run of slashes to one (CPython gh-87389). */
function collapseLeadingSlashes(path: string): string {
  if (path.charCodeAt(0) !== 47 || path.charCodeAt(1) !== 47) return path;
  let i = 2;
  while (path.charCodeAt(i) === 47) i += 1;
  return path.slice(i - 1);
}

/**
 * Adds the CGI variables of one request to `env` (empty, or holding only what may be
 * overridden): the server's `base` keys, then the request's, so the request wins.
 *
 * Request headers become `HTTP_*` keys, repeats joined with `,`; a header whose name contains
 * `_` is dropped, so no client can pass `X_User` off as `X-User` (both would be `HTTP_X_USER`).
 * Stores happen in one fixed order, so V8 keeps one hidden-class path for every environ
 * (spreading `base` into a literal would cost a new hidden class per request, ~10 µs).
 */
export function fillEnviron(
  env: Record<string, unknown>,
  base: Readonly<Record<string, unknown>>,
  req: IncomingMessage,
  scriptName?: string,
): Record<string, unknown> {
  let url = req.url ?? '/';
  let script = base['SCRIPT_NAME'];
  if (isMounted(req, scriptName)) {
    const [prefix, rest] = splitMount(req, scriptName);
    script = unquoteNative(prefix);
    url = rest;
  }
  url = collapseLeadingSlashes(url);
  const q = url.indexOf('?');
  const socket = req.socket;
  const headers = req.headers;
  const length = headers['content-length'];
  // Without a server's own name (toNodeListener()), the address the request came to.
  env['SERVER_NAME'] = base['SERVER_NAME'] ?? socket.localAddress ?? '';
  env['GATEWAY_INTERFACE'] = base['GATEWAY_INTERFACE'];
  env['SERVER_PORT'] = base['SERVER_PORT'] ?? String(socket.localPort ?? '');
  env['REMOTE_HOST'] = base['REMOTE_HOST'];
  env['SCRIPT_NAME'] = script;
  env['SERVER_PROTOCOL'] = `HTTP/${req.httpVersion}`;
  env['SERVER_SOFTWARE'] = SERVER_SOFTWARE;
  env['REQUEST_METHOD'] = req.method ?? 'GET';
  env['PATH_INFO'] = unquoteNative(q === -1 ? url : url.slice(0, q));
  env['QUERY_STRING'] = q === -1 ? '' : url.slice(q + 1);
  env['REMOTE_ADDR'] = socket.remoteAddress ?? '';
  env['REMOTE_PORT'] = socket.remotePort === undefined ? '' : String(socket.remotePort);
  // A node:https server (toNodeListener()): wsgi.url_scheme is then 'https' (PEP 3333 §URL).
  if ((socket as { encrypted?: unknown }).encrypted === true) env['HTTPS'] = 'on';
  // email.message's get_content_type() default when the header is absent.
  env['CONTENT_TYPE'] = headers['content-type'] ?? 'text/plain';
  env['CONTENT_LENGTH'] =
    length === undefined || length === '' ? (base['CONTENT_LENGTH'] ?? '') : length;
  // Any other key of the server's base environ (Python copies all of it first).
  for (const key in base) if (!(key in env)) env[key] = base[key];

  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.includes('_')) continue;
    const { key, httpKey } = headerKeys(name);
    // Content-Type, Content-Length and any name that spells an existing CGI key are not copied.
    if (env[key] !== undefined) continue;
    const value = raw[i + 1] as string;
    const previous = env[httpKey];
    env[httpKey] = previous === undefined ? value : `${previous as string},${value}`;
  }
  return env;
}
