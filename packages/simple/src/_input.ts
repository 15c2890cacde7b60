/**
 * `wsgi.input` over a `node:http` request: opened on first use (so a request nobody reads costs
 * nothing and `Expect: 100-continue` is answered only then) and limited to `maxBodySize`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { toInputStream } from '@wsgi/util';
import type { InputStream } from '@wsgi/util';

import { WSGIServerError } from './_errors.ts';
import { lingeringClose } from './_streams.ts';

const EMPTY = new Uint8Array(0);
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/** `true` when the client waits for `100 Continue` before sending the body (RFC 9110 §10.1.1). */
export function expectsContinue(req: IncomingMessage): boolean {
  const expect = req.headers.expect;
  return (
    expect !== undefined &&
    req.httpVersionMajor === 1 &&
    req.httpVersionMinor >= 1 &&
    CONTINUE.test(expect)
  );
}

/** The declared body length, `undefined` for a chunked body. */
function declaredLength(req: IncomingMessage): number | undefined {
  const length = req.headers['content-length'];
  return length === undefined ? undefined : Number(length);
}

/** `true` when the request has a body (RFC 9112 §6.3: a Content-Length or a Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The most of a partly read body that is read and dropped to keep its connection open. */
const DISCARD_LIMIT = 1024 * 1024;

/**
 * Called once the response is written: a body the application began to read but left
 * unfinished. `node:http` drains a body nobody touched, but not one whose reading began (even
 * if no byte had arrived yet), so the connection would wait for the rest forever and never serve
 * its next request. The rest is read and dropped: up to {@link DISCARD_LIMIT} declared bytes,
 * and the connection then serves its next request; beyond that, or for a chunked body, the
 * connection closes with a lingering close (RFC 9112 §9.6), dropping what the client still
 * sends meanwhile.
 */
export function discardRest(req: IncomingMessage): void {
  // readableFlowing stays null until something reads, listens or pauses.
  if (req.complete || req.destroyed || (req.readableFlowing === null && !req.readableDidRead)) {
    return;
  }
  // What wsgi.input left listening gets nothing more: the rest only flows out and is dropped.
  req.removeAllListeners('data');
  req.resume();
  if ((declaredLength(req) ?? Infinity) > DISCARD_LIMIT) lingeringClose(req.socket);
}

/** `true` when the declared Content-Length is already more than `limit`. */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  const length = declaredLength(req);
  return length !== undefined && length > limit;
}

function tooLarge(limit: number): WSGIServerError {
  return new WSGIServerError(
    'ERR_WSGI_BODY_TOO_LARGE',
    `The request body is larger than maxBodySize (${String(limit)} bytes)`,
  );
}

/**
 * An input that fails with `ERR_WSGI_BODY_TOO_LARGE` once more than `limit` bytes were read
 * from it. It never asks its source for more than one byte past the limit, so nothing buffers
 * more than that.
 */
class LimitedInput implements InputStream {
  readonly #inner: InputStream;
  readonly #limit: number;
  #count = 0;

  constructor(inner: InputStream, limit: number) {
    this.#inner = inner;
    this.#limit = limit;
  }

  /** At most this much more may be asked for: reaching it means the limit was passed. */
  #room(size = Infinity): number {
    return Math.min(size < 0 ? Infinity : size, this.#limit - this.#count + 1);
  }

  #take(data: Uint8Array): Uint8Array {
    this.#count += data.length;
    if (this.#count > this.#limit) throw tooLarge(this.#limit);
    return data;
  }

  async read(size?: number): Promise<Uint8Array> {
    if (size !== undefined && size >= 0)
      return this.#take(await this.#inner.read(this.#room(size)));
    const parts: Uint8Array[] = [];
    for (;;) {
      const part = this.#take(await this.#inner.read(this.#room()));
      if (part.length === 0) return Buffer.concat(parts);
      parts.push(part);
    }
  }

  async readline(size?: number): Promise<Uint8Array> {
    return this.#take(await this.#inner.readline(this.#room(size)));
  }

  async readlines(hint?: number): Promise<Uint8Array[]> {
    const lines: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return lines;
      lines.push(line);
      total += line.length;
      if (hint !== undefined && hint > 0 && total >= hint) return lines;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }
}

/**
 * The `InputStream` of one request. A body with a Content-Length (already checked against the
 * limit) is read up to that length; a chunked one fails with `ERR_WSGI_BODY_TOO_LARGE` as soon
 * as more than the limit has arrived.
 */
export class RequestInput implements InputStream {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #limit: number;
  #inner: InputStream | undefined;

  constructor(req: IncomingMessage, res: ServerResponse, limit: number) {
    this.#req = req;
    this.#res = res;
    this.#limit = limit;
  }

  #open(): InputStream {
    const req = this.#req;
    if (!hasBody(req)) return toInputStream(EMPTY);
    // RFC 9110 §10.1.1: the 100 goes out when the application asks for the body, and only if
    // no final status has been sent.
    if (!this.#res.headersSent && expectsContinue(req)) this.#res.writeContinue();
    const length = declaredLength(req);
    if (length !== undefined) return toInputStream(req, { contentLength: length });
    const input = toInputStream(req);
    return Number.isFinite(this.#limit) ? new LimitedInput(input, this.#limit) : input;
  }

  #stream(): InputStream {
    return (this.#inner ??= this.#open());
  }

  read(size?: number): Promise<Uint8Array> {
    return this.#stream().read(size);
  }

  readline(size?: number): Promise<Uint8Array> {
    return this.#stream().readline(size);
  }

  readlines(hint?: number): Promise<Uint8Array[]> {
    return this.#stream().readlines(hint);
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return this.#stream()[Symbol.asyncIterator]();
  }
}
