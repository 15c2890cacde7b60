/**
 * `wsgi.input`: an `InputStream` over bytes, a string, (async) iterables or a `Readable`.
 *
 * @module
 */
import type { Readable } from 'node:stream';

import { ChunkQueue } from './_chunk-queue.ts';
import { asReason, describe, latin1Bytes } from './_latin1.ts';
import type { Source } from './_sources.ts';
import {
  asyncIterableSource,
  emptySource,
  isReadable,
  iterableSource,
  readableSource,
  toChunk,
} from './_sources.ts';
import type { InputStream } from './types.ts';

/**
 * What `toInputStream` accepts: bytes, a latin-1 string, an (async) iterable of chunks, or a
 * paused byte `Readable`.
 *
 * @see PEP 3333, "Input and Error Streams"
 */
export type InputSource =
  | Uint8Array
  | string
  | Iterable<Uint8Array | string>
  | AsyncIterable<Uint8Array | string>
  | Readable;

/**
 * Options of `toInputStream`.
 *
 * @see PEP 3333, "Input and Error Streams" (a server must not read past `CONTENT_LENGTH`)
 */
export interface InputStreamOptions {
  /**
   * The body's length in bytes (the request's `Content-Length`). The stream ends after exactly
   * this many bytes and never takes more from the source; a source that ends sooner makes
   * reads that need the missing bytes reject (code `ERR_WSGI_INPUT_TRUNCATED`).
   * Default: read the source to its end.
   */
  contentLength?: number | undefined;
}

/** Validates a size argument the way Python's `io` does: none or negative means "all". */
function toLimit(size: unknown, method: string): number {
  if (size === undefined || size === null) return Infinity;
  if (typeof size !== 'number') {
    throw new TypeError(`${method}(size): size must be a number, got ${describe(size)}`);
  }
  if (!Number.isInteger(size)) {
    throw new RangeError(`${method}(size): size must be an integer, got ${size}`);
  }
  return size < 0 ? Infinity : size;
}

function truncated(expected: number, received: number): Error {
  return Object.assign(
    new Error(`wsgi.input ended after ${received} of ${expected} bytes (Content-Length)`),
    { code: 'ERR_WSGI_INPUT_TRUNCATED' },
  );
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise;
}

/**
 * The buffering reader behind `toInputStream`. Chunks wait in `#buffer`; reads that it can
 * answer settle without touching the source, and operations run strictly one after another.
 * Every operation costs time linear in the bytes it handles, whatever their chunking.
 */
class BufferedInput implements InputStream {
  readonly #source: Source;
  readonly #expected: number;
  /** Bytes the source may still deliver (`Infinity` without a content length). */
  #remaining: number;
  readonly #buffer = new ChunkQueue();
  #done = false;
  /** Why the source stopped early (its error, or the truncation), once it has. */
  #failure: { error: unknown } | undefined;
  /** The last queued operation while one is in flight, else `undefined`. */
  #tail: Promise<unknown> | undefined;

  constructor(source: Source, initial: Buffer | undefined, contentLength: number | undefined) {
    this.#source = source;
    this.#expected = contentLength ?? Infinity;
    this.#remaining = this.#expected;
    if (initial !== undefined) this.#accept(initial);
    if (this.#remaining === 0) this.#done = true;
  }

  read(size?: number): Promise<Uint8Array> {
    return this.#run(
      size,
      'read',
      (limit) => this.#fill(() => this.#buffer.length >= limit),
      (limit) => this.#take(Math.min(limit, this.#buffer.length), this.#buffer.length >= limit),
    );
  }

  readline(size?: number): Promise<Uint8Array> {
    // The buffer remembers how far its line search got, so asking after each chunk is cheap.
    let end = -1;
    const found = (limit: number): boolean => {
      end = this.#buffer.lineEnd();
      return end !== -1 || this.#buffer.length >= limit;
    };
    return this.#run(
      size,
      'readline',
      (limit) => this.#fill(() => found(limit)),
      (limit) => {
        const length = Math.min(end === -1 ? this.#buffer.length : end, limit);
        return this.#take(length, end !== -1 || length >= limit);
      },
    );
  }

