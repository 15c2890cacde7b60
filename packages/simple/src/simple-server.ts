/**
 * `wsgiref.simple_server`: `WSGIServer` and `makeServer()`, on `node:http`.
 *
 * @module
 */
import { promises as dns } from 'node:dns';
import { createServer } from 'node:http';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { hostname } from 'node:os';

import type { Application } from '@wsgi/util';

import { answerConnect } from './_connect.ts';
import { discardRest } from './_input.ts';
import { afterEarlier, follow } from './_pipeline.ts';
import { resolveOptions } from './_options.ts';
import type { ResolvedOptions, ServerOptions } from './_options.ts';
import { WSGIRequestHandler } from './request-handler.ts';

/** What a pipelined request dropped after an answer that closed its connection does. */
const NOTHING = (): void => undefined;

/** How long `SERVER_NAME`'s reverse lookup may take before the address is used instead. */
const NAME_LOOKUP_MS = 1000;

/** Python's `socket.getfqdn(host)`, bounded in time: the bound address when the lookup fails. */
async function fullyQualifiedName(host: string, address: string): Promise<string> {
  if (host === '' || host === '0.0.0.0' || host === '::') return hostname();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      resolve(address);
    }, NAME_LOOKUP_MS);
  });
  try {
    const lookup = dns.lookupService(address, 0).then(
      (found) => found.hostname,
      () => address,
    );
    return await Promise.race([lookup, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The one `(req, res)` listener behind a {@link WSGIServer}: each request gets a new
 * `server.handlerClass`, which runs the application. A request that could not be answered even
 * with an error page loses its connection, and the server stays up.
 */
export function createRequestListener(server: WSGIServer): RequestListener {
  const run = (req: IncomingMessage, res: ServerResponse): void => {
    const Handler = server.handlerClass;
    const done = (): void => {
      if (!res.writableEnded && !res.destroyed) res.destroy();
      else discardRest(req);
      if (server.closing) server.httpServer.closeIdleConnections();
    };
    try {
      new Handler(req, res, server).handle().then(done, (error: unknown) => {
        process.stderr.write(`WSGIServer: ${String(error)}\n`);
        done();
      });
    } catch (error) {
      process.stderr.write(`WSGIServer: ${String(error)}\n`);
      done();
    }
  };
  // How many requests each connection was asked.
  const counts = new WeakMap<Socket, number>();
  const maxRequests = server.options.maxRequestsPerSocket;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    // No protocol upgrades here (RFC 9110 §7.8): the request is answered as HTTP/1.1, then the
    // connection closes, since node:http may already have taken the bytes after its head as the
    // new protocol's and would drop them, or read them as requests, depending on how they came.
    if (req.headers.upgrade !== undefined) res.shouldKeepAlive = false;
    if (maxRequests > 0) {
      // The last allowed response says "close" (node:http's own limit would answer the
      // pipelined requests after it with 503s behind that "close" and leave the socket open).
      const count = (counts.get(socket) ?? 0) + 1;
      counts.set(socket, count);
      if (count >= maxRequests) res.shouldKeepAlive = false;
    }
    // A pipelined request waits until the one before it is answered, and is dropped if that
    // answer ended the connection (a refusal, an unread body, shutting down). The earlier
    // response is looked up before this one is recorded as the newest.
    afterEarlier(
      socket,
      () => {
        run(req, res);
      },
      NOTHING,
    );
    follow(socket, res);
  };
}

/**
 * An HTTP/1.1 server for one WSGI application, on `node:http`.
 *
 * Create it with {@link makeServer}, or with `new WSGIServer(options)` and {@link listen}.
 *
 * @see Python's `wsgiref.simple_server.WSGIServer`
 */
export class WSGIServer {
  /** The options, with every default filled in. */
  readonly options: ResolvedOptions;
  /** The underlying `node:http` server. */
  readonly httpServer: Server;
  /**
   * The `(req, res)` listener that runs each request of {@link httpServer} (its `request` and
   * `checkContinue` events); {@link toNodeListener} hands out the same one.
   */
  readonly listener: RequestListener;
  /** The request handler class; a `WSGIRequestHandler` subclass may replace it. */
  handlerClass: typeof WSGIRequestHandler;
  /** The CGI variables every request's environ starts from (Python's `base_environ`). */
  baseEnviron: Record<string, unknown> = {};
  /** The host it was asked to listen on. */
  host = '';
  /** The port it listens on (the real one when 0 was asked). */
  port = 0;
  /** `SERVER_NAME`: the fully qualified name of the host. */
  serverName = '';
  #application: Application | null = null;
  #closing: Promise<void> | undefined;

  /**
   * @throws TypeError for an unknown option or a value of the wrong type.
   * @throws RangeError for a limit out of range.
   */
  constructor(options?: ServerOptions) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.handlerClass = resolved.handlerClass ?? WSGIRequestHandler;
    // Every limit is passed explicitly, so NODE_OPTIONS (--max-http-header-size,
    // --insecure-http-parser) cannot loosen it.
    const server = createServer({
      insecureHTTPParser: false,
      maxHeaderSize: resolved.maxHeaderSize,
      // Host is checked with the rest of the head (_request-checks.ts), so a refusal closes
      // the connection before a pipelined request behind it is run.
      requireHostHeader: false,
      headersTimeout: Math.min(resolved.headersTimeout, resolved.requestTimeout || Infinity),
      requestTimeout: resolved.requestTimeout,
      keepAliveTimeout: resolved.keepAliveTimeout,
      connectionsCheckingInterval: resolved.connectionsCheckingInterval,
      noDelay: true,
    });
    // One more than allowed, so the handler can tell "too many" from "exactly the limit".
    server.maxHeadersCount = resolved.maxHeaderCount + 1;
    // No listener for 'timeout': node:http destroys a connection idle this long mid-request.
    server.timeout = resolved.timeout;
    if (Number.isFinite(resolved.maxConnections)) server.maxConnections = resolved.maxConnections;
    const listener = createRequestListener(this);
    this.listener = listener;
    server.on('request', listener);
    // Answered with 100 Continue only when the application reads wsgi.input.
    server.on('checkContinue', listener);
    // The bytes that came after a CONNECT head (its `head` argument) would be a tunnel's: dropped.
    server.on('connect', (req: IncomingMessage, socket: Socket) => {
      answerConnect(req, socket, listener, resolved.timeout);
    });
    this.httpServer = server;
  }

  /** `true` once {@link close} was called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Listens on `host` and `port` (`''` for every interface, 0 for a free port), then sets up
   * `baseEnviron`.
   */
  async listen(host: string, port: number): Promise<void> {
    const server = this.httpServer;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(error);
      };
      server.once('error', onError);
      server.listen({ host: host === '' ? undefined : host, port }, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    this.host = host;
    this.port = address.port;
    this.serverName = await fullyQualifiedName(host, address.address);
    this.setupEnviron();
  }

  /** Fills {@link baseEnviron} (Python's `setup_environ()`). */
  setupEnviron(): void {
    this.baseEnviron = {
      SERVER_NAME: this.serverName,
      GATEWAY_INTERFACE: 'CGI/1.1',
      SERVER_PORT: String(this.port),
      REMOTE_HOST: '',
      CONTENT_LENGTH: '',
      SCRIPT_NAME: '',
    };
  }

  /** The application, `null` until one is set. */
  getApp(): Application | null {
    return this.#application;
  }

  /** Sets the application the next requests go to. */
  setApp(application: Application): void {
    this.#application = application;
  }

  /**
   * Shuts down gracefully: stops accepting connections, lets requests in flight finish (their
   * responses say `Connection: close`), closes idle keep-alive connections, and resolves once
   * every connection is gone. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve, reject) => {
      const server = this.httpServer;
      if (!server.listening) {
        resolve();
        return;
      }
      server.close((error) => {
        if (error === undefined) resolve();
        else reject(error);
      });
      server.closeIdleConnections();
    });
    return this.#closing;
  }
}

/**
 * Creates a {@link WSGIServer} for `app` and resolves once it listens on `host` and `port`.
 *
 * @param host - the address to listen on, `''` for every interface.
 * @param port - the port, 0 for any free one (then see `server.port`).
 * @param options - limits and logging; see the README for each default.
 * @throws TypeError for an unknown option.
 * @see Python's `wsgiref.simple_server.make_server()`
 */
export async function makeServer(
  host: string,
  port: number,
  app: Application,
  options?: ServerOptions,
): Promise<WSGIServer> {
  const server = new WSGIServer(options);
  server.setApp(app);
  await server.listen(host, port);
  return server;
}
