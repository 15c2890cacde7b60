/**
 * A Fetch `Request` made from a WSGI environ, its body streamed from `wsgi.input`.
 *
 * @module
 */
import type { Environ, InputStream } from '@wsgi/core';
import { isHopByHop, requestUri } from '@wsgi/util';

/** How much of `wsgi.input` one pull of the request body asks for. */
const READ_SIZE = 64 * 1024;
const DECIMAL = /^[0-9]+$/;
const EMPTY = new Uint8Array(0);

/**
 * The request headers: each `HTTP_*` variable (`HTTP_X_FORWARDED_FOR` → `x-forwarded-for`),
 * then `CONTENT_TYPE` and `CONTENT_LENGTH` when they are not empty. Hop-by-hop headers
 * describe the connection to our server, not the request, and are left out.
 */
function requestHeaders(environ: Environ): Headers {
  const headers = new globalThis.Headers();
  for (const key of Object.keys(environ)) {
    if (!key.startsWith('HTTP_')) continue;
    const value = environ[key];
    if (typeof value !== 'string') continue;
    const name = key.slice(5).toLowerCase().replaceAll('_', '-');
    if (name === 'content-type' || name === 'content-length' || isHopByHop(name)) continue;
    headers.append(name, value);
  }
  const type = environ.CONTENT_TYPE;
  if (typeof type === 'string' && type !== '') headers.set('content-type', type);
  const length = environ.CONTENT_LENGTH;
  if (typeof length === 'string' && length !== '') headers.set('content-length', length);
  return headers;
}

/**
 * How many bytes of body the request has: `CONTENT_LENGTH`; without one, `Infinity` (read to
 * the end) when there is a `Transfer-Encoding` (a chunked upload our server decodes) or
 * `wsgi.input_terminated` (an input that ends by itself, as `toFetchHandler`'s), else 0, as
 * CGI says. `GET` and `HEAD` have none (Fetch refuses a body there).
 */
function bodyLength(environ: Environ): number {
  const method = environ.REQUEST_METHOD;
  if (method === 'GET' || method === 'HEAD') return 0;
  const length = environ.CONTENT_LENGTH ?? '';
  if (DECIMAL.test(length)) return Number(length);
  const terminated =
    environ['wsgi.input_terminated'] === true ||
    typeof environ['HTTP_TRANSFER_ENCODING'] === 'string';
  return length === '' && terminated ? Infinity : 0;
}

/**
 * A pull-based stream over `wsgi.input`: nothing is read before the handler reads, and never
 * more than `length` bytes (PEP 3333: an application must not read past `CONTENT_LENGTH`).
 */
function inputBody(input: InputStream, length: number): ReadableStream<Uint8Array> {
  let remaining = length;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const chunk = remaining > 0 ? await input.read(Math.min(READ_SIZE, remaining)) : EMPTY;
        if (chunk.length === 0) {
          controller.close();
          return;
        }
        remaining -= chunk.length;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * The `Request` of an environ: the URL of `requestUri()`, `REQUEST_METHOD`, the headers, and
 * for a request with a body a stream of `wsgi.input` (`duplex: 'half'`).
 *
 * @throws TypeError when the environ gives no valid URL, method or header.
 */
export function toRequest(environ: Environ, signal: AbortSignal): Request {
  const init: RequestInit = {
    method: environ.REQUEST_METHOD,
    headers: requestHeaders(environ),
    signal,
  };
  const length = bodyLength(environ);
  if (length > 0) {
    init.body = inputBody(environ['wsgi.input'], length);
    init.duplex = 'half';
  }
  return new Request(requestUri(environ), init);
}
