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

const READ = 0;
const READLINE = 1;
type Kind = typeof READ | typeof READLINE;

/** An operation waiting for the source. */
interface Waiting {
  kind: Kind;
  limit: number;
  resolve: (value: Uint8Array) => void;
  reject: (reason: Error) => void;
}

/**
 * The buffering reader behind `toInputStream`. Chunks wait in `#buffer`; an operation that it
 * (or a synchronous source) can answer settles at once, with no promise but the one returned.
 * The others wait in `#waiting`, in call order, and the first of them drives the source: one
 * pull at a time, whose callback answers as many of them as it can. Every operation costs
 * time linear in the bytes it handles, whatever their chunking.
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
  /** Operations waiting for the source; those before `#head` are settled. */
  readonly #waiting: Waiting[] = [];
  #head = 0;

  constructor(source: Source, initial: Buffer | undefined, contentLength: number | undefined) {
    this.#source = source;
    this.#expected = contentLength ?? Infinity;
    this.#remaining = this.#expected;
    if (initial !== undefined) this.#accept(initial);
    if (this.#remaining === 0) this.#done = true;
  }

  read(size?: number): Promise<Uint8Array> {
    return this.#run(READ, size, 'read');
  }

  readline(size?: number): Promise<Uint8Array> {
    return this.#run(READLINE, size, 'readline');
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

  /** Validates `size`, then answers now if nothing waits and it can, else queues the call. */
  #run(kind: Kind, size: unknown, method: string): Promise<Uint8Array> {
    let limit: number;
    try {
      limit = toLimit(size, method);
    } catch (error) {
      return Promise.reject(asReason(error));
    }
    if (this.#head === this.#waiting.length) {
      let answer: Uint8Array | undefined;
      try {
        answer = this.#attempt(kind, limit);
      } catch (error) {
        return Promise.reject(asReason(error));
      }
      if (answer !== undefined) return Promise.resolve(answer);
      // A pull is under way now: this call is the first to wait.
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({ kind, limit, resolve, reject });
    });
  }

  /**
   * Answers from the buffer, pulling synchronously as long as the source answers; `undefined`
   * once a pull has to wait (its callback comes back to `#wake`).
   */
  #attempt(kind: Kind, limit: number): Uint8Array | undefined {
    for (;;) {
      const answer = this.#answer(kind, limit);
      if (answer !== undefined) return answer;
      let next: Buffer | null | undefined;
      try {
        next = this.#source.pull(this.#remaining, this.#onChunk, this.#onError);
      } catch (error) {
        this.#fail(error);
        continue;
      }
      if (next === undefined) return undefined;
      this.#accept(next);
    }
  }

  /**
   * The answer once the buffer holds it or the source is done, else `undefined`. A short
   * answer at the end of a failed source throws the failure instead.
   */
  #answer(kind: Kind, limit: number): Uint8Array | undefined {
    const buffer = this.#buffer;
    if (kind === READLINE) {
      // The buffer remembers how far its line search got, so asking after each chunk is cheap.
      const end = buffer.lineEnd();
      if (end !== -1) return buffer.take(Math.min(end, limit));
    }
    if (buffer.length >= limit) return buffer.take(limit);
    if (!this.#done) return undefined;
    if (this.#failure) throw this.#failure.error;
    return buffer.take(buffer.length);
  }

  readonly #onChunk = (chunk: Buffer | null): void => {
    this.#accept(chunk);
    this.#wake();
  };

  readonly #onError = (error: unknown): void => {
    this.#fail(error);
    this.#wake();
  };

  /** Settles the waiting operations in order until one has to wait for the source again. */
  #wake(): void {
    for (;;) {
      const op = this.#waiting[this.#head];
      if (op === undefined) return;
      let answer: Uint8Array | undefined;
      try {
        answer = this.#attempt(op.kind, op.limit);
      } catch (error) {
        this.#settled();
        op.reject(asReason(error));
        continue;
      }
      if (answer === undefined) return;
      this.#settled();
      op.resolve(answer);
    }
  }

  /** Drops the first waiting operation. */
  #settled(): void {
    const waiting = this.#waiting;
    if (++this.#head === waiting.length) {
      waiting.length = 0;
      this.#head = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= waiting.length) {
      // Settled slots go in batches, never one shift() per call (linear in the queue's length).
      waiting.splice(0, this.#head);
      this.#head = 0;
    }
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
}

/**
 * Wraps a request body as `environ['wsgi.input']`.
 *
 * `source` is a `Uint8Array`, a latin-1 `string`, an iterable or async iterable of chunks
 * (`Uint8Array`s or latin-1 strings), or a paused Node `Readable` (a byte stream). Whatever
 * the chunking, `read`, `readline`, `readlines` and iteration give the same bytes. Resolved
 * chunks are `Buffer`s; they may share memory with the source's chunks.
 *
 * A `Readable` is read in flowing mode, its chunks handed on uncopied wherever one holds a
 * whole answer; the stream is paused whenever its high-water mark's worth waits unasked for,
 * so a socket is never read far ahead of the application. With `contentLength`, the stream
 * ends after exactly that many bytes and never reads further: from a `Readable` it takes only
 * the bytes of the body, then pauses the stream and puts back in front of it whatever came
 * past the length (the next request on a keep-alive socket); from an iterable it takes no
 * chunk it does not need, and drops the part of the last one past the length. If the source ends
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
    return new BufferedInput(
      readableSource(source, contentLength ?? Infinity),
      undefined,
      contentLength,
    );
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
