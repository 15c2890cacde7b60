/**
 * Streaming a `FileWrapper`'s file straight to a response, with bounded memory.
 *
 * @module
 */
import { fstat, read } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

import { FileWrapper } from '@wsgi/util';

import { destroyedError } from './_streams.ts';

/**
 * Each of the two buffers holds this much (or the application's block size, if larger, up to
 * {@link MAX_BLOCK}; or the whole file, if smaller): big reads mean few syscalls, and reusing
 * the buffers means no fresh memory to allocate, zero or page in per block. On loopback a
 * 512 MiB download went at 2.1 GB/s with 1 MiB, 2.4 with 2 MiB and 2.6–2.7 with 4 or 8 MiB
 * (`pnpm bench`, scenario `download`): 4 MiB, so 8 MiB per large download in flight.
 */
const BLOCK = 4 * 1024 * 1024;
const MAX_BLOCK = 8 * 1024 * 1024;

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

function descriptor(file: number | FileHandle): number {
  return typeof file === 'number' ? file : file.fd;
}

/** The file's size, or `Infinity` when it has none (a pipe) or cannot be known. */
function sizeOf(fd: number): Promise<number> {
  return new Promise((resolve) => {
    fstat(fd, (error, stats) => {
      resolve(error === null && stats.isFile() ? stats.size : Infinity);
    });
  });
}

/** Reads into `buffer` from the file's current position; the number of bytes read. */
function readInto(fd: number, buffer: Buffer, length: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, 0, length, null, (error, bytesRead) => {
      if (error === null) resolve(bytesRead);
      else reject(error);
    });
  });
}

/**
 * Writes `chunk` and resolves once `out` has handed it to the system (so its buffer may be
 * reused); rejects when `out` fails or is destroyed first.
 */
function written(out: Writable, chunk: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const onClose = (): void => {
      if (settled) return;
      settled = true;
      reject(out.errored ?? destroyedError());
    };
    out.once('close', onClose);
    out.write(chunk, (error) => {
      out.off('close', onClose);
      if (settled) return;
      settled = true;
      if (error === null || error === undefined) resolve();
      else reject(error);
    });
  });
}

/**
 * Copies `file` from its current position to `out`, at most `limit` bytes. Two buffers take
 * turns: one is read into while the other is being sent, and a buffer is refilled only once
 * `out` is done with it, so memory stays at two blocks and a slow client slows the reads.
 * `onChunk` counts each chunk before it is written. The file is left open (the body's
 * `close()` closes it).
 */
export async function streamFile(
  file: number | FileHandle,
  blockSize: number,
  out: Writable,
  limit: number,
  onChunk: (length: number) => void,
): Promise<void> {
  const fd = descriptor(file);
  if (limit <= 0 || fd < 0) return;
  const size = Math.min(
    Math.max(blockSize, BLOCK),
    MAX_BLOCK,
    limit,
    Math.max(await sizeOf(fd), 1),
  );
  const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] as const;
  let turn = 0;
  let sending: Promise<void> | undefined;
  let left = limit;
  try {
    while (left > 0) {
      const buffer = buffers[turn] as Buffer;
      const count = await readInto(fd, buffer, Math.min(size, left));
      if (count === 0) break;
      // The other buffer must be sent before this one goes: the order of the bytes.
      if (sending !== undefined) await sending;
      if (out.destroyed || out.writableEnded) throw out.errored ?? destroyedError();
      left -= count;
      onChunk(count);
      sending = written(out, count === buffer.length ? buffer : buffer.subarray(0, count));
      // Seen as handled at once; awaited before the buffers are reused or the loop ends.
      sending.catch(() => undefined);
      turn ^= 1;
    }
  } finally {
    // Never return while `out` may still read a buffer.
    if (sending !== undefined) await sending.catch(() => undefined);
  }
  if (sending !== undefined) await sending;
}
