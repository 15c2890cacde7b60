/**
 * Streaming a `FileWrapper`'s file straight to a response, with bounded memory.
 *
 * @module
 */
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

import { FileWrapper } from '@wsgi/util';

import { destroyedError, drained } from './_streams.ts';

/** Reads of at least this many bytes: few syscalls, and memory stays at a few blocks. */
const MIN_BLOCK = 65_536;

/** A real file behind a body: a descriptor or a `FileHandle`, else `undefined`. */
export function realFileOf(body: unknown): number | FileHandle | undefined {
  if (!(body instanceof FileWrapper)) return undefined;
  const file = body.file;
  if (typeof file === 'number') return file;
  const candidate = file as Partial<FileHandle>;
  return typeof candidate.fd === 'number' && typeof candidate.stat === 'function'
    ? (file as FileHandle)
    : undefined;
}

/**
 * Copies `file` from its current position to `out`, at most `limit` bytes, waiting for `drain`
 * whenever `out` is full. `onChunk` counts each chunk before it is written. The file is left
 * open (the body's `close()` closes it).
 */
export async function streamFile(
  file: number | FileHandle,
  blockSize: number,
  out: Writable,
  limit: number,
  onChunk: (length: number) => void,
): Promise<void> {
  if (limit <= 0) return;
  const highWaterMark = Math.max(blockSize, MIN_BLOCK);
  const source = createReadStream('', {
    fd: file,
    autoClose: false,
    emitClose: false,
    highWaterMark,
  });
  let left = limit;
  try {
    for await (const data of source as AsyncIterable<Buffer>) {
      if (out.destroyed || out.writableEnded) throw out.errored ?? destroyedError();
      const chunk = data.length > left ? data.subarray(0, left) : data;
      left -= chunk.length;
      onChunk(chunk.length);
      if (!out.write(chunk)) await drained(out);
      if (left <= 0) break;
    }
  } finally {
    source.destroy();
  }
}
