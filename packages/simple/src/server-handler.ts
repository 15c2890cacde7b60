/**
 * `wsgiref.simple_server.ServerHandler`: the handler behind each request of the HTTP server.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Environ, ErrorStream, InputStream, ResponseBody, StartResponse } from '@wsgi/util';

import { isBodyTooLarge } from './_errors.ts';
import { SERVER_SOFTWARE } from './_environ.ts';
import { realFileOf, streamFile } from './_sendfile.ts';
import { closeAfterFlush, destroyedError, drained } from './_streams.ts';
import { SimpleHandler } from './handlers.ts';
import type { SimpleHandlerOptions } from './handlers.ts';
import type { WSGIRequestHandler } from './request-handler.ts';

const TOO_LARGE_STATUS = '413 Content Too Large';

function uncork(res: ServerResponse): void {
  res.uncork();
}

/** Shared by every handler; never written to (`setupEnviron()` copies it). */
const NO_OS_ENVIRON: Record<string, string> = Object.freeze({});

/**
 * A {@link SimpleHandler} that answers through a `node:http` `ServerResponse` instead of raw
 * bytes: the status and headers go to `res.writeHead()` and the body to `res.write()`/`end()`,
 * so `node:http` does the framing (keep-alive, chunked encoding for a body of unknown length
 * where the client speaks HTTP/1.1, close-delimited for HTTP/1.0, no body for `HEAD`, 1xx,
 * 204 and 304). A one-chunk body goes out as one `writeHead()` and one `end(chunk)`.
 *
 * A body never breaks the connection's framing: bytes beyond the declared `Content-Length`
 * are not sent, and a body shorter than declared closes the connection. A `FileWrapper` body
 * over a file descriptor or `FileHandle` is streamed from the file ({@link sendfile}).
 * `close()` writes the request's Common Log Format line.
 *
 * @see Python's `wsgiref.simple_server.ServerHandler`
 */
export class ServerHandler extends SimpleHandler {
  override serverSoftware: string | null = SERVER_SOFTWARE;
  /**
   * Empty: a server's environ holds the request, not the server's process environment (which
   * `demoApp` would otherwise show to every client, and which would be copied per request).
   */
  override osEnviron: Record<string, string> = NO_OS_ENVIRON;
  /** The response this handler drives. */
  readonly response: ServerResponse;
  /** The request handler, for logging (Python's `request_handler` back-pointer). */
  requestHandler: WSGIRequestHandler | undefined = undefined;
  // node:http reports a broken connection through the socket, not as an error of `res`.
  protected override watchStdout = false;
  #declaredLength = -1;
  #written = 0;
  #hasBody = true;
  #tooLarge = false;

  constructor(
    stdin: InputStream,
    stdout: ServerResponse,
    stderr: ErrorStream,
    environ: Readonly<Record<string, unknown>>,
    options?: SimpleHandlerOptions,
  ) {
    super(stdin, stdout, stderr, environ, options);
    this.response = stdout;
  }

  /**
   * The CGI variables given to the constructor, then, with a request handler, the request's
   * (`requestHandler.addEnviron()`) and its `wsgi_simple.signal`.
   */
  override addCgiVars(environ: Environ): void {
    super.addCgiVars(environ);
    this.requestHandler?.addEnviron(environ);
  }

  /** The request, when there is one. */
  get request(): IncomingMessage | undefined {
    return this.requestHandler?.request;
  }

  /**
   * Hands the status and headers to `res.writeHead()`, then `data` (the first body chunk) to
   * `_write()`: `node:http` sends the head with the first body bytes.
   */
  override sendHeaders(data?: Uint8Array): void | Promise<void> {
    this.cleanupHeaders();
    this.headersSent = true;
    const res = this.response;
    const status = this.status ?? '500 Internal Server Error';
    // startResponse() checked the three digits.
    const code =
      (status.charCodeAt(0) - 48) * 100 +
      (status.charCodeAt(1) - 48) * 10 +
      status.charCodeAt(2) -
      48;
    // A new small array: resetting a shared one's `length` costs more than allocating.
    const flat: string[] = [];
    let server = false;
    const headers = this.headers;
    const names = headers === null ? [] : headers.keys();
    const values = headers === null ? [] : headers.values();
    for (let i = 0; i < names.length; i += 1) {
      const name = names[i] as string;
      flat.push(name, values[i] as string);
      if (name.length === 6 && name.toLowerCase() === 'server') server = true;
    }
    if (!server && this.serverSoftware !== null) flat.push('Server', this.serverSoftware);
    const req = this.request;
    // RFC 9112 §9.6: close instead of reading a chunked body nobody read, or when shutting down.
    if (
      this.requestHandler?.server.closing === true ||
      this.#tooLarge ||
      (req !== undefined && !req.complete && req.headers['transfer-encoding'] !== undefined)
    ) {
      flat.push('Connection', 'close');
    }
    this.#hasBody = code >= 200 && code !== 204 && code !== 304 && req?.method !== 'HEAD';
    // startResponse() let through only one Content-Length, of 1 to 15 digits.
    this.#declaredLength = this.declaredLength;
    if (res.headersSent || res.destroyed) throw res.errored ?? destroyedError();
    res.writeHead(code, status.slice(4), flat);
    if (data !== undefined && data.length > 0) return this._write(data);
    return undefined;
  }

