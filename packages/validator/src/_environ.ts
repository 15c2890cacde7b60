/**
 * The environ checks of `wsgiref.validate.check_environ`, with TypeScript's types.
 *
 * @see PEP 3333, "environ Variables"
 * @module
 */
import type { ErrorStream, InputStream } from '@wsgi/util';

import type { Reporter } from './_report.ts';
import { show } from './_report.ts';

const REQUIRED_KEYS = [
  'REQUEST_METHOD',
  'SERVER_NAME',
  'SERVER_PORT',
  'wsgi.version',
  'wsgi.input',
  'wsgi.errors',
  'wsgi.multithread',
  'wsgi.multiprocess',
  'wsgi.run_once',
] as const;

const KNOWN_METHODS = new Set([
  'GET',
  'HEAD',
  'POST',
  'OPTIONS',
  'PATCH',
  'PUT',
  'DELETE',
  'TRACE',
]);

const INPUT_METHODS = ['read', 'readline', 'readlines', Symbol.asyncIterator] as const;
const ERRORS_METHODS = ['write', 'writelines', 'flush'] as const;
const DIGITS = /^[0-9]+$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The first of `names` that `value` lacks as a method ('an object' when it is none). */
function hasMethods(value: unknown, names: readonly (string | symbol)[]): string | undefined {
  if (typeof value !== 'object' || value === null) return 'an object';
  const record = value as Record<string | symbol, unknown>;
  for (const name of names) {
    if (typeof record[name] !== 'function') return String(name);
  }
  return undefined;
}

/** Whether `input` has every method of {@link INPUT_METHODS}: one lookup site per name. */
function isInputStream(input: unknown): boolean {
  if (typeof input !== 'object' || input === null) return false;
  const stream = input as Partial<InputStream>;
  return (
    typeof stream.read === 'function' &&
    typeof stream.readline === 'function' &&
    typeof stream.readlines === 'function' &&
    typeof stream[Symbol.asyncIterator] === 'function'
  );
}

/** Whether `errors` has every method of {@link ERRORS_METHODS}: one lookup site per name. */
function isErrorStream(errors: unknown): boolean {
  if (typeof errors !== 'object' || errors === null) return false;
  const stream = errors as Partial<ErrorStream>;
  return (
    typeof stream.write === 'function' &&
    typeof stream.writelines === 'function' &&
    typeof stream.flush === 'function'
  );
}

/**
 * Checks the environ an application is called with; returns whether it is an object at all
 * (a non-object cannot be wrapped further).
 */
export function checkEnviron(
  environ: unknown,
  report: Reporter,
): environ is Record<string, unknown> {
  if (!isPlainObject(environ)) {
    const kind =
      typeof environ === 'object' && environ !== null
        ? `an instance of ${environ.constructor.name}`
        : show(environ);
    report.fail('environ.type', `the environ must be a plain object, not ${kind}`);
    return typeof environ === 'object' && environ !== null;
  }
  // One `in` per key, each at its own site (a loop over the names would be a megamorphic
  // lookup per name); the loop only runs to report what is missing.
  if (!(
    'REQUEST_METHOD' in environ &&
    'SERVER_NAME' in environ &&
    'SERVER_PORT' in environ &&
    'wsgi.version' in environ &&
    'wsgi.input' in environ &&
    'wsgi.errors' in environ &&
    'wsgi.multithread' in environ &&
    'wsgi.multiprocess' in environ &&
    'wsgi.run_once' in environ
  )) {
    for (const key of REQUIRED_KEYS) {
      if (!(key in environ))
        report.fail('environ.missing-key', `the environ lacks the key ${show(key)}`);
    }
  }
  if ('HTTP_CONTENT_TYPE' in environ || 'HTTP_CONTENT_LENGTH' in environ) {
    for (const key of ['HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH']) {
      if (key in environ) {
        report.fail(
          'environ.http-content-header',
          `the environ must not have ${key} (use ${key.slice(5)}): ${show(environ[key])}`,
        );
      }
    }
  }
  if (!('QUERY_STRING' in environ)) {
    report.warn(
      'environ.query-string-missing',
      'QUERY_STRING is not in the environ; parsers of the query are likely to misbehave',
    );
  }
  checkCgiValues(environ, report);
  checkWsgiKeys(environ, report);
  checkPaths(environ, report);
  return true;
}

