/**
 * `toNodeListener()`: a WSGI application as a `(req, res)` listener for any `node:http` or
 * `node:https` server, or for mounting in Express or Connect.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { Application } from '@wsgi/util';

import type { ServerOptions } from './_options.ts';
import { WSGIServer } from './simple-server.ts';

/**
 * The options of {@link toNodeListener}: those of `makeServer()` that apply to one request.
 * The others (`maxHeaderSize`, the timeouts, `maxRequestsPerSocket`, `maxConnections`) belong
 * to the server that owns the sockets, and are set there.
 */
export type NodeListenerOptions = Pick<
  ServerOptions,
  | 'quiet'
  | 'maxBodySize'
  | 'maxHeaderCount'
  | 'maxRequestLineSize'
  | 'handlerClass'
  | 'errors'
  | 'scriptName'
>;

/** A `(req, res)` listener; extra arguments (Express's `next`) are ignored. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

const LISTENER_OPTIONS = new Set<string>([
  'quiet',
  'maxBodySize',
  'maxHeaderCount',
  'maxRequestLineSize',
  'handlerClass',
  'errors',
  'scriptName',
]);

/**
 * Turns `app` into a `(req, res)` listener: `http.createServer(toNodeListener(app))`,
 * `https.createServer(tls, toNodeListener(app))`, or `expressApp.use('/mount', listener)`.
 *
 * It is the listener behind `makeServer()` (each request gets a new `handlerClass`, default
 * `WSGIRequestHandler`, and a `ServerHandler`), so the environ, the checks on the request head
 * (400/505, 414, 431, 413), streaming, `Connection: close` after an unread body, and error pages are
 * the same. `SERVER_NAME` and `SERVER_PORT` are the local address and port the request came to;
 * under `node:https`, `HTTPS` is `'on'` (so `wsgi.url_scheme` is `'https'`).
 * `SCRIPT_NAME` is the `scriptName` option, else the mount point Express (`req.baseUrl`) or
 * Connect (`req.originalUrl`) recorded, and `PATH_INFO` the rest of the path.
 *
 * A `handlerClass` sees `this.server` as a `WSGIServer` that never listens: it holds the
 * options, the application and the listener.
 *
 * To answer `Expect: 100-continue` only when the application reads `wsgi.input`, also add it as
 * the server's `checkContinue` listener; otherwise `node:http` sends 100 Continue itself.
 *
 * @param app - the WSGI application.
 * @param options - per-request limits, logging and `SCRIPT_NAME`; see {@link NodeListenerOptions}.
 * @throws TypeError for an unknown option, a server-level option or a value of the wrong type.
 * @throws RangeError for a limit out of range.
 * @see PEP 3333, "Specification Details" (`SCRIPT_NAME`, `PATH_INFO`)
 */
export function toNodeListener(app: Application, options?: NodeListenerOptions): NodeListener {
  if (typeof app !== 'function') {
    throw new TypeError('toNodeListener(): app must be a function');
  }
  if (options !== undefined && (typeof options !== 'object' || (options as unknown) === null)) {
    throw new TypeError('toNodeListener(): options must be an object');
  }
  for (const name of Object.keys(options ?? {})) {
    if (!LISTENER_OPTIONS.has(name)) {
      throw new TypeError(
        `toNodeListener(): unknown option ${JSON.stringify(name)} (server limits are set on the server that owns the sockets)`,
      );
    }
  }
  // The server is never listened on: it holds the options, the application and the listener.
  const server = new WSGIServer(options);
  server.setApp(app);
  // No SERVER_NAME/SERVER_PORT: each request's comes from its socket.
  server.baseEnviron = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    REMOTE_HOST: '',
    CONTENT_LENGTH: '',
    SCRIPT_NAME: '',
  };
  return server.listener;
}
