/**
 * A fix-up for CGI environs from web servers that copy every request header into `HTTP_*`.
 *
 * @module
 */
import type { Application } from '@wsgi/core';

/**
 * Wraps `app` so that `HTTP_CONTENT_TYPE` and `HTTP_CONTENT_LENGTH` are dropped from the environ.
 * lighttpd passes the `Content-Type` and `Content-Length` request headers both as
 * `CONTENT_TYPE`/`CONTENT_LENGTH` (RFC 3875 §4.1) and as `HTTP_*` copies; PEP 3333 says the
 * copies must not be there, and the validator refuses them (as `wsgiref.validate` does).
 */
export function withoutContentHeaderCopies(app: Application): Application {
  return (environ, startResponse) => {
    delete environ['HTTP_CONTENT_TYPE'];
    delete environ['HTTP_CONTENT_LENGTH'];
    return app(environ, startResponse);
  };
}
