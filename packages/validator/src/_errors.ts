/**
 * The findings the validator reports: `ValidationError` for a broken rule, `WSGIWarning` for
 * something legal but questionable. Both carry a stable `code` naming the rule.
 *
 * @module
 */

/**
 * The code of every rule whose breach is an error, as carried by {@link ValidationError.code}.
 * The package README describes each one.
 */
export type ValidationErrorCode =
  | 'call.arguments'
  | 'environ.type'
  | 'environ.missing-key'
  | 'environ.http-content-header'
  | 'environ.not-string'
  | 'environ.version'
  | 'environ.url-scheme'
  | 'environ.input'
  | 'environ.errors'
  | 'environ.script-name'
  | 'environ.script-name-root'
  | 'environ.path-info'
  | 'environ.path-missing'
  | 'environ.content-length'
  | 'input.arguments'
  | 'input.result'
  | 'input.close'
  | 'errors.type'
  | 'errors.close'
  | 'start-response.arguments'
  | 'status.type'
  | 'status.format'
  | 'status.code'
  | 'status.informational'
  | 'status.invalid-char'
  | 'headers.type'
  | 'headers.item'
  | 'headers.not-string'
  | 'headers.status'
  | 'headers.name'
  | 'headers.name-ending'
  | 'headers.value'
  | 'headers.hop-by-hop'
  | 'headers.content-type-missing'
  | 'headers.content-type-forbidden'
  | 'exc-info.type'
  | 'write.type'
  | 'body.type'
  | 'body.string'
  | 'body.item'
  | 'body.before-start'
  | 'body.after-close';

/** The code of every rule whose breach is a warning, as carried by {@link WSGIWarning.code}. */
export type WSGIWarningCode =
  'environ.query-string-missing' | 'environ.request-method' | 'status.reason' | 'body.not-closed';

/** Any rule code: an error code or a warning code. */
export type ValidationCode = ValidationErrorCode | WSGIWarningCode;

/**
 * A broken PEP 3333 rule, thrown by the wrapped application (or by the `startResponse`,
 * `write`, `wsgi.input`, `wsgi.errors` or body it hands out). The message starts with the rule's
 * code in brackets and shows the offending value.
 *
 * Mirrors the `AssertionError`s raised by Python's `wsgiref.validate`.
 *
 * @see PEP 3333
 */
export class ValidationError extends Error {
  /** The rule that was broken, e.g. `'status.format'`. Stable across releases. */
  readonly code: ValidationErrorCode;
  /** Always `'error'`: tells a finding apart from a {@link WSGIWarning} without `instanceof`. */
  readonly severity = 'error' as const;

  /**
   * @param code - the broken rule
   * @param message - what is wrong, without the code (the code is prefixed)
   * @param options - `cause`, passed through to `Error`
   */
  constructor(code: ValidationErrorCode, message: string, options?: ErrorOptions) {
    super(`[${code}] ${message}`, options);
    this.name = 'ValidationError';
    this.code = code;
  }
}

/**
 * Something legal but questionable (an unknown `REQUEST_METHOD`, a status without a reason, a
 * body never closed). Passed to `onWarning`, or emitted with `process.emitWarning()` under the
 * type `'WSGIWarning'`.
 *
 * Mirrors Python's `wsgiref.validate.WSGIWarning`.
 */
export class WSGIWarning extends Error {
  /** The rule concerned, e.g. `'status.reason'`. Stable across releases. */
  readonly code: WSGIWarningCode;
  /** Always `'warning'`: tells a finding apart from a {@link ValidationError}. */
  readonly severity = 'warning' as const;

  /**
   * @param code - the rule concerned
   * @param message - what is questionable, without the code (the code is prefixed)
   */
  constructor(code: WSGIWarningCode, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'WSGIWarning';
    this.code = code;
  }
}

/** One finding: an error or a warning. What `onFinding` receives. */
export type Finding = ValidationError | WSGIWarning;
