/**
 * `CONNECT` requests, which `node:http` hands over with the bare socket instead of a response.
 *
 * @module
 */
import { ServerResponse } from 'node:http';
import type { IncomingMessage, RequestListener } from 'node:http';
import type { Socket } from 'node:net';

import { afterEarlier } from './_pipeline.ts';
import { lingeringClose } from './_streams.ts';

/**
 * Answers a `CONNECT` request (RFC 9110 §9.3.6) through `listener`, like any other method, as
 * Python's server does: the application sees `REQUEST_METHOD` `CONNECT` and the authority as
 * `PATH_INFO`. No tunnel is opened, so the connection closes after the answer, with a lingering
 * close. A `CONNECT` pipelined behind other requests is answered after them, and not at all if
 * one of those answers closed the connection.
 *
 * `node:http` gives such a request its socket and stops watching it, so the socket gets an error
 * handler and an idle `timeout` (ms, 0 for none) here, and is read from at once: what the client
 * sends after the head is dropped, never parsed, and its end is seen (a client that ends its side
 * before the answer is complete has gone, as `node:http` takes it for other requests). A
 * `CONNECT` request has no content (one that declares some gets 400, see `refusal()`), so
 * `wsgi.input` is empty.
 */
export function answerConnect(
  req: IncomingMessage,
  socket: Socket,
  listener: RequestListener,
  timeout: number,
): void {
  // node:http took its own timeout and end listeners off the socket; the requests still
  // answered ahead of this one need them as much as this one does.
  let res: ServerResponse | undefined;
  socket.on('error', () => {
    socket.destroy();
  });
  socket.once('end', () => {
    if (res?.writableFinished !== true) socket.destroy();
  });
  if (timeout > 0) {
    socket.setTimeout(timeout, () => {
      socket.destroy();
    });
  }
  socket.resume();
  const answer = (): void => {
    // node:http may have set its keep-alive timeout after the response before this one.
    if (timeout > 0) socket.setTimeout(timeout);
    req.push(null);
    req.complete = true;
    const response = new ServerResponse(req);
    res = response;
    response.shouldKeepAlive = false;
    // RFC 9110 §9.3.6: a 2xx answer to CONNECT has no framing, so a body of unknown length is
    // sent as it is and ends with the connection, never chunked.
    response.useChunkedEncodingByDefault = false;
    response.assignSocket(socket);
    response.once('finish', () => {
      lingeringClose(socket);
    });
    listener(req, response);
  };
  // A client that ended its side meanwhile has had its socket destroyed (above).
  afterEarlier(socket, answer, () => {
    socket.destroy();
  });
}
