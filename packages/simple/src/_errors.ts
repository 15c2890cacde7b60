/**
 * The errors `@wsgi/simple` throws.
 *
 * @module
 */

/** The stable codes of {@link WSGIServerError}. */
export type WSGIServerErrorCode =
  'ERR_WSGI_BODY_TOO_LARGE' | 'ERR_WSGI_MODULE_NOT_FOUND' | 'ERR_WSGI_NO_APPLICATION';

/**
 * An error of the server or the CLI, with a stable `code`.
 *
 * `ERR_WSGI_BODY_TOO_LARGE` is thrown by `wsgi.input` when a request body grows past
 * `maxBodySize`; unless the application has already started its response, the client gets
 * `413 Content Too Large`.
 */
export class WSGIServerError extends Error {
  /** The stable code, listed in the README. */
  readonly code: WSGIServerErrorCode;

  constructor(code: WSGIServerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'WSGIServerError';
    this.code = code;
  }
}

/** `true` for the error `wsgi.input` throws past `maxBodySize`. */
export function isBodyTooLarge(error: unknown): error is WSGIServerError {
  return error instanceof WSGIServerError && error.code === 'ERR_WSGI_BODY_TOO_LARGE';
}
