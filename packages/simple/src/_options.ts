/**
 * The options of `makeServer()`, their safe defaults and their validation.
 *
 * @module
 */
import { toErrorStream } from '@wsgi/util';
import type { ErrorSink, ErrorStream } from '@wsgi/util';

import type { WSGIRequestHandler } from './request-handler.ts';

/** Options of {@link makeServer}. Every limit is enforced by `node:http` or by the server. */
export interface ServerOptions {
  /** No Common Log Format line per request on stderr. Default `false`. */
  quiet?: boolean;
  /** Largest request head (request line and headers) in bytes; beyond it the client gets 431. Default 16384. */
  maxHeaderSize?: number;
  /** Most request header fields; beyond it the client gets 431. Default 100. */
  maxHeaderCount?: number;
  /**
   * Longest request target (the URL in the request line, `req.url`) in bytes; beyond it the
   * client gets 414 URI Too Long and the connection is closed, without calling the application.
   * Default 8190, or `maxHeaderSize` when that is smaller. At most `maxHeaderSize` (a
   * `TypeError` otherwise): a request line longer than `maxHeaderSize` is refused by
   * `node:http`'s parser with 431 before the server sees it, so only targets up to
   * `maxHeaderSize` minus the rest of the head (method, version, headers) can get 414.
   */
  maxRequestLineSize?: number;
  /** Largest request body in bytes; beyond it the client gets 413. Default 1 MiB. `Infinity` for none. */
  maxBodySize?: number;
  /** Time allowed for the whole request head in ms; beyond it the client gets 408. Default 60000. */
  headersTimeout?: number;
  /** Time allowed for the whole request (head and body) in ms; beyond it 408. Default 300000. */
  requestTimeout?: number;
  /**
   * Inactivity allowed on a connection while a request is served, in ms (node:http's
   * `server.timeout`): a client that stops reading its response, or sends nothing, is
   * disconnected. 0 for none. Default 120000.
   */
  timeout?: number;
  /** How long an idle keep-alive connection is kept open in ms. Default 5000. */
  keepAliveTimeout?: number;
  /** How often request timeouts are checked, in ms. Default 30000. */
  connectionsCheckingInterval?: number;
  /**
   * Requests answered per connection: the last answer says `Connection: close`, and requests
   * pipelined after it are not run. 0 for no limit. Default 0.
   */
  maxRequestsPerSocket?: number;
  /** Most open connections; further ones are closed at once. Default 1024. */
  maxConnections?: number;
  /** The request handler class, as Python's `make_server(handler_class=...)`. */
  handlerClass?: typeof WSGIRequestHandler;
  /**
   * Where `wsgi.errors` and the request log go: a `Writable` or an `ErrorStream`. Default
   * `process.stderr`.
   */
  errors?: ErrorSink;
  /**
   * `SCRIPT_NAME` of every request, the path the application is mounted at (`''` or starting
   * with `/`, no trailing `/`), as it appears in the URL; a request path under it has it
   * removed from `PATH_INFO`. Default: `''`, or the Express/Connect mount point under
   * `toNodeListener()`.
   */
  scriptName?: string;
}

/** Options with no default: left out when not given. */
type Unset = 'handlerClass' | 'errors' | 'scriptName';

/** The options with every default filled in. */
export type ResolvedOptions = Required<Omit<ServerOptions, Unset>> &
  Pick<ServerOptions, 'handlerClass' | 'scriptName'> & { errors?: ErrorStream };

/** The defaults, documented in the README. */
export const DEFAULT_OPTIONS: Readonly<Required<Omit<ServerOptions, Unset>>> = Object.freeze({
  quiet: false,
  maxHeaderSize: 16_384,
  maxHeaderCount: 100,
  maxRequestLineSize: 8_190,
  maxBodySize: 1_048_576,
  headersTimeout: 60_000,
  requestTimeout: 300_000,
  timeout: 120_000,
  keepAliveTimeout: 5_000,
  connectionsCheckingInterval: 30_000,
  maxRequestsPerSocket: 0,
  maxConnections: 1_024,
});

type NumericKey = Exclude<keyof typeof DEFAULT_OPTIONS, 'quiet'>;

/** Options that may be `Infinity` (no limit); the others must be finite. */
const MAY_BE_INFINITE = new Set<string>(['maxBodySize', 'maxConnections']);
/** Options that must be at least 1 (a zero would refuse every request). */
const POSITIVE = new Set<string>([
  'maxHeaderSize',
  'maxHeaderCount',
  'maxRequestLineSize',
  'connectionsCheckingInterval',
]);

function checkNumber(name: NumericKey, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`option ${name} must be a number, got ${typeof value}`);
  }
  const infinite = value === Infinity && MAY_BE_INFINITE.has(name);
  if (!infinite && (!Number.isSafeInteger(value) || value < (POSITIVE.has(name) ? 1 : 0))) {
    throw new RangeError(
      `option ${name} must be a ${POSITIVE.has(name) ? 'positive' : 'non-negative'} integer, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * A `maxRequestLineSize` given above `maxHeaderSize` is a `TypeError` (node:http would answer
 * 431 first); the default is lowered to a smaller `maxHeaderSize`.
 */
function checkRequestLine(resolved: ResolvedOptions, given: boolean): void {
  if (resolved.maxRequestLineSize <= resolved.maxHeaderSize) return;
  if (given) {
    throw new TypeError(
      `option maxRequestLineSize (${String(resolved.maxRequestLineSize)}) must not exceed maxHeaderSize (${String(resolved.maxHeaderSize)})`,
    );
  }
  resolved.maxRequestLineSize = resolved.maxHeaderSize;
}

/**
 * Checks `options` and fills in the defaults.
 *
 * @throws TypeError for an unknown option, a value of the wrong type, or a
 *   `maxRequestLineSize` above `maxHeaderSize`.
 * @throws RangeError for a number out of range.
 */
export function resolveOptions(options: ServerOptions | undefined): ResolvedOptions {
  if (options === undefined) return { ...DEFAULT_OPTIONS };
  if (typeof options !== 'object' || (options as unknown) === null) {
    throw new TypeError('options must be an object');
  }
  const resolved: ResolvedOptions = { ...DEFAULT_OPTIONS };
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (name === 'quiet') {
      if (typeof value !== 'boolean') throw new TypeError('option quiet must be a boolean');
      resolved.quiet = value;
    } else if (name === 'handlerClass') {
      if (typeof value !== 'function') throw new TypeError('option handlerClass must be a class');
      resolved.handlerClass = value as typeof WSGIRequestHandler;
    } else if (name === 'errors') {
      resolved.errors = toErrorStream(value as ErrorSink);
    } else if (name === 'scriptName') {
      if (typeof value !== 'string' || !/^(?:\/[^?#]*[^/?#])?$/.test(value)) {
        throw new TypeError(
          "option scriptName must be '' or a path starting with / and not ending with /",
        );
      }
      resolved.scriptName = value;
    } else if (Object.hasOwn(DEFAULT_OPTIONS, name)) {
      resolved[name as NumericKey] = checkNumber(name as NumericKey, value);
    } else {
      throw new TypeError(`unknown option ${JSON.stringify(name)}`);
    }
  }
  checkRequestLine(resolved, options.maxRequestLineSize !== undefined);
  return resolved;
}
