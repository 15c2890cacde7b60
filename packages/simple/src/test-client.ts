/**
 * `TestClient`: requests to a WSGI application through the real server code, without a
 * socket, after Werkzeug's test client and `Rack::MockRequest`.
 *
 * @module
 */
import { request as httpRequest } from 'node:http';
import type { IncomingMessage } from 'node:http';

import type { Application, Environ, StartResponse } from '@wsgi/util';

import { CookieJar } from './_cookie-jar.ts';
import { memorySocketPair } from './_memory-socket.ts';
import type { ServerOptions } from './_options.ts';
import { WSGIRequestHandler } from './request-handler.ts';
import { WSGIServer } from './simple-server.ts';
import {
  loadValidator,
  queryString,
  type ValidatorFunction,
  requestBody,
  toHeaderList,
  type Finding,
  type TestHeaders,
  type TestQuery,
} from './_test-request.ts';

export type { TestHeaders, TestQuery } from './_test-request.ts';

/**
 * Options of {@link TestClient}: the server's options (`quiet` defaults to `true`; the size and
 * count limits apply, the timeouts and `maxConnections` do not, as there is no socket), plus
 * the client's own.
 */
export interface TestClientOptions extends ServerOptions {
  /**
   * Runs the application behind `@wsgi/validator` (an optional peer dependency), and makes a
   * request reject with the first `ValidationError` it found. Default `true`.
   */
  validate?: boolean;
  /** Keeps `Set-Cookie` cookies and sends them back on later requests. Default `false`. */
  cookies?: boolean;
  /**
   * The host requests go to, `name[:port]`: the `Host` header, `SERVER_NAME` and `SERVER_PORT`
   * (`'80'` without a port). Default `'localhost'`.
   */
  host?: string;
  /** Headers sent with every request (a request's own headers of the same name win). */
  headers?: TestHeaders;
}

/** One request of a {@link TestClient}. */
export interface TestRequestInit {
  /** Default `GET` (`request()`), or the method of the helper called. */
  method?: string;
  /** Request headers; a list keeps repeats and order. */
  headers?: TestHeaders;
  /**
   * The body: bytes, a string (UTF-8), or an (async) iterable of chunks (sent chunked).
   * Bytes and strings get a `Content-Length`.
   */
  body?: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /** A JSON body (with `Content-Type: application/json` unless one is given). */
  json?: unknown;
  /** Added to the path's query string. */
  query?: TestQuery;
  /** Aborts the request: the application sees its client go away. */
  signal?: AbortSignal;
}

/** The head of a response: status and headers. */
export interface TestResponseHead {
  /** The status code, e.g. `200`. */
  readonly status: number;
  /** The reason phrase, e.g. `'OK'`. */
  readonly statusText: string;
  /** The headers, as a Fetch `Headers` (`getSetCookie()` gives each `Set-Cookie`). */
  readonly headers: Headers;
  /** The header lines in the order and spelling the server sent them. */
  readonly rawHeaders: readonly (readonly [name: string, value: string])[];
}

/** A whole response, as {@link TestClient.request} gives it. */
export interface TestResponse extends TestResponseHead {
  /** The body bytes (empty for `HEAD`, 204 and 304). */
  readonly body: Uint8Array;
  /** The body decoded as UTF-8. */
  text(): string;
  /** The body parsed as JSON. @throws SyntaxError when it is not JSON. */
  json(): unknown;
}

/** A response whose body is read as it arrives ({@link TestClient.stream}). */
export interface TestStreamResponse extends TestResponseHead {
  /**
   * The body chunks as the server sends them. Breaking out of the loop disconnects, which the
   * application sees as its client going away. Iterate it once.
   */
  readonly body: AsyncIterable<Uint8Array>;
}

/** What the server side of one request reports to its client. */
interface Exchange {
  readonly findings: Finding[];
  /** Settles once the request handler is done, body closed and logged. */
  readonly done: Promise<void>;
  finish(): void;
}

const EXCHANGE = Symbol('TestClient exchange');

function exchange(): Exchange {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  return { findings: [], done, finish };
}

/**
 * Sends requests to a WSGI application through the same `node:http` parser, `WSGIRequestHandler`
 * and `ServerHandler` as `makeServer()`, over an in-memory connection instead of a socket: the
 * status, headers and body are what a real client would get (framing, `Date`, `Server`, error
 * pages, limits). Each request uses its own connection.
 *
 * @example
 * ```ts
 * const client = new TestClient(demoApp);
 * const res = await client.get('/hello', { query: { a: '1' } });
 * res.status; // 200
 * res.text(); // "…PATH_INFO = /hello…"
 * ```
 */
