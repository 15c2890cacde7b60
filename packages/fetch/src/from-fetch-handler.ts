/**
 * `fromFetchHandler`: a Fetch-style handler as a WSGI application.
 *
 * @module
 */
import { STATUS_CODES } from 'node:http';

import type { Application, Environ, ResponseBody } from '@wsgi/core';
import { isHopByHop } from '@wsgi/util';

import { describe, isFetchObject } from './_checks.ts';
import { toRequest } from './_request.ts';
import type { FetchHandler } from './types.ts';

/** The status line of a `Response`: its own reason phrase, else the standard one. */
function statusOf(response: Response): string {
  const reason = response.statusText || STATUS_CODES[response.status] || 'Unknown';
  return `${response.status} ${reason}`;
}

/**
 * The response headers as WSGI pairs: hop-by-hop ones are left out (they belong to the
 * connection, which our handler frames itself), and each `Set-Cookie` stays its own pair.
 */
function headersOf(response: Response): Array<[string, string]> {
  const list: Array<[string, string]> = [];
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie' && !isHopByHop(name)) list.push([name, value]);
  });
  for (const cookie of response.headers.getSetCookie()) list.push(['set-cookie', cookie]);
  return list;
}

/**
 * The response body as a WSGI body: an async iterator over the stream's chunks whose
 * `close()` (or `return()`) cancels the stream when it was not read to its end, and aborts
 * the request's signal, so the Fetch handler learns that the client went away.
 */
class StreamBody implements AsyncIterableIterator<Uint8Array> {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #abort: AbortController;
  #done = false;
  #closed = false;

  constructor(stream: ReadableStream<Uint8Array>, abort: AbortController) {
    this.#reader = stream.getReader();
    this.#abort = abort;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#closed) return { done: true, value: undefined };
    let step: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
    try {
      step = await this.#reader.read();
    } catch (error) {
      // An errored stream is over: cancelling it would only report the same error again.
      this.#done = true;
      throw error;
    }
    if (step.done) {
      this.#done = true;
      return { done: true, value: undefined };
    }
    return { done: false, value: step.value };
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    await this.close();
    return { done: true, value: undefined };
  }

  close(): Promise<void> | undefined {
    if (this.#closed) return undefined;
    this.#closed = true;
    if (this.#done) return undefined;
    const reason = new Error('The WSGI response body was closed before its end');
    this.#abort.abort(reason);
    return this.#reader.cancel(reason);
  }
}

/**
 * Turns a Fetch-style handler into a WSGI application, so it runs behind our handlers
 * (`makeServer`, `SimpleHandler`, `CGIHandler`, any `BaseHandler`).
 *
 * Each call builds a `Request` from the environ (URL from `requestUri()`, `REQUEST_METHOD`,
 * headers from the `HTTP_*` variables, `CONTENT_TYPE` and `CONTENT_LENGTH`, hop-by-hop ones
 * left out, and for a request with a body a stream that reads `wsgi.input` only as the
 * handler reads it), calls the handler, and starts the response with the `Response`'s
 * status (its `statusText`, else the standard reason phrase) and headers (hop-by-hop ones
 * left out, every `Set-Cookie` kept). The body streams from `response.body`; its `close()`
 * cancels that stream and aborts `request.signal` when the client went away first.
 *
 * Errors of the handler propagate, so the WSGI handler's error page applies; so does a
 * `TypeError` when the handler gives something other than a `Response` or
 * `Response.error()`.
 *
 * @param handler - the Fetch-style handler.
 * @throws TypeError when `handler` is not a function.
 * @see PEP 3333, "The Application/Framework Side"; WHATWG Fetch, "Request class"
 */
export function fromFetchHandler(handler: FetchHandler): Application {
  if (typeof (handler as unknown) !== 'function') {
    throw new TypeError(
      `fromFetchHandler() needs a function (request) => Response, got ${describe(handler)}`,
    );
  }
  return async (environ: Environ, startResponse): Promise<ResponseBody> => {
    const abort = new AbortController();
    const response: unknown = await handler(toRequest(environ, abort.signal));
    if (!isFetchObject(response, 'Response')) {
      throw new TypeError(`The Fetch handler must return a Response, got ${describe(response)}`);
    }
    if (response.type === 'error') {
      throw new TypeError('The Fetch handler returned a network error (Response.error())');
    }
    startResponse(statusOf(response), headersOf(response));
    const body = response.body;
    return body === null ? [] : new StreamBody(body, abort);
  };
}
