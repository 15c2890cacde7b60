/**
 * What a CGI script's process needs around the handler: its request body on fd 0, quiet
 * stdio errors, and no proxy setting taken from the request.
 *
 * @module
 */
import { toInputStream } from '@wsgi/util';
import type { InputStream } from '@wsgi/util';

import { contentLength, readBody } from './_stdin.ts';

/** The descriptor the web server writes the request body to (RFC 3875 §4.2). */
const STDIN_FD = 0;

const ignore = (): void => undefined;
let guarded = false;

/**
 * `wsgi.input` of a CGI request: fd 0, ending after `CONTENT_LENGTH` bytes. Nothing is read
 * until the application asks, and never a byte past the body.
 */
export function cgiInput(environ: Readonly<Record<string, string>>): InputStream {
  const length = contentLength(environ['CONTENT_LENGTH']);
  return toInputStream(readBody(STDIN_FD, length), { contentLength: length });
}

/**
 * Keeps a failing stdout or stderr (the web server went away: `EPIPE`) from crashing the
 * process with an unhandled `error` event; the handler learns of it through its own writes.
 */
export function guardStdio(): void {
  if (guarded) return;
  guarded = true;
  process.stdout.on('error', ignore);
  process.stderr.on('error', ignore);
}

/**
 * httpoxy (CVE-2016-5385): a request's `Proxy:` header reaches a CGI script as `HTTP_PROXY`,
 * the name HTTP clients read their proxy from. The application keeps it in its environ, but
 * the process must not route its own requests through it.
 */
export function removeRequestProxy(): void {
  delete process.env['HTTP_PROXY'];
}