export class TestClient {
  /** The server the requests go to; it never listens. */
  readonly server: WSGIServer;
  /** The cookies kept (`cookies: true`), `undefined` otherwise. */
  readonly cookies: CookieJar | undefined;
  readonly #host: string;
  readonly #headers: TestHeaders | undefined;
  readonly #exchanges = new WeakMap<object, Exchange>();
  readonly #validate: boolean;
  /** The validator's import, when validating; awaited before the first request. */
  readonly #loading: Promise<ValidatorFunction> | undefined;
  #validator: ValidatorFunction | undefined;

  /**
   * @param app - the WSGI application.
   * @param options - server options (`quiet` defaults to `true` here) and the client's own.
   * @throws TypeError for an unknown option or a value of the wrong type.
   */
  constructor(app: Application, options: TestClientOptions = {}) {
    if (typeof app !== 'function') throw new TypeError('TestClient: app must be a function');
    const { validate = true, cookies = false, host = 'localhost', headers, ...rest } = options;
    if (typeof validate !== 'boolean' || typeof cookies !== 'boolean') {
      throw new TypeError('TestClient: options validate and cookies must be booleans');
    }
    if (typeof host !== 'string' || host === '') {
      throw new TypeError('TestClient: option host must be a non-empty string');
    }
    const exchanges = this.#exchanges;
    const Base = rest.handlerClass ?? WSGIRequestHandler;
    // The request handler tags the environ with its exchange, and settles it once done.
    class TestRequestHandler extends Base {
      override addEnviron(environ: Record<string, unknown>): void {
        super.addEnviron(environ);
        (environ as Record<symbol, unknown>)[EXCHANGE] = exchanges.get(this.request.socket);
      }
      override async handle(): Promise<void> {
        try {
          await super.handle();
        } finally {
          exchanges.get(this.request.socket)?.finish();
        }
      }
    }
    this.server = new WSGIServer({ quiet: true, ...rest, handlerClass: TestRequestHandler });
    // `host[:port]`: SERVER_NAME and SERVER_PORT (80 without a port).
    const port = /:(\d+)$/.exec(host);
    this.server.serverName = port === null ? host : host.slice(0, port.index);
    this.server.port = port === null ? 80 : Number(port[1]);
    this.server.setupEnviron();
    this.#validate = validate;
    this.#loading = validate ? loadValidator() : undefined;
    // Reported by the first request instead, if it fails.
    this.#loading?.catch(() => undefined);
    this.server.setApp(validate ? validated(app, () => this.#validator) : app);
    this.cookies = cookies ? new CookieJar() : undefined;
    this.#host = host;
    this.#headers = headers;
  }

  /** A `GET` request; see {@link request}. */
  get(path: string, init?: TestRequestInit): Promise<TestResponse> {
    return this.request(path, { ...init, method: 'GET' });
  }

  /** A `POST` request; see {@link request}. */
  post(path: string, init?: TestRequestInit): Promise<TestResponse> {
    return this.request(path, { ...init, method: 'POST' });
  }

  /** A `PUT` request; see {@link request}. */
  put(path: string, init?: TestRequestInit): Promise<TestResponse> {
    return this.request(path, { ...init, method: 'PUT' });
  }

  /** A `DELETE` request; see {@link request}. */
  delete(path: string, init?: TestRequestInit): Promise<TestResponse> {
    return this.request(path, { ...init, method: 'DELETE' });
  }

  /** A `HEAD` request; see {@link request}. */
  head(path: string, init?: TestRequestInit): Promise<TestResponse> {
    return this.request(path, { ...init, method: 'HEAD' });
  }

  /**
   * Sends one request and reads the whole response.
   *
   * @param path - the request target, `/path?query` (kept byte for byte; `query` is added).
   * @throws ValidationError (rejects) when the validator found a broken PEP 3333 rule.
   * @throws Error (rejects) when the connection closed before a complete response, or the
   *   `signal`'s reason when it aborted the request.
   */
  async request(path: string, init: TestRequestInit = {}): Promise<TestResponse> {
    const { head, response, exchange: ex } = await this.#send(path, init);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (error) {
      throw abortReason(init.signal) ?? error;
    }
    await this.#settle(ex);
    const body = new Uint8Array(Buffer.concat(chunks));
    return {
      ...head,
      body,
      text: () => Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'),
      json: (): unknown => JSON.parse(Buffer.from(body).toString('utf8')),
    };
  }

  /**
   * Sends one request and resolves as soon as the response head arrives; the body is read
   * chunk by chunk as the application produces it.
   *
   * @throws ValidationError from the body's iteration, at its end, when the validator found a
   *   broken rule.
   */
  async stream(path: string, init: TestRequestInit = {}): Promise<TestStreamResponse> {
    const { head, response, exchange: ex } = await this.#send(path, init);
    const settle = (): Promise<void> => this.#settle(ex);
    async function* body(): AsyncGenerator<Uint8Array, void, undefined> {
      for await (const chunk of response) yield chunk as Buffer;
      await settle();
    }
    return { ...head, body: body() };
  }

  /** Waits for the server side to finish, then reports what the validator found. */
  async #settle(ex: Exchange): Promise<void> {
    await ex.done;
    if (!this.#validate) return;
    const error = ex.findings.find((finding) => finding.severity === 'error');
    if (error !== undefined) throw error;
    for (const warning of ex.findings) process.emitWarning(warning.message, 'WSGIWarning');
  }

  async #send(
    path: string,
    init: TestRequestInit,
  ): Promise<{ head: TestResponseHead; response: IncomingMessage; exchange: Exchange }> {
    if (typeof path !== 'string' || !path.startsWith('/')) {
      throw new TypeError(`TestClient: path must start with "/", got ${JSON.stringify(path)}`);
    }
    if (this.#loading !== undefined) this.#validator ??= await this.#loading;
    const target = path + queryString(path, init.query);
    const { bytes, chunks, contentType } = requestBody(init);
    const headers = toHeaderList(this.#headers, init.headers);
    const names = new Set(headers.map(([name]) => name.toLowerCase()));
    if (!names.has('host')) headers.unshift(['Host', this.#host]);
    if (contentType !== undefined && !names.has('content-type')) {
      headers.push(['Content-Type', contentType]);
    }
    if (bytes !== undefined && !names.has('content-length')) {
      headers.push(['Content-Length', String(bytes.length)]);
    }
    const requestPath = path.split('?', 1)[0] ?? '/';
    const cookie = this.cookies?.header(this.server.serverName, requestPath);
    if (cookie !== undefined && !names.has('cookie')) headers.push(['Cookie', cookie]);

    const [serverSide, clientSide] = memorySocketPair(this.server.serverName, this.server.port);
    const ex = exchange();
    this.#exchanges.set(serverSide, ex);
    // A request node:http refuses itself (431, 400) never reaches the request handler.
    serverSide.once('close', () => {
      ex.finish();
    });
    this.server.httpServer.emit('connection', serverSide);
    const req = httpRequest({
      method: init.method ?? 'GET',
      path: target,
      headers: headers.flat(),
      setHost: false,
      createConnection: () => clientSide,
      ...(init.signal === undefined ? {} : { signal: init.signal }),
    });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    if (bytes !== undefined) req.end(bytes);
    else if (chunks !== undefined) void pipeBody(req, chunks);
    else req.end();
    let res: IncomingMessage;
    try {
      res = await response;
    } catch (error) {
      clientSide.destroy();
      throw abortReason(init.signal) ?? error;
    }
    const rawHeaders: [string, string][] = [];
    const fetchHeaders = new Headers();
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
      const name = res.rawHeaders[i] as string;
      const value = res.rawHeaders[i + 1] as string;
      rawHeaders.push([name, value]);
      fetchHeaders.append(name, value);
    }
    for (const setCookie of fetchHeaders.getSetCookie()) {
      this.cookies?.store(setCookie, this.server.serverName, requestPath);
    }
    const head: TestResponseHead = {
      status: res.statusCode ?? 0,
      statusText: res.statusMessage ?? '',
      headers: fetchHeaders,
      rawHeaders,
    };
    return { head, response: res, exchange: ex };
  }
}

/** The reason of an aborted `signal`: what a request it aborted rejects with. */
function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.aborted === true ? (signal.reason as unknown) : undefined;
}

/** Writes an iterable body, chunked; an error in it aborts the request. */
async function pipeBody(
  req: ReturnType<typeof httpRequest>,
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (!req.write(chunk)) await new Promise((resolve) => req.once('drain', resolve));
    }
    req.end();
  } catch (error) {
    req.destroy(error as Error);
  }
}

/** `app` behind the validator in collect mode, with a validator per request for its findings. */
function validated(app: Application, loaded: () => ValidatorFunction | undefined): Application {
  return (environ: Environ, startResponse: StartResponse) => {
    const findings =
      (environ as unknown as Record<symbol, Exchange | undefined>)[EXCHANGE]?.findings ?? [];
    const check = loaded();
    if (check === undefined) throw new Error('TestClient: @wsgi/validator is not loaded');
    return check(app, {
      mode: 'collect',
      onFinding: (finding) => {
        findings.push(finding);
      },
    })(environ, startResponse);
  };
}
