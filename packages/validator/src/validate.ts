/**
 * `validator()`: middleware that checks both sides of every WSGI call, after Python's
 * `wsgiref.validate`.
 *
 * @see PEP 3333
 * @module
 */
import type {
  Application,
  Environ,
  ErrorStream,
  InputStream,
  StartResponse,
  Write,
} from '@wsgi/util';

import { wrapBody, type BodyContext, type Exchange } from './_body.ts';
import { checkEnviron } from './_environ.ts';
import type { Finding, WSGIWarning } from './_errors.ts';
import { Reporter, show } from './_report.ts';
import { checkExcInfo, checkHeaders, checkStatus } from './_response.ts';
import { CheckedErrors, CheckedInput } from './_streams.ts';
import { Unclosed } from './_unclosed.ts';

/** Options of {@link validator}. */
export interface ValidatorOptions {
  /**
   * `'throw'` (the default) throws a `ValidationError` for every broken rule; `'collect'` only
   * records it (through `onFinding`) and lets the call go on, for checking a whole server run.
   */
  mode?: 'throw' | 'collect' | undefined;
  /**
   * Receives every `WSGIWarning`. Without it, warnings are emitted with
   * `process.emitWarning(message, 'WSGIWarning')` (the message starts with the
   * `[code]`), except in collect mode.
   */
  onWarning?: ((warning: WSGIWarning) => void) | undefined;
  /** Receives every finding, error or warning, in either mode. Required in collect mode. */
  onFinding?: ((finding: Finding) => void) | undefined;
}

const OPTION_NAMES = new Set(['mode', 'onWarning', 'onFinding']);

function checkOptions(options: ValidatorOptions): void {
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.has(key)) throw new TypeError(`validator(): unknown option ${show(key)}`);
  }
  const { onWarning, onFinding } = options;
  const mode: unknown = options.mode;
  if (mode !== undefined && mode !== 'throw' && mode !== 'collect') {
    throw new TypeError(`validator(): mode must be 'throw' or 'collect': ${show(mode)}`);
  }
  for (const [name, value] of [
    ['onWarning', onWarning],
    ['onFinding', onFinding],
  ] as const) {
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`validator(): ${name} must be a function: ${show(value)}`);
    }
  }
  if (mode === 'collect' && onFinding === undefined) {
    throw new TypeError("validator(): mode 'collect' needs an onFinding callback");
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<PromiseLike<unknown>>).then === 'function'
  );
}

function wrapStreams(environ: Record<string, unknown>, report: Reporter): void {
  const input = environ['wsgi.input'];
  if (typeof input === 'object' && input !== null) {
    environ['wsgi.input'] = new CheckedInput(input as InputStream, report);
  }
  const errors = environ['wsgi.errors'];
  if (typeof errors === 'object' && errors !== null) {
    environ['wsgi.errors'] = new CheckedErrors(errors as ErrorStream, report);
  }
}

function checkedWrite(write: Write, report: Reporter): Write {
  return (data) => {
    if (!(data instanceof Uint8Array)) {
      report.fail('write.type', `write() takes a Uint8Array: ${show(data)}`);
    }
    return write(data);
  };
}

function checkedStartResponse(
  startResponse: StartResponse,
  exchange: Exchange,
  report: Reporter,
): StartResponse {
  // Named parameters and `arguments.length`, not `...args`: no array per call.
  return function checkedStartResponse(status: unknown, headers: unknown, excInfo?: unknown) {
    const count = arguments.length;
    // Only a misused startResponse needs the whole list, to show it and pass it on as it is.
    const misused =
      // eslint-disable-next-line prefer-rest-params -- see above
      count === 2 || count === 3 ? undefined : (Array.from(arguments) as Parameters<StartResponse>);
    if (misused !== undefined) {
      report.fail(
        'start-response.arguments',
        `startResponse takes a status, headers and an optional excInfo: ${show(misused)}`,
      );
    }
    checkHeaders(headers, checkStatus(status, report), report);
    checkExcInfo(excInfo, report);
    exchange.started = true;
    const line = status as string;
    const pairs = headers as Array<[string, string]>;
    // Called with the arguments as given, so the server sees excInfo only when it was passed.
    const write =
      misused !== undefined
        ? startResponse(...misused)
        : count === 2
          ? startResponse(line, pairs)
          : startResponse(line, pairs, excInfo);
    return checkedWrite(write, report);
  };
}

/**
 * Wraps a WSGI application so that every call is checked against PEP 3333, on both sides: the
 * environ and `startResponse` the server passes, `wsgi.input` and `wsgi.errors`, the status,
 * headers and `excInfo` the application sends, `write()`, the body's items, and `close()`.
 *
 * A broken rule throws a `ValidationError` (its `code` names the rule); a questionable thing is
 * a `WSGIWarning`. With `{ mode: 'collect', onFinding }` nothing is thrown: every finding is
 * passed to `onFinding` and the call goes on unchanged. A valid application's output is
 * byte-identical with and without the validator: an array body stays an array.
 *
 * Unlike `wsgiref.validate`, `wsgi.input.read()` without a size is allowed (PEP 3333).
 *
 * @param app - the application to check
 * @param options - `mode` (default `'throw'`), `onWarning`, `onFinding`
 * @returns an application that behaves like `app`, with the checks
 * @throws TypeError for an unknown or invalid option
 * @see Python's `wsgiref.validate.validator`
 */
export function validator(app: Application, options: ValidatorOptions = {}): Application {
  if (typeof app !== 'function')
    throw new TypeError(`validator(): app must be a function: ${show(app)}`);
  checkOptions(options);
  const report = new Reporter({
    collect: options.mode === 'collect',
    onWarning: options.onWarning,
    onFinding: options.onFinding,
  });
  const context: BodyContext = {
    report,
    unclosed: new Unclosed(report),
  };

  return function checkedApp(environ: Environ, startResponse: StartResponse) {
    if (arguments.length !== 2 || typeof startResponse !== 'function') {
      report.fail(
        'call.arguments',
        // eslint-disable-next-line prefer-rest-params -- the error path only: no array per call
        `an application takes two arguments, environ and a startResponse function; got ${arguments.length}: ${show(Array.from(arguments, (arg) => typeof arg))}`,
      );
    }
    if (checkEnviron(environ, report)) wrapStreams(environ, report);
    const exchange: Exchange = { started: false };
    const result = app(environ, checkedStartResponse(startResponse, exchange, report));
    if (isThenable(result)) {
      return Promise.resolve(result).then((body) => wrapBody(body, exchange, context));
    }
    return wrapBody(result, exchange, context);
  } as Application;
}
