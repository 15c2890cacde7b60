/**
 * `toFetchHandler`: a WSGI application as a Fetch-style handler.
 *
 * @module
 */
import type { Application, ErrorStream } from '@wsgi/core';
import { toErrorStream, toInputStream } from '@wsgi/util';
import type { ErrorSink, InputStream } from '@wsgi/util';

import { describe, isFetchObject } from './_checks.ts';
import { ResponseHandler } from './_response-handler.ts';
import type { ResponseHandlerSetup } from './_response-handler.ts';
import type { ToFetchHandlerOptions } from './types.ts';

const OPTION_NAMES: ReadonlySet<string> = new Set(['scriptName', 'errors']);
const DECIMAL = /^[0-9]+$/;

function isErrorStream(value: ErrorStream | ErrorSink): value is ErrorStream {
  return typeof (value as Partial<ErrorStream>).writelines === 'function';
}

function checkScriptName(scriptName: unknown): string {
  if (scriptName === undefined) return '';
  if (typeof scriptName !== 'string') {
    throw new TypeError(
      `toFetchHandler(): scriptName must be a string, got ${describe(scriptName)}`,
    );
  }
  // The native-string rule: one character per byte, no control characters.
  if (/[^\x20-\x7e\x80-\xff]/.test(scriptName)) {
    throw new RangeError(
      `toFetchHandler(): scriptName must be a latin-1 native string without controls, got ${describe(scriptName)}`,
    );
  }
  if (scriptName !== '' && (!scriptName.startsWith('/') || scriptName.endsWith('/'))) {
    throw new RangeError(
      `toFetchHandler(): scriptName must be '' or start with '/' and not end with it, got ${describe(scriptName)}`,
    );
  }
  return scriptName;
}

function setupOf(options: ToFetchHandlerOptions): ResponseHandlerSetup {
  if (typeof (options as unknown) !== 'object' || (options as unknown) === null) {
    throw new TypeError(`toFetchHandler(): options must be an object, got ${describe(options)}`);
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name))
      throw new TypeError(`toFetchHandler(): unknown option ${describe(name)}`);
  }
  const sink = options.errors ?? process.stderr;
  return {
    scriptName: checkScriptName(options.scriptName),
    errors: isErrorStream(sink) ? sink : toErrorStream(sink),
  };
}

function inputOf(request: Request): InputStream {
  const body = request.body;
  if (body === null) return toInputStream(new Uint8Array(0));
  if (request.bodyUsed || body.locked) {
    throw new TypeError('toFetchHandler(): the request body was already read');
  }
  const length = request.headers.get('content-length');
  const contentLength = length !== null && DECIMAL.test(length) ? Number(length) : undefined;
  return toInputStream(body, { contentLength });
}

/**
 * Turns a WSGI application into a Fetch-style handler, `(request) => Promise<Response>`, for
 * `Deno.serve`, `Bun.serve`, srvx, Hono's `mount()` or a service worker.
 *
 * The environ is built as our HTTP server builds it (`SERVER_NAME`/`SERVER_PORT` and
 * `wsgi.url_scheme` from the URL, `PATH_INFO` percent-decoded to a native string, the raw
 * `QUERY_STRING`, `HTTP_*` headers, `wsgi.input` streaming `request.body` and never reading
 * past `Content-Length`), and the application runs through a `BaseHandler`, so every check,
 * the error page and the closing of the body are the same as under our other handlers.
 *
 * The `Response` resolves as soon as the headers are ready (at the first non-empty chunk or
 * at the end of the body); the rest streams through a pull-based `ReadableStream`, so the
 * body advances only as fast as the consumer reads. A cancelled stream (the client went
 * away) or an aborted `request.signal` ends the request quietly and closes the body once. An
 * error after the headers errors the stream, so the client sees a cut response, never a
 * complete-looking one.
 *
 * @param app - the WSGI application.
 * @param options - {@link ToFetchHandlerOptions}.
 * @returns a handler whose promise rejects with a `TypeError` for an argument that is not a
 *   `Request` (or whose body was already read), and with `request.signal`'s reason when the
 *   request is aborted before the headers.
 * @throws TypeError for an `app` that is not a function or a bad option; RangeError for a
 *   bad `scriptName`.
 * @see PEP 3333, "Specification Details"; WHATWG Fetch, "Response class"
 */
export function toFetchHandler(
  app: Application,
  options: ToFetchHandlerOptions = {},
): (request: Request) => Promise<Response> {
  if (typeof (app as unknown) !== 'function') {
    throw new TypeError(`toFetchHandler() needs a WSGI application function, got ${describe(app)}`);
  }
  const setup = setupOf(options);
  return async (request) => {
    if (!isFetchObject(request, 'Request')) {
      throw new TypeError(`A Fetch handler takes a Request, got ${describe(request)}`);
    }
    const url = new URL(request.url);
    const input = inputOf(request);
    return new ResponseHandler(request, url, input, setup).respond(app);
  };
}
