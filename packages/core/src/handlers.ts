/**
 * `wsgiref.handlers.BaseHandler`: the engine that runs a WSGI application and transmits its
 * response through a few hooks a server or gateway overrides.
 *
 * @module
 */
import { Buffer } from 'node:buffer';

import { FileWrapper, Headers, guessScheme } from '@wsgi/util';
import type {
  Application,
  Environ,
  ErrorStream,
  InputStream,
  ResponseBody,
  StartResponse,
  Write,
} from '@wsgi/util';

import { iterate } from './_body.ts';
import { checkHeaders, checkStatus } from './_checks.ts';
import { ContentLengthGuard, parseContentLength } from './_content-length.ts';
import { OS_ENVIRON, WSGI_VERSION, addStreams, newEnviron } from './_environ.ts';
import {
  ERROR_BODY,
  logCloseError,
  logQuietly,
  reportError,
  rethrowAfter,
  writeTraceback,
} from './_error-path.ts';
import { WSGIAssertionError, isClientDisconnect } from './_errors.ts';
import { preambleText, writeHead } from './_header-block.ts';
import { andThen, isThenable } from './_maybe.ts';
import { lookupTarget } from './_lookup.ts';
import { WriteQueue } from './_write-queue.ts';

const RESOLVED: Promise<void> = Promise.resolve();

/** `handler.#send(data)`: the one function every handler's write queue sends through. */
let sendThrough: (handler: BaseHandler, data: Uint8Array) => void | Promise<void>;

/**
 * Runs one WSGI application per `run()` call and writes its response through `_write()` and
 * `_flush()`. A server or gateway subclasses it and implements the five hooks: `_write(data)`,
 * `_flush()`, `getStdin()`, `getStderr()` and `addCgiVars(environ)`; each may return a promise,
 * which is awaited only when one is returned, so synchronous hooks cost no microtask.
 *
 * Transmission: the status line (or `Status:` line for a gateway), the preamble and the header
 * block are handed to `_write()` in one call together with the first non-empty body chunk when
 * that chunk is at most 16 KiB (two calls when it is larger, one when there is no body). A
 * small response whose body is a one-element array is therefore exactly one `_write()` call
 * followed by one `_flush()`.
 *
 * @see PEP 3333, "Specification Details"; Python `wsgiref.handlers.BaseHandler`
 */
export abstract class BaseHandler {
  /** `environ['wsgi.version']`. */
  wsgiVersion: readonly [number, number] = WSGI_VERSION;
  /** `environ['wsgi.multithread']`; default `true`. */
  wsgiMultithread = true;
  /** `environ['wsgi.multiprocess']`; default `true`. */
  wsgiMultiprocess = true;
  /** `environ['wsgi.run_once']`; default `false`. */
  wsgiRunOnce = false;
  /** `true` to send a status line, `Date` and `Server` (HTTP); `false` for `Status:` (CGI). */
  originServer = true;
  /** The HTTP version of the status line; default `'1.0'`. */
  httpVersion = '1.0';
  /** The `Server` header and `SERVER_SOFTWARE` of an origin server; default none. */
  serverSoftware: string | null = null;
  /** The base of every environ: a snapshot of `process.env` taken when the module loaded. */
  osEnviron: Record<string, string> = OS_ENVIRON;
  /** The class behind `environ['wsgi.file_wrapper']`; `null` leaves that key out. */
  wsgiFileWrapper: typeof FileWrapper | null = FileWrapper;
  /** The class that holds the response headers; must behave like `Headers`. */
  headersClass: new (headers: Array<[string, string]>) => Headers = Headers;
  /** How many stack frames `logException()` writes; `null` (default) for all of them. */
  tracebackLimit: number | null = null;
  /** The status of the error page. */
  errorStatus = '500 Internal Server Error';
  /** The headers of the error page. */
  errorHeaders: Array<[string, string]> = [['Content-Type', 'text/plain']];
  /** The body of the error page: `A server error occurred.  Please contact the administrator.` */
  errorBody: Uint8Array = ERROR_BODY;

