/**
 * The order of the responses on one connection: HTTP/1.1 pipelining answers requests in the
 * order they came (RFC 9112 §9.3.2).
 *
 * @module
 */
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** The newest response each connection was given. */
const newest = new WeakMap<Socket, ServerResponse>();

/** Records `res` as the newest response on `socket`; returns the one given before it, if any. */
export function follow(socket: Socket, res: ServerResponse): ServerResponse | undefined {
  const previous = newest.get(socket);
  newest.set(socket, res);
  return previous;
}

/**
 * The response `socket` must finish before it can answer anything else, or `undefined` when
 * there is none. A response is finished once it emitted `close` (`destroyed` is then set, after
 * `node:http` has ended a connection whose response said "close").
 */
export function unfinished(socket: Socket): ServerResponse | undefined {
  const res = newest.get(socket);
  return res === undefined || res.destroyed ? undefined : res;
}
