/**
 * The errors `@wsgi/core` throws, and the check for a client that went away.
 *
 * @module
 */

/**
 * The stable codes of {@link WSGIError}. Every one of them is application misuse and is
 * thrown as a {@link WSGIAssertionError}; the README lists them with their meaning.
 *
 * @see PEP 3333, "The start_response() Callable" and "The write() Callable"
 */
export type WSGIErrorCode =
  | 'ERR_WSGI_INVALID_STATUS'
  | 'ERR_WSGI_INVALID_HEADER'
  | 'ERR_WSGI_HOP_BY_HOP_HEADER'
  | 'ERR_WSGI_HEADERS_ALREADY_SET'
  | 'ERR_WSGI_NO_START_RESPONSE'
  | 'ERR_WSGI_NOT_BYTES'
  | 'ERR_WSGI_INVALID_BODY'
  | 'ERR_WSGI_RESPONSE_FINISHED';

/**
 * The base class of the errors of `@wsgi/core`, with a stable `code`. `name` is the class
 * name, so a logged stack starts with it; `options.cause` is passed to `Error`.
 *
 * @see Python's `AssertionError`, which `wsgiref.handlers` raises for the same misuse
 */
export class WSGIError extends Error {
  /** The stable code, listed in the README. */
  readonly code: WSGIErrorCode;

  /**
   * @param code - the stable code.
   * @param message - what went wrong, for a human.
   * @param options - `{ cause }`, passed to `Error`.
   */
  constructor(code: WSGIErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Misuse of the WSGI protocol by the application: a bad status or header, `write()` before
 * `startResponse()`, headers set twice without `excInfo`, data that is not a `Uint8Array`…
 * The handler answers it like any other error of the application (a 500 page when it can).
 *
 * @see Python's `AssertionError`s in `wsgiref.handlers.BaseHandler`
 */
export class WSGIAssertionError extends WSGIError {}

const DISCONNECT_CODES: ReadonlySet<unknown> = new Set([
  'EPIPE',
  'ECONNRESET',
  'ECONNABORTED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_WRITE_AFTER_END',
]);

/**
 * Whether `error` means the client went away: its `code` is `EPIPE`, `ECONNRESET`,
 * `ECONNABORTED`, `ERR_STREAM_DESTROYED`, `ERR_STREAM_PREMATURE_CLOSE` or
 * `ERR_STREAM_WRITE_AFTER_END`. `BaseHandler.run()` ends such a request quietly (no traceback,
 * no error page, the body still closed); servers and gateways use this to do the same.
 *
 * @see Python's `BaseHandler.run()`, which ignores `ConnectionAbortedError`, `BrokenPipeError`
 *   and `ConnectionResetError`
 */
export function isClientDisconnect(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    DISCONNECT_CODES.has(error.code)
  );
}