  async readlines(hint?: number): Promise<Uint8Array[]> {
    const limit = toLimit(hint, 'readlines');
    const lines: Uint8Array[] = [];
    let total = 0;
    // Python: a hint of 0 or less (or none) means all lines; else stop once `hint` bytes are in.
    const stop = limit === 0 ? Infinity : limit;
    while (total < stop) {
      const line = await this.readline();
      if (line.length === 0) break;
      lines.push(line);
      total += line.length;
    }
    return lines;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const line = await this.readline();
      if (line.length === 0) return;
      yield line;
    }
  }

  /**
   * Validates `size`, then runs `fill` and `finish` after any operation in flight. When the
   * buffer (or a synchronous source) can answer, no extra promise is created.
   */
  #run(
    size: unknown,
    method: string,
    fill: (limit: number) => Promise<void> | undefined,
    finish: (limit: number) => Uint8Array,
  ): Promise<Uint8Array> {
    let limit: number;
    try {
      limit = toLimit(size, method);
    } catch (error) {
      return Promise.reject(asReason(error));
    }
    const op = (): Uint8Array | Promise<Uint8Array> => {
      const pending = fill(limit);
      return pending === undefined ? finish(limit) : pending.then(() => finish(limit));
    };
    if (this.#tail !== undefined) return this.#track(this.#tail.then(op));
    try {
      const result = op();
      return isThenable(result) ? this.#track(result) : Promise.resolve(result);
    } catch (error) {
      return Promise.reject(asReason(error));
    }
  }

  #track<T>(promise: Promise<T>): Promise<T> {
    // Settles either way; the stream is idle again once the last queued operation has.
    const idle = (): void => {
      if (this.#tail === tail) this.#tail = undefined;
    };
    const tail = promise.then(idle, idle);
    this.#tail = tail;
    return promise;
  }

  /**
   * Pulls from the source until `enough()` or the source is done; synchronously as long as the
   * source answers synchronously, else returns a promise for the rest of the work.
   */
  #fill(enough: () => boolean): Promise<void> | undefined {
    while (!enough() && !this.#done) {
      let next: Buffer | null | Promise<Buffer | null>;
      try {
        next = this.#source.pull(this.#remaining);
      } catch (error) {
        this.#fail(error);
        return undefined;
      }
      if (isThenable(next)) {
        return next.then(
          (chunk) => {
            this.#accept(chunk);
            return this.#fill(enough);
          },
          (error: unknown) => {
            this.#fail(error);
          },
        );
      }
      this.#accept(next);
    }
    return undefined;
  }

  #accept(chunk: Buffer | null): void {
    if (chunk === null) {
      this.#done = true;
      if (this.#remaining !== Infinity && this.#remaining > 0) {
        this.#fail(truncated(this.#expected, this.#expected - this.#remaining));
      }
      return;
    }
    if (chunk.length === 0) return;
    this.#buffer.push(chunk);
    this.#remaining -= chunk.length;
    if (this.#remaining === 0) this.#done = true;
  }

  #fail(error: unknown): void {
    this.#done = true;
    this.#failure = { error };
  }

  /**
   * Removes and returns the first `length` buffered bytes. A short answer (`complete` false)
   * at the end of a failed source rethrows the failure instead.
   */
  #take(length: number, complete: boolean): Uint8Array {
    if (!complete && this.#failure) throw this.#failure.error;
    return this.#buffer.take(length);
  }
}

/**
 * Wraps a request body as `environ['wsgi.input']`.
 *
 * `source` is a `Uint8Array`, a latin-1 `string`, an iterable or async iterable of chunks
 * (`Uint8Array`s or latin-1 strings), or a paused Node `Readable` (a byte stream). Whatever
 * the chunking, `read`, `readline`, `readlines` and iteration give the same bytes. Resolved
 * chunks are `Buffer`s; they may share memory with the source's chunks.
 *
 * With `contentLength`, the stream ends after exactly that many bytes and never reads further:
 * from a `Readable` it takes only the bytes it needs out of the stream's buffer, leaving the
 * rest (the next request on a keep-alive socket) in place; from an iterable it takes no chunk
 * it does not need, and drops the part of the last one past the length. If the source ends
 * before `contentLength` bytes (a client that went away), a read that needs the missing bytes
 * rejects with an `Error` whose `code` is `ERR_WSGI_INPUT_TRUNCATED`, so a cut-off body is
 * never taken for a whole one; bytes that did arrive can still be read with sized reads.
 * An error of the source rejects the read that hit it, and every later read that needs more.
 *
 * Sizes follow Python's `io`: none, `null` or a negative size means "everything left"; `0`
 * gives an empty chunk; anything else must be an integer (`RangeError`; `TypeError` when not
 * a number). The stream does not close or destroy its source.
 *
 * @throws TypeError for an unsupported source, a non-byte `Readable`, a string with a
 *   character above `\xff`; RangeError for a bad `contentLength`.
 * @see PEP 3333, "Input and Error Streams"
 */
export function toInputStream(
  source: InputSource,
  { contentLength }: InputStreamOptions = {},
): InputStream {
  if (
    contentLength !== undefined &&
    (typeof contentLength !== 'number' || !Number.isSafeInteger(contentLength) || contentLength < 0)
  ) {
    throw new RangeError(
      `contentLength must be a non-negative integer, got ${describe(contentLength)}`,
    );
  }
  if (source instanceof Uint8Array) {
    return new BufferedInput(emptySource, clipTo(toChunk(source), contentLength), contentLength);
  }
  if (typeof source === 'string') {
    const bytes = latin1Bytes(source, 'A string input');
    return new BufferedInput(emptySource, clipTo(bytes, contentLength), contentLength);
  }
  if (isReadable(source))
    return new BufferedInput(readableSource(source), undefined, contentLength);
  if (typeof source === 'object' && (source as object | null) !== null) {
    if (Symbol.asyncIterator in source) {
      return new BufferedInput(asyncIterableSource(source), undefined, contentLength);
    }
    if (Symbol.iterator in source) {
      return new BufferedInput(iterableSource(source), undefined, contentLength);
    }
  }
  throw new TypeError(
    `toInputStream() takes bytes, a string, an (async) iterable or a Readable, got ${describe(source)}`,
  );
}

function clipTo(bytes: Buffer, contentLength: number | undefined): Buffer {
  return contentLength !== undefined && bytes.length > contentLength
    ? bytes.subarray(0, contentLength)
    : bytes;
}
