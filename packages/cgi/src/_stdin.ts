import { read } from 'node:fs';

/** The largest read from the web server's pipe: one pipe buffer's worth of a request body. */
const CHUNK_SIZE = 65_536;
/** Backoff ceiling (ms) when the descriptor was left non-blocking and has no data yet. */
const MAX_RETRY_DELAY = 50;

function readOnce(fd: number, size: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const buffer = Buffer.allocUnsafe(size);
    read(fd, buffer, 0, size, null, (error, bytesRead) => {
      if (error) reject(error);
      else resolve(buffer.subarray(0, bytesRead));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The request body on a file descriptor, as chunks, reading no byte past `length`.
 *
 * RFC 3875 §4.2: the script must not read more than `CONTENT_LENGTH` bytes, even if more
 * is available. Reading the descriptor directly (not through `process.stdin`) asks the
 * kernel for at most what is left, opens no handle that could keep the process alive, and
 * leaves every byte past the body in the pipe or file.
 */
export async function* readBody(fd: number, length: number): AsyncGenerator<Buffer> {
  let remaining = length;
  let delay = 1;
  while (remaining > 0) {
    let chunk: Buffer;
    try {
      chunk = await readOnce(fd, Math.min(remaining, CHUNK_SIZE));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      await sleep(delay);
      delay = Math.min(delay * 2, MAX_RETRY_DELAY);
      continue;
    }
    // End of input before the declared length: the client or the server gave up.
    if (chunk.length === 0) return;
    delay = 1;
    remaining -= chunk.length;
    yield chunk;
  }
}

/**
 * `CONTENT_LENGTH` as a byte count. Absent, empty or not a plain decimal number means no
 * body (RFC 3875 §4.1.2); only this variable counts, never the client's `HTTP_CONTENT_LENGTH`.
 */
export function contentLength(value: string | undefined): number {
  if (value === undefined || !/^[0-9]{1,15}$/.test(value)) return 0;
  return Number(value);
}
