/**
 * `wsgiref.simple_server.WSGIRequestHandler`: one object per HTTP request.
 *
 * @module
 */
import type { Cluster } from 'node:cluster';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { toErrorStream } from '@wsgi/util';
import type { Application, ErrorStream } from '@wsgi/util';

import { fillEnviron } from './_environ.ts';
import { declaredTooLarge, RequestInput } from './_input.ts';
import { formatLogLine } from './_log.ts';
import { refusal } from './_request-checks.ts';
import { ServerHandler } from './server-handler.ts';
import type { WSGIServer } from './simple-server.ts';

/**
 * The environ key of the request's `AbortSignal`: it fires when the client goes away before
 * the response is complete, so a long-running application can stop. A server extension
 * (PEP 3333, "Server/Gateway Extension Keys"), not part of `wsgi.*`.
 */
export const SIGNAL_KEY = 'wsgi_simple.signal';

let sharedStderr: ErrorStream | undefined;

let isWorker: boolean | undefined;

/**
 * `cluster.isWorker`, read on the first request: loading `node:cluster` (and the modules
 * behind it) at import would slow the start of processes that never serve, like CGI scripts.
 */
function inWorker(): boolean {
  if (isWorker === undefined) {
    // The module object itself (its types describe the ESM namespace, with `default`).
    const cluster = process.getBuiltinModule('node:cluster') as unknown as Cluster;
    isWorker = cluster.isWorker;
  }
  return isWorker;
}

function clientGone(): Error {
  return Object.assign(new Error('The client went away'), { code: 'ECONNRESET' });
}

/** Where an environ keeps its request handler, for the signal's getter. */
const REQUEST_HANDLER = Symbol('WSGIRequestHandler');

/** One shared accessor: the signal is made only if the application reads the key. */
const SIGNAL_PROPERTY: PropertyDescriptor = {
  get(this: Record<symbol, WSGIRequestHandler | undefined>): AbortSignal | undefined {
    return this[REQUEST_HANDLER]?.signal;
  },
  enumerable: true,
  configurable: true,
};

/** Puts the request's {@link SIGNAL_KEY} in `environ`, made when first read. */
function defineSignal(environ: object, handler: WSGIRequestHandler): void {
  (environ as Record<symbol, WSGIRequestHandler>)[REQUEST_HANDLER] = handler;
  Object.defineProperty(environ, SIGNAL_KEY, SIGNAL_PROPERTY);
}

const NO_APP: Application = () => {
  throw new Error('WSGIServer: no application set (call setApp())');
};

/**
 * Handles one request of a {@link WSGIServer}: builds its environ ({@link getEnviron}), runs the
 * application through a {@link ServerHandler}, and logs it. Subclass it to change the environ,
 * `wsgi.errors` or the log, and pass the subclass as `makeServer()`'s `handlerClass` option.
 *
 * @see Python's `wsgiref.simple_server.WSGIRequestHandler`
 */
export class WSGIRequestHandler {
  /** Python's `server_version`. */
  serverVersion = 'WSGIServer/0.2';
  /** The request, as `node:http` parsed it. */
  readonly request: IncomingMessage;
  /** The response `ServerHandler` drives. */
  readonly response: ServerResponse;
  /** The server this request came to. */
  readonly server: WSGIServer;
  #controller: AbortController | undefined;

  constructor(request: IncomingMessage, response: ServerResponse, server: WSGIServer) {
    this.request = request;
    this.response = response;
    this.server = server;
  }

  /**
   * Fires when the client goes away before the response is complete. Made on first use:
   * an `AbortSignal` costs microseconds, and most requests never look at theirs.
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController();
      this.#controller = controller;
      const res = this.response;
      const abort = (): void => {
        if (!res.writableFinished) controller.abort(clientGone());
      };
      if (res.destroyed) abort();
      else res.once('close', abort);
    }
    return this.#controller.signal;
  }

  /** The request line, `GET /path HTTP/1.1`, for the log. */
  get requestline(): string {
    const req = this.request;
    return `${req.method ?? ''} ${req.url ?? ''} HTTP/${req.httpVersion}`;
  }

