/**
 * Waiting on a `Writable` without hanging when it dies.
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';

/** The error a write to a destroyed stream gets, as Node names it. */
export function destroyedError(): Error {
  return Object.assign(new Error('Cannot write: the stream was destroyed'), {
    code: 'ERR_STREAM_DESTROYED',
  });
}

/**
 * Resolves on `drain`; rejects on `error`, or on `close` before `drain` (the peer went away),
 * so a writer waiting for room never waits forever.
 */
export function drained(stream: Writable): Promise<void> {
  if (stream.destroyed) return Promise.reject(stream.errored ?? destroyedError());
  return new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : destroyedError());
    };
    const onDrain = (): void => {
      settle();
    };
    const onError = (error: unknown): void => {
      settle(error);
    };
    const onClose = (): void => {
      settle(stream.errored ?? destroyedError());
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/** How long a closing connection may take to flush before it is destroyed. */
const FLUSH_GRACE_MS = 10_000;

/** Destroys `socket` after `ms` unless it closes first; the timer never keeps the process up. */
function destroyAfter(socket: Socket, ms: number): void {
  const timer = setTimeout(() => socket.destroy(), ms);
  timer.unref();
  socket.once('close', () => {
    clearTimeout(timer);
  });
}

/**
 * Sends what `res` has written, then closes its connection: for a response whose framing can
 * no longer be kept, the end of the connection is the only honest end of the message.
 */
export function closeAfterFlush(res: ServerResponse): void {
  const socket = res.socket;
  if (socket === null || socket.destroyed) {
    res.destroy();
    return;
  }
  destroyAfter(socket, FLUSH_GRACE_MS);
  socket.end(() => socket.destroy());
}

/** How long a lingering close keeps dropping what the client still sends. */
const LINGER_MS = 5_000;

/**
 * Closes a connection whose client is still sending (the rest of a request body nobody will
 * read), the way Apache's lingering close does: our side ends once the response is out, and
 * the socket is destroyed only when the client closes too, or {@link LINGER_MS} after our end
 * was sent. Destroying it at once, with the client's bytes unread, would make the kernel answer
 * with a reset that throws away the response's unsent tail. The caller keeps the socket read
 * (and the bytes dropped) meanwhile.
 */
export function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end(() => {
    destroyAfter(socket, LINGER_MS);
  });
}