  /** The status given to `startResponse()`, or `null`. */
  status: string | null = null;
  /** The body the application returned, or `null`. */
  result: ResponseBody | null = null;
  /** The response headers given to `startResponse()`, or `null`. */
  headers: Headers | null = null;
  /** Whether the header block has been sent (or, for HTTP/0.9, would have been). */
  headersSent = false;
  /** How many body bytes have been handed to `_write()`. */
  bytesSent = 0;
  /** The environ of the request being handled, or `null` outside `run()`. */
  environ: Environ | null = null;

  static {
    sendThrough = (handler, data) => handler.#send(data);
  }

  /** The writes of the response, in order; also where `iterate()` sends the body's chunks. */
  readonly #queue = new WriteQueue<BaseHandler>(this, sendThrough);
  /** The application's `Content-Length` and what went past it; `full` stops `iterate()`. */
  readonly #length = new ContentLengthGuard();
  /** Preamble text gathered while `sendHeaders()` builds the header block. */
  #head: string[] | null = null;
  /** The body last closed, so no body is closed twice. */
  #closedBody: unknown = null;
  /** Set by `close()`: the response is over, `write()` and `startResponse()` refuse. */
  #finished = false;
  /** The body run() probed (`#targetOf()`), and where its properties are read. */
  #probed: object | null = null;
  #probedTarget: object | null = null;

  /**
   * Runs `app` (synchronous or `async`) for one request: sets up the environ, calls the
   * application, sends its body, and closes the body. Errors before the headers are sent become
   * the error page; after, they are logged and the response ends. A client that went away
   * ({@link isClientDisconnect}) ends it quietly.
   *
   * @returns a promise that resolves when the response is complete and the body closed; it
   *   rejects only when handling an error failed too.
   * @see Python `BaseHandler.run()`
   */
  run(app: Application): Promise<void> {
    let pending: void | Promise<void>;
    try {
      const setup = this.setupEnviron();
      pending = isThenable(setup) ? this.#callAfter(setup, app) : this.#call(app);
    } catch (error) {
      return this.#recover(error);
    }
    // All of it done synchronously: no promise of its own, no microtask.
    if (pending === undefined) return RESOLVED;
    return Promise.resolve(pending).then(undefined, (error: unknown) => this.#recover(error));
  }

  async #callAfter(setup: PromiseLike<void>, app: Application): Promise<void> {
    await setup;
    const pending = this.#call(app);
    if (pending !== undefined) await pending;
  }

  /** Calls the application and sends its response; `undefined` when all of it was synchronous. */
  #call(app: Application): void | Promise<void> {
    const returned = app(this.#environ(), this.startResponse);
    // `then` read where it is cheapest (a generator made per request: see lookupTarget).
    const probe =
      typeof returned !== 'object' || (returned as unknown) === null || Array.isArray(returned)
        ? returned
        : this.#targetOf(returned);
    if (isThenable(probe)) return this.#finishAfter(returned);
    this.result = returned as ResponseBody;
    const finished = this.finishResponse();
    return isThenable(finished) ? Promise.resolve(finished) : undefined;
  }