  /** Writes a body chunk; ends the response with the chunk that completes the declared length. */
  override _write(data: Uint8Array): void | Promise<void> {
    const res = this.response;
    if (res.destroyed || res.writableEnded) throw res.errored ?? destroyedError();
    let chunk = data;
    const declared = this.#declaredLength;
    if (declared >= 0) {
      const room = declared - this.#written;
      if (chunk.length >= room) {
        if (chunk.length > room) chunk = chunk.subarray(0, room);
        this.#written = declared;
        res.end(chunk);
        return undefined;
      }
    }
    this.#written += chunk.length;
    // Chunks written in one tick (and the end of a chunked body) leave in one writev.
    if (!res.writableCorked) {
      res.cork();
      process.nextTick(uncork, res);
    }
    if (res.write(chunk)) return undefined;
    return drained(res);
  }

  override _flush(): void {
    // node:http sends as it is written.
  }

  override finishContent(): void | Promise<void> {
    const pending = super.finishContent();
    if (pending instanceof Promise) {
      return pending.then(() => {
        this.#end();
      });
    }
    this.#end();
    return undefined;
  }

  /** Ends the response; a body shorter than its declared length closes the connection. */
  #end(): void {
    const res = this.response;
    if (res.writableEnded || res.destroyed) return;
    if (this.#hasBody && this.#declaredLength > this.#written) {
      // The client still waits for bytes that will never come: only closing keeps the
      // connection from desynchronising (RFC 9112 §6.3 and §8).
      closeAfterFlush(res);
      return;
    }
    res.end();
  }

  /**
   * Streams a `FileWrapper` over a file descriptor or `FileHandle` straight from the file, in
   * large blocks, waiting for `drain`: memory stays flat whatever the file's size. Other
   * bodies return `false` and are iterated.
   */
  override sendfile(): boolean | Promise<boolean> {
    const file = realFileOf(this.result);
    if (file === undefined) return false;
    return this.#sendFile(file);
  }

  async #sendFile(file: Parameters<typeof streamFile>[0]): Promise<boolean> {
    if (!this.headersSent) {
      const sending = this.sendHeaders();
      if (sending !== undefined) await sending;
    }
    if (this.#hasBody) {
      const limit = this.#declaredLength >= 0 ? this.#declaredLength - this.#written : Infinity;
      const blockSize = (this.result as { blockSize?: number } | null)?.blockSize ?? 8192;
      await streamFile(file, blockSize, this.response, limit, (length) => {
        this.#written += length;
        this.bytesSent += length;
      });
    }
    // finishContent() follows, and ends the response.
    return true;
  }

  /** A body past `maxBodySize` gets 413 and a one-line log instead of a traceback. */
  override handleError(error: unknown): void | Promise<void> {
    if (isBodyTooLarge(error) && !this.headersSent) this.#tooLarge = true;
    return super.handleError(error);
  }

  override logException(error: unknown): void | Promise<void> {
    if (!isBodyTooLarge(error)) return super.logException(error);
    this.getStderr().write(`${error.message}\n`);
    return undefined;
  }

  override errorOutput(
    environ: Environ,
    startResponse: StartResponse,
    error?: unknown,
  ): ResponseBody {
    if (!isBodyTooLarge(error)) return super.errorOutput(environ, startResponse, error);
    startResponse(TOO_LARGE_STATUS, [['Content-Type', 'text/plain']], error);
    return [Buffer.from(`${TOO_LARGE_STATUS}\n`, 'latin1')];
  }

  /** Logs the request, then closes the body as `BaseHandler.close()` does. */
  override close(): void | Promise<void> {
    const status = this.status;
    let pending: void | Promise<void>;
    try {
      // startResponse() checked that a status starts with three digits.
      this.requestHandler?.logRequest(status === null ? '-' : status.slice(0, 3), this.bytesSent);
    } finally {
      pending = super.close();
    }
    return pending;
  }
}