  /** The client's address (Python's `address_string()`). */
  addressString(): string {
    return this.request.socket.remoteAddress ?? '-';
  }

  /**
   * The CGI variables of this request: the server's `baseEnviron`, then `SERVER_PROTOCOL`,
   * `SERVER_SOFTWARE`, `REQUEST_METHOD`, `PATH_INFO` (percent-decoded native string),
   * `QUERY_STRING`, `REMOTE_ADDR`, `REMOTE_PORT`, `CONTENT_TYPE`, `CONTENT_LENGTH` and the
   * `HTTP_*` headers (names with `_` dropped). `ServerHandler` adds the `wsgi.*` keys and the
   * {@link SIGNAL_KEY} signal.
   *
   * @see Python's `WSGIRequestHandler.get_environ()`
   */
  getEnviron(): Record<string, unknown> {
    const { baseEnviron, options } = this.server;
    return fillEnviron({}, baseEnviron, this.request, options.scriptName);
  }

  /**
   * Adds {@link getEnviron}'s variables to `environ`. Unless a subclass overrides
   * `getEnviron()`, they are written straight into it, without an object in between.
   */
  addEnviron(environ: Record<string, unknown>): void {
    if (this.getEnviron === WSGIRequestHandler.prototype.getEnviron) {
      fillEnviron(environ, this.server.baseEnviron, this.request, this.server.options.scriptName);
    } else {
      Object.assign(environ, this.getEnviron());
    }
    defineSignal(environ, this);
  }

  /** `wsgi.errors`, and where the log goes: the `errors` option, or `process.stderr`. */
  getStderr(): ErrorStream {
    return this.server.options.errors ?? (sharedStderr ??= toErrorStream(process.stderr));
  }

  /**
   * Handles the request. A request target longer than `maxRequestLineSize` gets 414, a request
   * head with more than `maxHeaderCount` fields gets 431 and a declared body over `maxBodySize`
   * gets 413, without calling the application.
   */
  handle(): Promise<void> {
    const { request: req, server } = this;
    const options = server.options;
    // req.url is decoded as latin1 by node:http, so its length is the target's size in bytes.
    if ((req.url ?? '').length > options.maxRequestLineSize) {
      return this.sendError(414, 'URI Too Long');
    }
    const refused = refusal(req);
    if (refused !== undefined) return this.sendError(refused[0], refused[1]);
    if (req.rawHeaders.length > options.maxHeaderCount * 2) {
      return this.sendError(431, 'Request Header Fields Too Large');
    }
    if (declaredTooLarge(req, options.maxBodySize)) {
      return this.sendError(413, 'Content Too Large');
    }
    const handler = new ServerHandler(
      new RequestInput(req, this.response, options.maxBodySize),
      this.response,
      this.getStderr(),
      // ServerHandler asks addEnviron() for the CGI variables.
      {},
      { multithread: true, multiprocess: inWorker() },
    );
    handler.requestHandler = this;
    return handler.run(server.getApp() ?? NO_APP);
  }

  /** Answers with a plain error page and closes the connection (Python's `send_error()`). */
  sendError(code: number, message: string): Promise<void> {
    const body = Buffer.from(`${String(code)} ${message}\n`, 'latin1');
    this.response.writeHead(code, message, [
      'Content-Type',
      'text/plain',
      'Content-Length',
      String(body.length),
      'Connection',
      'close',
    ]);
    this.response.end(body);
    this.logRequest(String(code), body.length);
    return Promise.resolve();
  }

  /** Logs the request in Common Log Format, unless the server is `quiet`. */
  logRequest(code: string, size: number): void {
    if (this.server.options.quiet) return;
    this.getStderr().write(formatLogLine(this.addressString(), this.requestline, code, size));
  }
}