/** The keys of the environ checked last, and which of them name CGI variables (no dot). */
let lastKeys: readonly string[] = [];
let lastCgi: readonly boolean[] = [];

/**
 * Keys without a dot are CGI variables, which PEP 3333 requires to be native strings. Keys
 * with one are extensions: their values are not read, so a lazy getter stays lazy.
 *
 * A server builds every environ the same way, so the keys come in the same order request
 * after request: while they match the last environ's, one by one, whether a key has a dot is
 * taken from then instead of searched for again. Object.keys() beats for…in on the large
 * dictionary-mode objects an environ often is.
 */
function checkCgiValues(environ: Record<string, unknown>, report: Reporter): void {
  const keys = Object.keys(environ);
  const known = lastKeys;
  let cgiKeys = lastCgi;
  let same = keys.length === known.length;
  for (let index = 0; same && index < keys.length; index++) same = keys[index] === known[index];
  if (!same) {
    cgiKeys = keys.map((key) => !key.includes('.'));
    lastKeys = keys;
    lastCgi = cgiKeys;
  }
  for (let index = 0; index < keys.length; index++) {
    if (cgiKeys[index] !== true) continue;
    const key = keys[index] as string;
    const value = environ[key];
    if (typeof value !== 'string') {
      report.fail('environ.not-string', `the CGI variable ${key} is not a string: ${show(value)}`);
    }
  }
}

function checkWsgiKeys(environ: Record<string, unknown>, report: Reporter): void {
  const version = environ['wsgi.version'];
  if (
    !Array.isArray(version) ||
    version.length !== 2 ||
    typeof version[0] !== 'number' ||
    typeof version[1] !== 'number'
  ) {
    report.fail('environ.version', `wsgi.version must be a pair of numbers: ${show(version)}`);
  }
  const scheme = environ['wsgi.url_scheme'];
  if (scheme !== 'http' && scheme !== 'https') {
    report.fail('environ.url-scheme', `wsgi.url_scheme must be 'http' or 'https': ${show(scheme)}`);
  }
  const input = environ['wsgi.input'];
  if (!isInputStream(input)) {
    const lacked = hasMethods(input, INPUT_METHODS);
    report.fail('environ.input', `wsgi.input lacks ${String(lacked)}: ${show(input)}`);
  }
  const errors = environ['wsgi.errors'];
  if (!isErrorStream(errors)) {
    const lacked = hasMethods(errors, ERRORS_METHODS);
    report.fail('environ.errors', `wsgi.errors lacks ${String(lacked)}: ${show(errors)}`);
  }
  const method = environ['REQUEST_METHOD'];
  if (typeof method === 'string' && !KNOWN_METHODS.has(method)) {
    report.warn('environ.request-method', `unknown REQUEST_METHOD: ${show(method)}`);
  }
}

function checkPaths(environ: Record<string, unknown>, report: Reporter): void {
  const script = environ['SCRIPT_NAME'];
  const path = environ['PATH_INFO'];
  if (typeof script === 'string' && script !== '' && !script.startsWith('/')) {
    report.fail(
      'environ.script-name',
      `SCRIPT_NAME must be empty or start with '/': ${show(script)}`,
    );
  }
  if (typeof path === 'string' && path !== '' && !path.startsWith('/')) {
    report.fail('environ.path-info', `PATH_INFO must be empty or start with '/': ${show(path)}`);
  }
  const length = environ['CONTENT_LENGTH'];
  if (typeof length === 'string' && length !== '' && !DIGITS.test(length)) {
    report.fail(
      'environ.content-length',
      `CONTENT_LENGTH must be a non-negative integer: ${show(length)}`,
    );
  }
  if ((script === undefined || script === '') && !('PATH_INFO' in environ)) {
    report.fail(
      'environ.path-missing',
      "the environ needs SCRIPT_NAME or PATH_INFO (PATH_INFO should be at least '/')",
    );
  }
  if (script === '/') {
    report.fail(
      'environ.script-name-root',
      "SCRIPT_NAME must not be '/': it should be '' with PATH_INFO '/'",
    );
  }
}
