import { readFileSync } from 'node:fs';

/** The request variables a CGI server copies from the request, named in RFC 3875 §4.1. */
const REQUEST_VARIABLES = new Set([
  'SCRIPT_NAME',
  'PATH_INFO',
  'QUERY_STRING',
  'REQUEST_METHOD',
  'AUTH_TYPE',
  'CONTENT_TYPE',
  'CONTENT_LENGTH',
  'HTTPS',
  'REMOTE_USER',
  'REMOTE_IDENT',
]);

/**
 * Whether a variable carries request bytes, so must become a native string (Python's
 * `_needs_transcode`). Apache's `REDIRECT_` prefix may repeat, one per internal redirect.
 */
function isRequestVariable(name: string): boolean {
  let key = name;
  while (key.startsWith('REDIRECT_')) key = key.slice(9);
  return REQUEST_VARIABLES.has(key) || key.startsWith('HTTP_') || key.startsWith('SSL_');
}

/** Reads `/proc/self/environ`: the raw bytes of each variable as the process got them. */
function readRawEnviron(): Map<string, Buffer> | undefined {
  let data: Buffer;
  try {
    data = readFileSync('/proc/self/environ');
  } catch {
    return undefined;
  }
  const raw = new Map<string, Buffer>();
  let start = 0;
  while (start < data.length) {
    let end = data.indexOf(0, start);
    if (end === -1) end = data.length;
    const eq = data.indexOf(0x3d, start);
    if (eq !== -1 && eq < end) {
      const name = data.toString('utf8', start, eq);
      // getenv() returns the first of duplicated entries; so does Node's process.env.
      if (!raw.has(name)) raw.set(name, data.subarray(eq + 1, end));
    }
    start = end + 1;
  }
  return raw;
}

/** The native string (one char per byte) of `value`'s UTF-8 encoding. */
function utf8ToNative(value: string): string {
  return Buffer.from(value, 'utf8').toString('latin1');
}

/**
 * The native string of a request variable on Windows, where the environment is Unicode and
 * each server decoded the request bytes its own way (Python's `read_environ` does the same).
 */
function windowsToNative(value: string, software: string): string {
  // Apache's mod_cgi stores each request byte as the character of the same code.
  return software.startsWith('apache/') ? value : utf8ToNative(value);
}

/**
 * Reads the CGI environment: every variable, with the request variables (`SCRIPT_NAME`,
 * `PATH_INFO`, `QUERY_STRING`, `REQUEST_METHOD`, `AUTH_TYPE`, `CONTENT_TYPE`, `CONTENT_LENGTH`,
 * `HTTPS`, `REMOTE_USER`, `REMOTE_IDENT`, `HTTP_*`, `SSL_*` and their `REDIRECT_` forms) as
 * PEP 3333 native strings, one character per byte the web server set. Other variables are
 * returned as they are.
 *
 * When `env` is `process.env` on Linux, the bytes come from `/proc/self/environ`, so a
 * request byte that is not UTF-8 (`%FF` in a path) survives; a variable changed since the
 * process started is taken from `process.env` and encoded as UTF-8. Other `env` objects hold
 * decoded text already: their request variables are encoded as UTF-8.
 *
 * @param env - the environment to read; defaults to `process.env`.
 * @returns a new object; `env` is left unchanged.
 * @see Python's `wsgiref.handlers.read_environ`; PEP 3333, "Unicode Issues".
 */
export function readEnviron(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const windows = process.platform === 'win32';
  const raw = !windows && env === process.env ? readRawEnviron() : undefined;
  const software = (env['SERVER_SOFTWARE'] ?? '').toLowerCase();
  const environ: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (!isRequestVariable(name)) {
      environ[name] = value;
      continue;
    }
    if (windows) {
      environ[name] = windowsToNative(value, software);
      continue;
    }
    const bytes = raw?.get(name);
    // Node decoded the same bytes to build process.env; if they still agree, the raw bytes
    // are the truth (they keep what UTF-8 decoding replaced with U+FFFD).
    environ[name] =
      bytes !== undefined && bytes.toString('utf8') === value
        ? bytes.toString('latin1')
        : utf8ToNative(value);
  }
  return environ;
}
