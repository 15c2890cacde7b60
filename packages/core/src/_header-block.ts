/**
 * The header block of `BaseHandler.sendHeaders()`: the preamble text (status line, `Date`,
 * `Server`, or a gateway's `Status:` line) and the one `_write()` that carries it.
 *
 * @module
 */
import { Buffer } from 'node:buffer';

import type { Headers } from '@wsgi/util';

import { formatDateTime } from './_format-date-time.ts';
import { andThen } from './_maybe.ts';

/** A first chunk up to this size is copied behind the header block, so one `_write()` sends both. */
const COALESCE_LIMIT = 16 * 1024;

/** The public `BaseHandler` members the preamble is built from. */
export interface PreambleSource {
  readonly originServer: boolean;
  readonly httpVersion: string;
  readonly serverSoftware: string | null;
  readonly status: string | null;
  clientIsModern(): boolean;
}

/** The preamble for `headers`: `Status:` for a gateway, nothing for HTTP/0.9. */
export function preambleText(handler: PreambleSource, headers: Headers): string {
  if (!handler.originServer) return `Status: ${String(handler.status)}\r\n`;
  if (!handler.clientIsModern()) return '';
  let text = `HTTP/${handler.httpVersion} ${String(handler.status)}\r\n`;
  if (!headers.has('Date')) text += `Date: ${formatDateTime(Date.now() / 1000)}\r\n`;
  if (handler.serverSoftware && !headers.has('Server')) {
    text += `Server: ${handler.serverSoftware}\r\n`;
  }
  return text;
}

/** The hook the header block is written through. */
export interface HeadSink {
  _write(data: Uint8Array): void | Promise<void>;
}

/** Writes `head` and the first body chunk `data`: in one `_write()` when it is at most 16 KiB. */
export function writeHead(
  handler: HeadSink,
  head: string,
  data: Uint8Array | undefined,
): void | Promise<void> {
  if (data === undefined || data.length === 0) return handler._write(Buffer.from(head, 'latin1'));
  if (data.length > COALESCE_LIMIT) {
    return andThen(handler._write(Buffer.from(head, 'latin1')), () => handler._write(data));
  }
  // Header text is latin-1 (checked by startResponse and Headers): one byte per character.
  const out = Buffer.allocUnsafe(head.length + data.length);
  out.write(head, 0, 'latin1');
  out.set(data, head.length);
  return handler._write(out);
}
