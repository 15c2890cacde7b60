/**
 * `wsgiref.util.FileWrapper`: a file as an async iterable of blocks.
 *
 * @module
 */
import { close as closeFd, read as readFd } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

import { describe } from './_latin1.ts';
import type { FileLike, ReadableFileLike } from './types.ts';

/** `true` for an `fs.promises.FileHandle` (whose `read` takes a buffer, not a size). */
function isFileHandle(file: object): file is FileHandle {
  const candidate = file as Partial<Record<'fd' | 'stat' | 'readv', unknown>>;
  return (
    typeof candidate.fd === 'number' &&
    typeof candidate.stat === 'function' &&
    typeof candidate.readv === 'function'
  );
}

function readDescriptor(fd: number, size: number): Promise<Uint8Array> {
  // A fresh, zeroed buffer per block: the caller keeps the chunk, and no stale memory shows.
  const buffer = Buffer.alloc(size);
  return new Promise((resolve, reject) => {
    readFd(fd, buffer, 0, size, null, (error, bytesRead) => {
      if (error) reject(error);
      else resolve(buffer.subarray(0, bytesRead));
    });
  });
}

async function readHandle(handle: FileHandle, size: number): Promise<Uint8Array> {
  const { bytesRead, buffer } = await handle.read(Buffer.alloc(size), 0, size, null);
  return buffer.subarray(0, bytesRead);
}

async function readCustom(file: ReadableFileLike, size: number): Promise<Uint8Array> {
  const block: unknown = await file.read(size);
  if (!(block instanceof Uint8Array)) {
    throw new TypeError(`FileWrapper: read() must return a Uint8Array, got ${describe(block)}`);
  }
  return block;
}

/**
 * Wraps a file as an `AsyncIterable<Uint8Array>` of blocks of `blockSize` bytes (the last may
 * be shorter), read from the file's current position until a read comes back empty. A server
 * hands an application's file to `environ['wsgi.file_wrapper']`, and may send a body that is a
 * `FileWrapper` by other means (`sendfile`) using {@link FileWrapper.file} directly.
 *
 * `file` is an `fs.promises.FileHandle`, a file descriptor (read with `fs.read`), or any object
 * with `read(size)` returning a `Uint8Array` (or a promise of one; empty at the end) and an
 * optional `close()`. Each block is a fresh buffer the consumer may keep.
 *
 * @see PEP 3333, "Optional Platform-Specific File Handling"; Python `wsgiref.util.FileWrapper`
 */
export class FileWrapper implements AsyncIterable<Uint8Array> {
  /** The wrapped file, as given (Python's `filelike`). */
  readonly file: FileLike;
  /** Bytes asked for per read (Python's `blksize`). */
  readonly blockSize: number;
  #closing: Promise<void> | undefined;

  /**
   * @param file - a `FileHandle`, a file descriptor, or an object with `read(size)`.
   * @param blockSize - bytes per block, a positive integer; default 8192.
   * @throws TypeError for another kind of `file`; RangeError for a bad `blockSize` or fd.
   */
  constructor(file: FileLike, blockSize = 8192) {
    if (typeof file === 'number') {
      if (!Number.isSafeInteger(file) || file < 0) {
        throw new RangeError(`FileWrapper: a file descriptor must be an integer >= 0, got ${file}`);
      }
    } else if (
      typeof file !== 'object' ||
      (file as object | null) === null ||
      typeof (file as Partial<ReadableFileLike>).read !== 'function'
    ) {
      throw new TypeError(
        `FileWrapper takes a FileHandle, a file descriptor or an object with read(), got ${describe(file)}`,
      );
    }
    if (typeof blockSize !== 'number' || !Number.isSafeInteger(blockSize) || blockSize <= 0) {
      throw new RangeError(
        `FileWrapper: blockSize must be a positive integer, got ${describe(blockSize)}`,
      );
    }
    this.file = file;
    this.blockSize = blockSize;
  }

  /** Reads blocks until an empty read. Leaving the loop early does not close the file. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    const read = this.#reader();
    for (;;) {
      const block = await read(this.blockSize);
      if (block.length === 0) return;
      yield block;
    }
  }

  /**
   * Closes the file exactly once, however often it is called: `FileHandle.close()`,
   * `fs.close(fd)`, or the object's own `close()` when it has one. Every call returns the
   * same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#closeFile();
    return this.#closing;
  }

  async #closeFile(): Promise<void> {
    const { file } = this;
    if (typeof file === 'number') {
      await new Promise<void>((resolve, reject) => {
        closeFd(file, (error) => {
          if (error) reject(error);
          else resolve();
        });
      });
    } else if (typeof file.close === 'function') {
      await file.close();
    }
  }

  #reader(): (size: number) => Promise<Uint8Array> {
    const { file } = this;
    if (typeof file === 'number') return (size) => readDescriptor(file, size);
    if (isFileHandle(file)) return (size) => readHandle(file, size);
    return (size) => readCustom(file, size);
  }
}
