/**
 * Adapters that turn what `toInputStream` accepts into one pull interface.
 *
 * @module
 */
import { Readable } from 'node:stream';

import { ChunkQueue } from './_chunk-queue.ts';
import { describe, latin1Bytes } from './_latin1.ts';

/** Receives the chunk of a pull that could not answer at once (`null`: the source is done). */
export type OnChunk = (chunk: Buffer | null) => void;
/** Receives the failure of a pull that could not answer at once. */
export type OnError = (error: unknown) => void;

/** A pull-based byte source. */
export interface Source {
  /**
   * The next chunk, of at most `max` bytes (`max` ≥ 1), or `null` once the source is done;
   * throws when the source failed. When nothing is available yet it returns `undefined`, and
   * later (never during the call) calls `onChunk` or `onError` exactly once. A caller makes
   * one pull at a time. It never takes more than `max` bytes out of the source's own buffer
   * where the source has one (a `Readable`).
   */
  pull(max: number, onChunk: OnChunk, onError: OnError): Buffer | null | undefined;
}

/** A source with nothing (left) in it. */
export const emptySource: Source = { pull: () => null };

/** A `Buffer` view of bytes (no copy) or of a latin-1 string; a `TypeError` for anything else. */
export function toChunk(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (typeof value === 'string') return latin1Bytes(value, 'An input chunk');
  throw new TypeError(`Input chunks must be Uint8Arrays, got ${describe(value)}`);
}

/** Keeps the first `max` bytes; the rest of an iterable's chunk is past the body and dropped. */
function clip(chunk: Buffer, max: number): Buffer {
  return chunk.length > max ? chunk.subarray(0, max) : chunk;
}

/** Pulls chunks from a synchronous iterable. */
export function iterableSource(iterable: Iterable<unknown>): Source {
  const iterator = iterable[Symbol.iterator]();
  return {
    pull(max) {
      const step = iterator.next();
      return step.done === true ? null : clip(toChunk(step.value), max);
    },
  };
}

/** Pulls chunks from an async iterable, one `next()` per pull. */
export function asyncIterableSource(iterable: AsyncIterable<unknown>): Source {
  const iterator = iterable[Symbol.asyncIterator]();
  return {
    pull(max, onChunk, onError) {
      iterator.next().then((step) => {
        let chunk: Buffer | null;
        try {
          chunk = step.done === true ? null : clip(toChunk(step.value), max);
        } catch (error) {
          onError(error);
          return;
        }
        onChunk(chunk);
      }, onError);
      return undefined;
    },
  };
}

/**
 * Reads a byte `Readable` in flowing mode, with one set of listeners for its whole life
 * (attached at the first pull that finds nothing held, removed when done), so a pull that has
 * to wait costs no listener churn. Chunks go to the waiting pull as they come, whole and
 * uncopied; ones that come while no pull waits are held, and the stream is paused once its
 * high-water mark is held, so backpressure reaches the socket and memory stays flat. With a
 * limit it stops at exactly that many bytes: it pauses the stream, lets go of it and puts the
 * part of the last chunk past the limit back in front of it (`unshift`), so whatever follows
 * the body (the next request on a keep-alive socket) stays there for its next reader. Nothing
 * else may read the stream meanwhile (a `readable` listener would keep it from flowing).
 */
class ReadableSource implements Source {
  readonly #stream: Readable;
  /** Bytes still to take from the stream (`Infinity` without a limit). */
  #remaining: number;
  readonly #held = new ChunkQueue();
  readonly #maxHeld: number;
  #attached = false;
  /** We paused the stream because enough is held. */
  #paused = false;
  #ended = false;
  #failure: { error: unknown } | undefined;
  #onChunk: OnChunk | undefined;
  #onError: OnError | undefined;

  constructor(stream: Readable, limit: number) {
    this.#stream = stream;
    this.#remaining = limit;
    this.#maxHeld = stream.readableHighWaterMark;
  }

  pull(_max: number, onChunk: OnChunk, onError: OnError): Buffer | null | undefined {
    // What is held was clipped to the limit on arrival, and `max` is what the limit left.
    const held = this.#held.shift();
    if (held !== undefined) return held;
    if (this.#failure) throw this.#failure.error;
    if (this.#ended) return null;
    const stream = this.#stream;
    if (!this.#attached) {
      if (stream.errored) throw stream.errored;
      if (stream.readableEnded || stream.destroyed) {
        this.#ended = true;
        return null;
      }
      this.#attached = true;
      stream.on('data', this.#onData);
      stream.on('end', this.#onEnd);
      stream.on('error', this.#onFailure);
      stream.on('close', this.#onClose);
      // A stream paused before (by an earlier reader of the same socket) does not start
      // flowing when a `data` listener is added.
      if (stream.readableFlowing !== true) stream.resume();
    } else if (this.#paused) {
      this.#paused = false;
      stream.resume();
    }
    this.#onChunk = onChunk;
    this.#onError = onError;
    return undefined;
  }

  readonly #onData = (data: unknown): void => {
    let chunk: Buffer;
    try {
      chunk = toChunk(data);
    } catch (error) {
      this.#stop();
      this.#fail(error);
      return;
    }
    if (chunk.length === 0) return;
    if (chunk.length >= this.#remaining) {
      const rest = chunk.subarray(this.#remaining);
      chunk = chunk.subarray(0, this.#remaining);
      this.#remaining = 0;
      this.#ended = true;
      this.#stop();
      if (rest.length > 0) this.#stream.unshift(rest);
    } else {
      this.#remaining -= chunk.length;
    }
    const onChunk = this.#onChunk;
    if (onChunk !== undefined) {
      this.#onChunk = this.#onError = undefined;
      onChunk(chunk);
      return;
    }
    this.#held.push(chunk);
    if (!this.#ended && !this.#paused && this.#held.length >= this.#maxHeld) {
      this.#paused = true;
      this.#stream.pause();
    }
  };

  readonly #onEnd = (): void => {
    this.#detach();
    this.#end();
  };

  readonly #onFailure = (error: unknown): void => {
    this.#detach();
    this.#fail(error);
  };

  readonly #onClose = (): void => {
    this.#detach();
    const { errored } = this.#stream;
    if (errored) this.#fail(errored);
    else this.#end();
  };

  #end(): void {
    if (this.#ended || this.#failure) return;
    this.#ended = true;
    const onChunk = this.#onChunk;
    this.#onChunk = this.#onError = undefined;
    onChunk?.(null);
  }

  #fail(error: unknown): void {
    if (this.#ended || this.#failure) return;
    this.#failure = { error };
    const onError = this.#onError;
    this.#onChunk = this.#onError = undefined;
    onError?.(error);
  }

  /** Stops the flow (a flowing stream without a `data` listener would lose data) and detaches. */
  #stop(): void {
    this.#stream.pause();
    this.#detach();
  }

  #detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    const stream = this.#stream;
    stream.off('data', this.#onData);
    stream.off('end', this.#onEnd);
    stream.off('error', this.#onFailure);
    stream.off('close', this.#onClose);
  }
}

/**
 * Reads a paused byte Node `Readable`, taking at most `limit` bytes out of it (`Infinity`: to
 * its end).
 */
export function readableSource(stream: Readable, limit: number): Source {
  if (stream.readableObjectMode || stream.readableEncoding !== null) {
    throw new TypeError('A Readable input must be a byte stream (no object mode, no encoding)');
  }
  return new ReadableSource(stream, limit);
}

/** `true` for a Node `Readable` (checked before the async-iterable case it also matches). */
export function isReadable(value: unknown): value is Readable {
  return value instanceof Readable;
}
