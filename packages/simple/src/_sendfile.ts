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
 * Each of the two buffers starts at this size (or the application's block size, if larger, up
 * to {@link MAX_BLOCK}; or the file's size, if smaller): big reads mean few syscalls, and
 * reusing the buffers means no fresh memory to allocate, zero or page in per block.
 */
const BLOCK = 1024 * 1024;
/**
 * What the buffers grow to while the client keeps up. On loopback a 512 MiB download went at
 * 2.1 GB/s with 1 MiB, 2.4 with 2 MiB and 2.6–2.7 with 4 or 8 MiB (`pnpm bench`, scenario
 * `download`). A slow client keeps the 1 MiB ones: 2 MiB held per download, not 8.
 */
const FAST_BLOCK = 4 * 1024 * 1024;
const MAX_BLOCK = 8 * 1024 * 1024;
/**
 * How many bytes in a row must have been sent by the time the next block is read, for the
 * buffers to grow: more than the kernel's socket buffers take from a client that reads nothing.
 */
const GROW_AFTER = 16 * 1024 * 1024;
/**
 * How many sends in a row must still be going when the next block is read, for grown buffers to
 * shrink back: with 4 MiB blocks a send often outlasts a read, and shrinking at the first one
 * would reallocate every few blocks.
 */
const SHRINK_AFTER = 3;
/**
 * The least a buffer holds (`FileWrapper`'s default block size), for a file whose size is 0
 * (`/proc`), tiny, or that grows while it is sent.
 */
const MIN_BLOCK = 8192;

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
 * `out` is done with it, so memory stays at two blocks and a slow client slows the reads. The
 * blocks grow from {@link BLOCK} to {@link FAST_BLOCK} once {@link GROW_AFTER} bytes in a row
 * were sent by the time the next block was read, and shrink back after {@link SHRINK_AFTER}
 * sends in a row that were not (a client that stops reading then holds its two blocks). `onChunk` counts each chunk before
 * it is written. The file is left open (the body's `close()` closes it).
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
  const known = await sizeOf(fd);
  const fit = (block: number): number =>
    Math.max(1, Math.min(block, limit, Math.max(known > 0 ? known : Infinity, MIN_BLOCK)));
  const base = fit(Math.min(Math.max(blockSize, BLOCK), MAX_BLOCK));
  const fast = Math.max(base, fit(FAST_BLOCK));
  const buffers: Buffer[] = [];
  let target = base;
  // Bytes in a row, and sends in a row, that were done or still going when the next block was read.
  let fastBytes = 0;
  let slowSends = 0;
  let turn = 0;
  let sending: Promise<void> | undefined;
  // Sends started and sends done (equal when the last send is done), and the last one's size.
  let started = 0;
  let done = 0;
  let inFlight = 0;
  let left = limit;
  try {
    while (left > 0) {
      let buffer = buffers[turn];
      // This buffer is free: its last send was waited for before the other one was sent.
      if (buffer?.length !== target) {
        buffer = Buffer.allocUnsafe(target);
        buffers[turn] = buffer;
      }
      const count = await readInto(fd, buffer, Math.min(buffer.length, left));
      if (count === 0) break;
      if (sending !== undefined) {
        if (done === started) {
          fastBytes += inFlight;
          slowSends = 0;
        } else {
          fastBytes = 0;
          slowSends += 1;
        }
        if (fastBytes >= GROW_AFTER) target = fast;
        else if (slowSends >= SHRINK_AFTER) target = base;
        // The other buffer must be sent before this one goes: the order of the bytes.
        await sending;
      }
      if (out.destroyed || out.writableEnded) throw out.errored ?? destroyedError();
      left -= count;
      onChunk(count);
      started += 1;
      inFlight = count;
      sending = written(out, count === buffer.length ? buffer : buffer.subarray(0, count));
      // Seen as handled at once; awaited before the buffers are reused or the loop ends.
      sending.then(
        () => {
          done += 1;
        },
        () => undefined,
      );
      turn ^= 1;
    }
  } finally {
    // Never return while `out` may still read a buffer.
    if (sending !== undefined) await sending.catch(() => undefined);
  }
  if (sending !== undefined) await sending;
}
