/**
 * Small helpers shared by the routes: native strings, URL prefixes and complete responses.
 *
 * @module
 */
import type { Environ, StartResponse } from '@wsgi/core';

import { PAGE_CSP, type SafeHtml, html, layout } from './_html.ts';

/** The status lines the demo uses. */
export const STATUS = {
  200: '200 OK',
  400: '400 Bad Request',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  413: '413 Content Too Large',
  415: '415 Unsupported Media Type',
} as const;

/** A status code the demo answers with. */
export type StatusCode = keyof typeof STATUS;

/**
 * Decodes a PEP 3333 native string (one char per byte) as UTF-8; `undefined` when the bytes are
 * not valid UTF-8.
 */
export function fromNative(native: string): string | undefined {
  const bytes = Buffer.from(native, 'latin1');
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? text : undefined;
}

const URL_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]$/;

/** Percent-encodes a native-string path, byte by byte, for use in a link. */
export function encodeNativePath(native: string): string {
  let out = '';
  for (const ch of native) {
    out += URL_SAFE.test(ch)
      ? ch
      : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The URL prefix of the application (`SCRIPT_NAME`, encoded, no trailing slash). */
export function baseOf(environ: Environ): string {
  return encodeNativePath(environ.SCRIPT_NAME.replace(/\/+$/, ''));
}

/** Sends a complete HTML page (`Content-Length` set, so it goes out in one piece). */
export function sendHtml(
  startResponse: StartResponse,
  code: StatusCode,
  page: SafeHtml,
  extraHeaders: Array<[string, string]> = [],
): Uint8Array[] {
  const body = Buffer.from(page.value, 'utf8');
  startResponse(STATUS[code], [
    ['Content-Type', 'text/html; charset=utf-8'],
    ['Content-Length', String(body.length)],
    ['Content-Security-Policy', PAGE_CSP],
    ['X-Content-Type-Options', 'nosniff'],
    ...extraHeaders,
  ]);
  return [body];
}

/** Sends plain UTF-8 text. */
export function sendText(
  startResponse: StartResponse,
  code: StatusCode,
  text: string,
): Uint8Array[] {
  const body = Buffer.from(text, 'utf8');
  startResponse(STATUS[code], [
    ['Content-Type', 'text/plain; charset=utf-8'],
    ['Content-Length', String(body.length)],
    ['X-Content-Type-Options', 'nosniff'],
  ]);
  return [body];
}

/** Sends an HTML error page whose message is escaped. */
export function sendError(
  environ: Environ,
  startResponse: StartResponse,
  code: Exclude<StatusCode, 200>,
  message: string,
  extraHeaders: Array<[string, string]> = [],
): Uint8Array[] {
  const title = STATUS[code].slice(4);
  const base = baseOf(environ);
  const body = html`<p class="error">${message}</p>
    <p><a href="${base}/">Back to the home page</a></p>`;
  return sendHtml(startResponse, code, layout(title, base, body), extraHeaders);
}

/** Answers 405 unless the method is one of `allowed`; returns the response, or `undefined`. */
export function checkMethod(
  environ: Environ,
  startResponse: StartResponse,
  allowed: readonly string[],
): Uint8Array[] | undefined {
  if (allowed.includes(environ.REQUEST_METHOD)) return undefined;
  return sendError(
    environ,
    startResponse,
    405,
    `${environ.REQUEST_METHOD} is not allowed here; use ${allowed.join(' or ')}.`,
    [['Allow', allowed.join(', ')]],
  );
}