  async #finishAfter(returned: ResponseBody | Promise<ResponseBody>): Promise<void> {
    this.result = await returned;
    const finished = this.finishResponse();
    if (isThenable(finished)) await finished;
  }

  async #recover(error: unknown): Promise<void> {
    if (isClientDisconnect(error)) return this.#closeQuietly();
    try {
      const handled = this.handleError(error);
      if (isThenable(handled)) await handled;
    } catch (second) {
      await this.#closeQuietly();
      if (!isClientDisconnect(second)) throw second;
    }
  }

  async #closeQuietly(): Promise<void> {
    if (this.#finished) return;
    await this.#queue.settled();
    try {
      const closing = this.close();
      if (isThenable(closing)) await closing;
    } catch (error) {
      logQuietly(this, error);
    }
  }

  /**
   * Builds `this.environ` for one request: a copy of `osEnviron`, then `addCgiVars()`, then
   * `wsgi.input` (`getStdin()`), `wsgi.errors` (`getStderr()`), `wsgi.version`,
   * `wsgi.run_once`, `wsgi.url_scheme` (`getScheme()`), `wsgi.multithread`,
   * `wsgi.multiprocess`, `wsgi.file_wrapper` (a function, unless `wsgiFileWrapper` is `null`)
   * and, for an origin server with `serverSoftware`, `SERVER_SOFTWARE` when it is absent.
   *
   * @see PEP 3333, "environ Variables"; Python `BaseHandler.setup_environ()`
   */
  setupEnviron(): void | Promise<void> {
    this.#finished = false;
    this.#closedBody = null;
    this.#queue.clear();
    this.#length.clear();
    // Object.assign, not a spread: V8 keeps a spread copy on a slow path once keys are added.
    const environ = Object.assign(newEnviron(), this.osEnviron);
    this.environ = environ;
    // Plain calls while the hooks are synchronous: no closure per request.
    const added = this.addCgiVars(environ);
    if (isThenable(added)) return Promise.resolve(added).then(() => addStreams(this, environ));
    return addStreams(this, environ);
  }

  #environ(): Environ {
    if (this.environ === null) throw new Error('setupEnviron() has not run');
    return this.environ;
  }

  /**
   * Sends the body (through `sendfile()` first when it is a `wsgiFileWrapper`), finishes the
   * content, then calls `close()`. On failure the body is closed and the error rethrown. An
   * error from `close()` after a complete response is logged and sends nothing more.
   *
   * @see Python `BaseHandler.finish_response()`
   */
  finishResponse(): void | Promise<void> {
    let sending: void | Promise<void>;
    try {
      sending = this.#transmit();
    } catch (error) {
      return this.#abort(error);
    }
    if (isThenable(sending)) {
      return sending.then(
        () => this.#complete(),
        (error: unknown) => this.#abort(error),
      );
    }
    return this.#complete();
  }

  #transmit(): void | Promise<void> {
    const body = this.result;
    if (this.resultIsFile()) {
      const sent = this.sendfile();
      if (isThenable(sent)) {
        return Promise.resolve(sent).then((done) => (done ? this.#end() : this.#iterate(body)));
      }
      if (sent) return this.#end();
    }
    return this.#iterate(body);
  }

  #iterate(body: unknown): void | Promise<void> {
    // The lookup target run() found for this body, if nothing replaced the body since.
    const target = this.#probed === body ? this.#probedTarget : null;
    this.#probed = null;
    this.#probedTarget = null;
    const done = iterate(body, this.#queue, this.#length, target ?? undefined);
    if (isThenable(done)) return Promise.resolve(done).then(() => this.#end());
    return this.#end();
  }

  /** `lookupTarget(value)`, kept for `#iterate()`, which follows at once. */
  #targetOf(value: object): object {
    const target = lookupTarget(value);
    this.#probed = value;
    this.#probedTarget = target;
    return target;
  }

  /** Waits for writes still in flight, then finishes the content. */
  #end(): void | Promise<void> {
    const busy = this.#queue.busy;
    if (busy === undefined) return this.finishContent();
    return busy.then(() => this.#end());
  }

  #abort(error: unknown): Promise<never> | never {
    let closing: void | Promise<void>;
    try {
      closing = this.#closeBody(this.result);
    } catch (closeError) {
      // The body's own error is the one to handle; the close failure is only logged.
      logQuietly(this, closeError);
      throw error;
    }
    if (isThenable(closing)) return rethrowAfter(this, closing, error);
    throw error;
  }

  /** The response is complete: close it; a failing `close()` is only logged (API.md, deviation 3). */
  #complete(): void | Promise<void> {
    let closing: void | Promise<void>;
    try {
      closing = this.close();
    } catch (error) {
      return logCloseError(this, error);
    }
    if (isThenable(closing))
      return closing.then(undefined, (error: unknown) => logCloseError(this, error));
  }

  /** `'https'` when `environ.HTTPS` is `yes`, `on` or `1`, else `'http'` (`guessScheme`). */
  getScheme(): string {
    return guessScheme(this.#environ());
  }

  /**
   * Sets `Content-Length` when it can be known: a body that is a one-element array is exactly
   * the bytes sent so far.
   *
   * @see Python `BaseHandler.set_content_length()`
   */
  setContentLength(): void {
    const body = this.result;
    if (Array.isArray(body) && body.length === 1) {
      this.#started('setContentLength()').set('Content-Length', String(this.bytesSent));
    }
  }

  /**
   * Makes last changes to the headers before they are sent: `setContentLength()` unless the
   * application set `Content-Length`. Subclasses extend it to add defaults.
   *
   * @see Python `BaseHandler.cleanup_headers()`
   */
  cleanupHeaders(): void {
    if (!this.#started('cleanupHeaders()').has('Content-Length')) this.setContentLength();
  }

  /**
   * The `Content-Length` the headers declare now, or -1 when they declare none (or are not
   * set). `startResponse()` accepts only one, of 1 to 15 digits: a subclass that frames the body
   * itself reads it here, after `cleanupHeaders()`, rather than parsing the header again.
   */
  protected get declaredLength(): number {
    return parseContentLength(this.headers?.get('Content-Length'));
  }

  /**
   * The `start_response()` callable: a property holding an arrow function, so it is bound and
   * can be handed to the application as it is. Checks the status (three digits and a space) and
   * the headers (string pairs, token names, no control characters, no hop-by-hop header), and
   * stores them; nothing is sent yet. With `excInfo` it replaces headers not yet sent, or
   * throws `excInfo` when they were. Without it, a second call throws.
   *
   * @returns the bound `write` callable.
   * @throws WSGIAssertionError on misuse; `excInfo` itself when headers were already sent.
   * @see PEP 3333, "The start_response() Callable"; Python `BaseHandler.start_response()`
   */
  readonly startResponse: StartResponse = (status, headers, excInfo) => {
    if (this.#finished) {
      throw new WSGIAssertionError(
        'ERR_WSGI_RESPONSE_FINISHED',
        'startResponse() after the response was finished',
      );
    }
    if (excInfo !== undefined && excInfo !== null) {
      // PEP 3333: the caught value is rethrown as it is, whatever was thrown.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      if (this.headersSent) throw excInfo;
    } else if (this.headers !== null) {
      throw new WSGIAssertionError('ERR_WSGI_HEADERS_ALREADY_SET', 'Headers already set!');
    }
    const checked = checkStatus(status);
    const list = checkHeaders(headers);
    this.status = checked;
    this.headers = new this.headersClass(list);
    return this.write;
  };

  /**
   * Writes the preamble through `_write()`: for an origin server and a modern client the status
   * line, `Date` (unless set) and `Server` (when `serverSoftware` is set and the application
   * did not set it); for a gateway the `Status:` line. While `sendHeaders()` runs, this text is
   * gathered into the one `_write()` that carries the header block; an override that calls
   * `_write()` itself should write its whole preamble that way, not mix it with `super`.
   *
   * @see Python `BaseHandler.send_preamble()`
   */
  sendPreamble(): void | Promise<void> {
    const text = preambleText(this, this.#started('sendPreamble()'));
    if (this.#head !== null) {
      this.#head.push(text);
      return;
    }
    if (text !== '') return this._write(Buffer.from(text, 'latin1'));
  }

  /**
   * The `write()` callable, bound like `startResponse`. Sends the headers before the first
   * byte (even for empty data), then `data`. Calls are sent in order even when they are not
   * awaited.
   *
   * @returns a promise that resolves once `_write()` and `_flush()` are done.
   * @throws WSGIAssertionError, synchronously, when `data` is not a `Uint8Array` or
   *   `startResponse()` was not called; an error of a synchronous `_write()` is thrown too.
   * @see PEP 3333, "The write() Callable"; Python `BaseHandler.write()`
   */
  readonly write: Write = (data) => {
    if (!(data instanceof Uint8Array)) {
      throw new WSGIAssertionError('ERR_WSGI_NOT_BYTES', 'write() argument must be a Uint8Array');
    }
    this.#started('write()');
    return this.#queue.push(data) ?? RESOLVED;
  };

  #send(data: Uint8Array): void | Promise<void> {
    const headers = this.#started('write()');
    if (!this.headersSent) {
      this.#length.start(headers);
      const first = this.#length.clip(data, 0);
      this.bytesSent = first.length;
      return this.#flushAfter(this.sendHeaders(first));
    }
    const chunk = this.#length.clip(data, this.bytesSent);
    if (chunk.length === 0) return;
    this.bytesSent += chunk.length;
    return this.#flushAfter(this._write(chunk));
  }

  /** `_flush()` once `written` is done; at once (no closure) when it is not a promise. */
  #flushAfter(written: void | Promise<void>): void | Promise<void> {
    if (isThenable(written)) return Promise.resolve(written).then(() => this._flush());
    return this._flush();
  }

  /**
   * Platform-specific file transmission, tried when the body is a `wsgiFileWrapper`. Return
   * (or resolve to) `true` when the file was sent, `false` to iterate it as usual; throw when
   * sending was attempted and failed. An override must call `sendHeaders()` first when
   * `headersSent` is `false`. The default returns `false`.
   *
   * @see PEP 3333, "Optional Platform-Specific File Handling"; Python `BaseHandler.sendfile()`
   */
  sendfile(): boolean | Promise<boolean> {
    return false;
  }

  /**
   * Ensures headers and content have both been sent: with nothing sent yet, sets
   * `Content-Length: 0` unless the application set it (so `HEAD` works) and sends the headers.
   * A body longer or shorter than the application's `Content-Length` is logged to
   * `wsgi.errors` (not for `HEAD` or `304` when shorter).
   *
   * @see Python `BaseHandler.finish_content()`
   */
  finishContent(): void | Promise<void> {
    const headers = this.#started('finishContent()');
    if (this.headersSent) return this.#checkLength();
    headers.setDefault('Content-Length', '0');
    this.#length.start(headers);
    const checked = this.#checkLength();
    if (isThenable(checked)) {
      return Promise.resolve(checked).then(() => this.#flushAfter(this.sendHeaders()));
    }
    return this.#flushAfter(this.sendHeaders());
  }

  #checkLength(): void | Promise<void> {
    const message = this.#length.mismatch(this.bytesSent, this.#mayBeShort());
    if (message === undefined) return;
    return reportError(this, message);
  }

  /** A `HEAD` response or a `304` declares the length of a body it does not carry. */
  #mayBeShort(): boolean {
    return this.environ?.REQUEST_METHOD === 'HEAD' || this.status?.startsWith('304') === true;
  }

  /**
   * Closes the body (its `close()`, once) and resets the state for another request. Servers
   * extend it, e.g. to log the request or drop the connection.
   *
   * @see Python `BaseHandler.close()`
   */
  close(): void | Promise<void> {
    let closing: void | Promise<void> = undefined;
    try {
      closing = this.#closeBody(this.result);
    } finally {
      if (!isThenable(closing)) this.#reset();
    }
    if (isThenable(closing)) {
      return closing.finally(() => {
        this.#reset();
      });
    }
  }

  #closeBody(body: ResponseBody | null): void | Promise<void> {
    if (body === null || this.#closedBody === body) return;
    this.#closedBody = body;
    // Looked up afresh: the body may have changed while it was iterated.
    const holder = Array.isArray(body) ? body : lookupTarget(body);
    const close = (holder as { close?: unknown }).close;
    if (typeof close === 'function') return (close as () => void | Promise<void>).call(body);
  }

  #reset(): void {
    this.result = null;
    this.#probed = null;
    this.#probedTarget = null;
    this.headers = null;
    this.status = null;
    this.environ = null;
    this.bytesSent = 0;
    this.headersSent = false;
    this.#finished = true;
  }

  /**
   * Sends the status or preamble and the header block through `_write()` (only the body for an
   * HTTP/0.9 client of an origin server), after `cleanupHeaders()`. `data`, the first body
   * chunk, goes in the same `_write()` call when it is at most 16 KiB.
   *
   * @see Python `BaseHandler.send_headers()`
   */
  sendHeaders(data?: Uint8Array): void | Promise<void> {
    this.#started('sendHeaders()');
    this.cleanupHeaders();
    this.headersSent = true;
    if (this.originServer && !this.clientIsModern()) {
      if (data !== undefined && data.length > 0) return this._write(data);
      return;
    }
    const parts: string[] = [];
    this.#head = parts;
    let preamble: void | Promise<void>;
    try {
      preamble = this.sendPreamble();
    } finally {
      this.#head = null;
    }
    if (isThenable(preamble)) {
      return Promise.resolve(preamble).then(() => this.#writeHead(parts, data));
    }
    return this.#writeHead(parts, data);
  }

  /** The preamble `parts`, the header block and `data` through `_write()` (`writeHead()`). */
  #writeHead(parts: string[], data: Uint8Array | undefined): void | Promise<void> {
    const preamble = parts.length === 1 ? (parts[0] as string) : parts.join('');
    return writeHead(this, preamble + this.#started('sendHeaders()').toString(), data);
  }

  /** Whether the body is a `wsgiFileWrapper` (`false` when that is `null`). */
  resultIsFile(): boolean {
    const Wrapper = this.wsgiFileWrapper;
    return Wrapper !== null && this.result instanceof Wrapper;
  }

  /** `false` for an HTTP/0.9 request (`SERVER_PROTOCOL`), which gets no status line or headers. */
  clientIsModern(): boolean {
    const protocol = this.environ?.SERVER_PROTOCOL ?? '';
    // The usual answers first, without a new upper-cased string.
    if (protocol === 'HTTP/1.1' || protocol === 'HTTP/1.0') return true;
    return protocol.toUpperCase() !== 'HTTP/0.9';
  }

  /**
   * Writes `error`'s stack (at most `tracebackLimit` frames, then its causes) to `getStderr()`
   * and flushes it. Never sent to the client. Override to log elsewhere.
   *
   * @see Python `BaseHandler.log_exception()`
   */
  logException(error: unknown): void | Promise<void> {
    return andThen(this.getStderr(), (stderr) => {
      writeTraceback(stderr, error, this.tracebackLimit);
    });
  }

  /**
   * Handles an error of the application: logs it, then, when no header was sent yet, sends
   * the `errorOutput()` page instead (status and headers are reset first, so `errorOutput`
   * starts a fresh response); otherwise ends the response with `close()`.
   *
   * @see Python `BaseHandler.handle_error()`
   */
  handleError(error: unknown): void | Promise<void> {
    return andThen(this.logException(error), () => {
      // Writes still in flight end (or fail) before the response is closed.
      if (this.headersSent) return andThen(this.#queue.settled(), () => this.close());
      this.status = null;
      this.headers = null;
      this.result = this.errorOutput(this.#environ(), this.startResponse, error);
      return this.finishResponse();
    });
  }

  /**
   * The error page, as a WSGI application: `errorStatus`, a copy of `errorHeaders` and
   * `errorBody`. Override it to produce another page; never put the error itself in it.
   *
   * @param _environ - the request's environ (the default page does not use it).
   * @param startResponse - the handler's `startResponse`.
   * @param error - the error being handled, passed as `excInfo`.
   * @see Python `BaseHandler.error_output()`
   */
  errorOutput(_environ: Environ, startResponse: StartResponse, error?: unknown): ResponseBody {
    startResponse(this.errorStatus, [...this.errorHeaders], error);
    return [this.errorBody];
  }

  #started(what: string): Headers {
    const headers = this.headers;
    if (this.status !== null && headers !== null) return headers;
    if (this.#finished) {
      throw new WSGIAssertionError(
        'ERR_WSGI_RESPONSE_FINISHED',
        `${what} after the response was finished`,
      );
    }
    throw new WSGIAssertionError('ERR_WSGI_NO_START_RESPONSE', `${what} before startResponse()`);
  }

  /**
   * Transmits `data` to the client (it may buffer it; `_flush()` follows).
   *
   * @see Python `BaseHandler._write()`
   */
  abstract _write(data: Uint8Array): void | Promise<void>;

  /**
   * Forces out what `_write()` buffered; may do nothing when `_write()` sends directly.
   *
   * @see Python `BaseHandler._flush()`
   */
  abstract _flush(): void | Promise<void>;

  /**
   * Returns `environ['wsgi.input']`.
   *
   * @see Python `BaseHandler.get_stdin()`
   */
  abstract getStdin(): InputStream | Promise<InputStream>;

  /**
   * Returns `environ['wsgi.errors']`, also where `logException()` writes.
   *
   * @see Python `BaseHandler.get_stderr()`
   */
  abstract getStderr(): ErrorStream | Promise<ErrorStream>;

  /**
   * Adds the request's CGI variables to `environ` (the same object as `this.environ`).
   *
   * @see Python `BaseHandler.add_cgi_vars()`
   */
  abstract addCgiVars(environ: Environ): void | Promise<void>;
}
