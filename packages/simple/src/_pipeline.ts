/**
 * The order of the responses on one connection: HTTP/1.1 pipelining answers requests in the
 * order they came (RFC 9112 §9.3.2), and nothing after an answer that closed the connection
 * (§9.6).
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The newest response each connection was given. */
const newest = new WeakMap<Socket, ServerResponse>();

/** Records `res` as the newest response on `socket`: what comes after it waits for it. */
export function follow(socket: Socket, res: ServerResponse): void {
  newest.set(socket, res);
}

/**
 * Runs `go` once the newest response on `socket` is finished (at once when there is none, or
 * it is), or `dropped` instead when that response ended the connection. A response is finished
 * once it emitted `close`: `destroyed` is then set, after `node:http` has ended a connection
 * whose response said "close" (`writableFinished` is too early: it holds once written).
 */
export function afterEarlier(socket: Socket, go: () => void, dropped: () => void): void {
  const earlier = newest.get(socket);
  const next = (): void => {
    if (socket.destroyed || socket.writableEnded) dropped();
    else go();
  };
  if (earlier === undefined || earlier.destroyed) next();
  else earlier.once('close', next);
}
