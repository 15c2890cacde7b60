/**
 * The `BaseHandler` that answers one Fetch `Request` with a `Response`.
 *
 * @module
 */
import { BaseHandler } from '@wsgi/core';
import type { Application, Environ, ErrorStream, InputStream } from '@wsgi/core';

import { BodyStream } from './_body-stream.ts';
import { fillEnviron } from './_environ.ts';

/** Statuses whose `Response` must have a null body (Fetch throws otherwise). */
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** What the handler needs besides the request: the mount point and `wsgi.errors`. */
export interface ResponseHandlerSetup {
  readonly scriptName: string;
  readonly errors: ErrorStream;
}

/** The error a request ends with when its client went away; `isClientDisconnect()` knows it. */
export function clientGone(message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, { cause }), {
    code: 'ERR_STREAM_PREMATURE_CLOSE' as const,
  });
}

/**
 * Runs an application for one `Request` through every check of `BaseHandler` and resolves
 * the `Response` when the headers would be sent: at the first non-empty chunk, at the first
 * `write()`, or at the end of an empty body. The rest of the body streams through a
 * {@link BodyStream}. A cancelled stream or an aborted `request.signal` ends the request
 * quietly, as a client disconnect does on a socket.
 */
export class ResponseHandler extends BaseHandler {
  override osEnviron: Record<string, string> = {};
  override wsgiMultiprocess = false;

  readonly #request: Request;
  readonly #url: URL;
  readonly #setup: ResponseHandlerSetup;
  readonly #input: InputStream;
  #scheme: 'http' | 'https' = 'http';
  #resolve: ((response: Response) => void) | undefined;
  #reject: ((error: unknown) => void) | undefined;
  #body: BodyStream | null = null;
  /** Set once the client is gone: every later write throws it. */
  #gone: Error | undefined;
  /** An error of the application after the response had started. */
  #failure: { error: unknown } | undefined;

  constructor(request: Request, url: URL, input: InputStream, setup: ResponseHandlerSetup) {
    super();
    this.#request = request;
    this.#url = url;
    this.#input = input;
    this.#setup = setup;
  }

  /**
   * Runs `app` and returns the `Response` once its headers are ready. It rejects with the
   * error of the handler's own failure before that, or with `request.signal`'s reason.
   */
  respond(app: Application): Promise<Response> {
    const signal = this.#request.signal;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const response = new Promise<Response>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    signal.addEventListener('abort', this.#onAbort);
    this.run(app).then(
      () => {
        this.#finish(undefined);
      },
      (error: unknown) => {
        this.#finish({ error });
      },
    );
    return response;
  }

  readonly #onAbort = (): void => {
    const reason: unknown = this.#request.signal.reason;
    this.#stop(clientGone('The request was aborted', reason), reason);
  };

  /** The client is gone: a `Response` not yet given is rejected with `reason`. */
  #stop(gone: Error, reason: unknown): void {
    if (this.#gone !== undefined) return;
    this.#gone = gone;
    this.#settle(undefined, reason);
    this.#body?.abort(gone);
  }

  #settle(response: Response | undefined, error?: unknown): void {
    const resolve = this.#resolve;
    const reject = this.#reject;
    this.#resolve = undefined;
    this.#reject = undefined;
    if (response !== undefined) resolve?.(response);
    else reject?.(error);
  }

  /** After `run()`: ends the body stream, or rejects a `Response` that never came. */
  #finish(failed: { error: unknown } | undefined): void {
    this.#request.signal.removeEventListener('abort', this.#onAbort);
    const error = failed?.error ?? this.#failure?.error;
    if (this.#resolve !== undefined) {
      this.#settle(undefined, error ?? this.#gone ?? new Error('The application sent no response'));
      return;
    }
    if (error === undefined) this.#body?.close();
    else {
      this.#body?.abort(
        new Error('The WSGI application failed after the response had started', { cause: error }),
      );
    }
  }

  addCgiVars(environ: Environ): void {
    this.#scheme = fillEnviron(environ, this.#request, this.#url, this.#setup.scriptName);
    // The input ends where the request body does, with or without CONTENT_LENGTH (the
    // extension key of mod_wsgi and Gunicorn).
    environ['wsgi.input_terminated'] = true;
  }

  getStdin(): InputStream {
    return this.#input;
  }

  getStderr(): ErrorStream {
    return this.#setup.errors;
  }

  override getScheme(): string {
    return this.#scheme;
  }

  /**
   * Resolves the `Response` instead of writing a header block: status and headers as they
   * are (latin-1 native strings are Fetch's ByteStrings), no `Date` or `Server` (the host
   * server adds its own). A status outside 200–599 cannot be a `Response` and is an error of
   * the application. `HEAD` and the null-body statuses get a `Response` without a body.
   */
  override sendHeaders(data?: Uint8Array): void | Promise<void> {
    const status = this.status;
    const headers = this.headers;
    if (status === null || headers === null) return super.sendHeaders(data);
    if (this.#gone !== undefined) throw this.#gone;
    this.cleanupHeaders();
    const code = Number(status.slice(0, 3));
    if (code < 200 || code > 599) {
      throw new RangeError(`A Fetch Response cannot have the status ${status} (only 200 to 599)`);
    }
    const init = new globalThis.Headers();
    for (const [name, value] of headers.items()) init.append(name, value);
    const noBody = NULL_BODY_STATUSES.has(code) || this.#request.method === 'HEAD';
    // No stream when the whole body is known now: none left (finishContent() sends the headers
    // with no data), or a one-element array body whose chunk this is.
    const whole = data === undefined || (data.length > 0 && this.#isOneChunk());
    const body =
      noBody || whole
        ? null
        : new BodyStream(() => {
            const gone = clientGone('The response body was cancelled');
            this.#stop(gone, gone);
          });
    const content = noBody || !whole ? null : (data ?? null);
    const response = new Response(body?.readable ?? content, {
      status: code,
      statusText: status.slice(4),
      headers: init,
    });
    this.#body = body;
    this.headersSent = true;
    this.#settle(response);
    if (body !== null && data !== undefined && data.length > 0) return body.push(data);
  }

  #isOneChunk(): boolean {
    const result = this.result;
    return Array.isArray(result) && result.length === 1;
  }

  _write(data: Uint8Array): Promise<void> | undefined {
    if (this.#gone !== undefined) throw this.#gone;
    const body = this.#body;
    // HEAD and null-body statuses: the bytes are counted by BaseHandler, never sent.
    if (body === null || data.length === 0) return undefined;
    return body.push(data);
  }

  _flush(): void {
    // _write() hands each chunk to the stream directly.
  }

  override handleError(error: unknown): void | Promise<void> {
    if (this.headersSent) this.#failure = { error };
    return super.handleError(error);
  }
}
