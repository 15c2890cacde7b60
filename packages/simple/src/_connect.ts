/**
 * `CONNECT` requests, which `node:http` hands over with the bare socket instead of a response.
 *
 * @module
 */
import { ServerResponse } from 'node:http';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Socket } from 'node:net';

import { lingeringClose } from './_streams.ts';

/**
 * Answers a `CONNECT` request (RFC 9110 §9.3.6) through `listener`, like any other method, as
 * Python's server does: the application sees `REQUEST_METHOD` `CONNECT` and the authority as
 * `PATH_INFO`. No tunnel is opened, so the connection closes after the answer, with a lingering
 * close (what the client sends meanwhile is dropped).
 *
 * `node:http` gives such a request its socket and stops watching it, so the socket gets an error
 * handler and an idle `timeout` (ms, 0 for none) here. A `CONNECT` request has no content
 * (RFC 9110 §9.3.6; one that declares some gets 400, see `refusal()`): `wsgi.input` is empty,
 * and what the client sends after the head is never read as HTTP.
 */
export function answerConnect(
  req: IncomingMessage,
  socket: Socket,
  listener: RequestListener,
  timeout: number,
): void {
  socket.on('error', () => {
    socket.destroy();
  });
  if (timeout > 0) {
    socket.setTimeout(timeout, () => {
      socket.destroy();
    });
  }
  req.push(null);
  req.complete = true;
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once('finish', () => {
    socket.resume();
    lingeringClose(socket);
  });
  listener(req, res);
}
