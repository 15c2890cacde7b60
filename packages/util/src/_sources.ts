/**
 * Adapters that turn what `toInputStream` accepts into one pull interface.
 *
 * @module
 */
import { Readable } from 'node:stream';

import { asReason, describe, latin1Bytes } from './_latin1.ts';

/** A pull-based byte source. */
export interface Source {
  /**
   * The next chunk, of at most `max` bytes (`max` ≥ 1), or `null` once the source is done.
   * May answer synchronously; it never takes more than `max` bytes out of the source's own
   * buffer where the source has one (a `Readable`).
   */
  pull(max: number): Buffer | null | Promise<Buffer | null>;
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
    pull: (max) =>
      iterator.next().then((step) => (step.done === true ? null : clip(toChunk(step.value), max))),
  };
}

/**
 * Pulls from a paused Node `Readable` with `read(n)`, taking at most `max` bytes of what it has
 * buffered, so whatever follows the body stays in the stream for its next reader (on a
 * keep-alive socket, the next request). Listeners are attached only while a pull waits.
 */
export function readableSource(stream: Readable): Source {
  if (stream.readableObjectMode || stream.readableEncoding !== null) {
    throw new TypeError('A Readable input must be a byte stream (no object mode, no encoding)');
  }
  const take = (max: number): Buffer | null => {
    const length = stream.readableLength;
    // read(n) with n <= readableLength returns exactly n bytes. With nothing buffered, read()
    // makes a paused stream announce its end, or returns what its _read() pushed at once,
    // which may be more than `max`: the excess goes back to the front of the stream.
    const chunk: unknown = length > 0 ? stream.read(Math.min(length, max)) : stream.read();
    if (chunk === null) return null;
    const bytes = toChunk(chunk);
    if (bytes.length > max) {
      stream.unshift(bytes.subarray(max));
      return bytes.subarray(0, max);
    }
    return bytes;
  };
  return {
    pull(max) {
      if (stream.readableLength > 0) return take(max);
      if (stream.errored) throw stream.errored;
      if (stream.readableEnded || stream.destroyed) return null;
      return new Promise<Buffer | null>((resolve, reject) => {
        const settle = (): void => {
          stream.off('readable', onReadable);
          stream.off('end', onEnd);
          stream.off('error', onError);
          stream.off('close', onClose);
        };
        const onReadable = (): void => {
          let chunk: Buffer | null;
          try {
            chunk = take(max);
          } catch (error) {
            settle();
            reject(asReason(error));
            return;
          }
          // A `readable` with nothing to read announces the end; read() above makes `end` fire.
          if (chunk !== null) {
            settle();
            resolve(chunk);
          }
        };
        const onEnd = (): void => {
          settle();
          resolve(null);
        };
        const onError = (error: Error): void => {
          settle();
          reject(error);
        };
        const onClose = (): void => {
          settle();
          if (stream.errored) reject(stream.errored);
          else resolve(null);
        };
        stream.on('readable', onReadable);
        stream.on('end', onEnd);
        stream.on('error', onError);
        stream.on('close', onClose);
      });
    },
  };
}

/** `true` for a Node `Readable` (checked before the async-iterable case it also matches). */
export function isReadable(value: unknown): value is Readable {
  return value instanceof Readable;
}
