/**
 * What `node:http` lets through but RFC 9112 says a server must refuse, checked before the
 * application is called.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http';

import { hasBody } from './_input.ts';

/** A refusal: the status code and reason phrase the client gets. */
export type Refusal = readonly [code: number, reason: string];

const BAD_REQUEST: Refusal = [400, 'Bad Request'];
const BAD_VERSION: Refusal = [505, 'HTTP Version Not Supported'];
const TWO_HOSTS = Symbol('more than one Host');

/**
 * RFC 9110 §7.2 / RFC 3986 §3.2.2: `host [ ":" port ]`, the host an IP literal or a reg-name
 * (unreserved, sub-delims, pct-encoded); empty is allowed (RFC 9112 §3.2).
 */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[\w.~%!$&'()*+,;=-]*)(?::[0-9]*)?$/;

/**
 * The one Host field value of a request (`rawHeaders` keeps every repeat), `undefined` when
 * there is none, {@link TWO_HOSTS} when there are several. No array per request.
 */
function hostLine(raw: readonly string[]): string | undefined | typeof TWO_HOSTS {
  let host: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (host !== undefined) return TWO_HOSTS;
      host = raw[i + 1];
    }
  }
  return host;
}

/**
 * The refusal a request head deserves, `undefined` when it may go to the application.
 *
 * - RFC 9112 §2.3: only HTTP/1.x is spoken here; `node:http` also parses `HTTP/0.9`-style and
 *   `HTTP/2.0` request lines, which get 505.
 * - RFC 9112 §3.2: an HTTP/1.1 request without Host, any request with more than one Host
 *   field line, or with an invalid Host value gets 400.
 * - RFC 9112 §6.1: a Transfer-Encoding in an HTTP/1.0 request is faulty framing, and in a
 *   request chunked must be the final coding, applied once; anything else gets 400 before the
 *   body is read, instead of failing halfway through it.
 * - RFC 9110 §9.3.6: a `CONNECT` request has no content; one that declares some gets 400.
 */
export function refusal(req: IncomingMessage): Refusal | undefined {
  if (req.httpVersionMajor !== 1) return BAD_VERSION;
  if (req.method === 'CONNECT' && hasBody(req)) return BAD_REQUEST;
  const host = hostLine(req.rawHeaders);
  if (host === TWO_HOSTS) return BAD_REQUEST;
  if (host === undefined ? req.httpVersionMinor >= 1 : !HOST.test(host)) return BAD_REQUEST;
  const coding = req.headers['transfer-encoding'];
  if (coding !== undefined) {
    if (req.httpVersionMinor === 0) return BAD_REQUEST;
    const codings = coding.toLowerCase().split(',');
    const chunked = codings.filter((c) => c.trim() === 'chunked').length;
    if (chunked !== 1 || codings.at(-1)?.trim() !== 'chunked') return BAD_REQUEST;
  }
  return undefined;
}
