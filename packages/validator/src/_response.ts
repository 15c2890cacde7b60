/**
 * The checks of `startResponse`'s arguments: `check_status`, `check_headers`,
 * `check_content_type` and `check_exc_info` of `wsgiref.validate`.
 *
 * @see PEP 3333, "The start_response() Callable"
 * @module
 */
import { isHopByHop } from '@wsgi/util';

import type { Reporter } from './_report.ts';
import { show } from './_report.ts';

// Character loops rather than regular expressions: the strings are short (a status, a
// header name and value), and a regular expression's call costs more than the loop.

/** RFC 9110 §5.6.2 token characters, by ASCII code. */
const TOKEN_CHARS = new Uint8Array(128);
for (const char of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TOKEN_CHARS[char.charCodeAt(0)] = 1;
}

/** Whether `text` is an RFC 9110 token: one or more token characters. */
function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code > 0x7f || TOKEN_CHARS[code] === 0) return false;
  }
  return true;
}

/** Whether `text` holds a control character but tab, DEL, or a code unit above latin-1. */
function hasBadChar(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 ? code !== 0x09 : code > 0x7e && (code === 0x7f || code > 0xff)) return true;
  }
  return false;
}

/** Whether the character at `index` is an ASCII digit (false past the end). */
function isDigit(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 0x30 && code <= 0x39;
}

/**
 * Checks a status line such as `'200 OK'`; returns its code, or `undefined` when it has none
 * (the Content-Type check is then skipped).
 */
export function checkStatus(status: unknown, report: Reporter): number | undefined {
  if (typeof status !== 'string') {
    report.fail('status.type', `the status must be a string: ${show(status)}`);
    return undefined;
  }
  const after = status.charCodeAt(3);
  // A code is three digits followed by a space, other whitespace, or nothing.
  if (
    !(isDigit(status, 0) && isDigit(status, 1) && isDigit(status, 2)) ||
    (after > 0x20 && after !== 0x7f)
  ) {
    report.fail('status.format', `the status must start with a three-digit code: ${show(status)}`);
    return undefined;
  }
  if (hasBadChar(status)) {
    report.fail(
      'status.invalid-char',
      `the status holds a control or non-latin-1 character: ${show(status)}`,
    );
  }
  // Three ASCII digits (checked above): the code without a substring and Number().
  const code =
    (status.charCodeAt(0) - 48) * 100 +
    (status.charCodeAt(1) - 48) * 10 +
    status.charCodeAt(2) -
    48;
  if (code < 100)
    report.fail('status.code', `the status code must be at least 100: ${show(status)}`);
  else if (code < 200) {
    // The application's response is the final one; a server would send a 1xx as interim.
    report.fail(
      'status.informational',
      `a 1xx status is an interim response, not the application's final one: ${show(status)}`,
    );
  }
  if (after !== 0x20) {
    report.warn(
      'status.reason',
      `the status should be a three-digit code, a single space and a reason phrase: ${show(status)}`,
    );
  }
  return code;
}

/** Checks one header; returns whether it is Content-Type. */
function checkHeader(item: unknown, report: Reporter): boolean {
  if (!Array.isArray(item) || item.length !== 2) {
    report.fail('headers.item', `each header must be a [name, value] pair: ${show(item)}`);
    return false;
  }
  const [name, value] = item as [unknown, unknown];
  if (typeof name !== 'string' || typeof value !== 'string') {
    report.fail('headers.not-string', `header names and values must be strings: ${show(item)}`);
    return typeof name === 'string' && name.toLowerCase() === 'content-type';
  }
  const lower = name.toLowerCase();
  if (lower === 'status') {
    report.fail(
      'headers.status',
      `the Status header cannot be used; the status goes to startResponse: ${show(item)}`,
    );
  }
  if (!isToken(name)) {
    report.fail('headers.name', `the header name is not an RFC 9110 token: ${show(name)}`);
  } else if (name.endsWith('-') || name.endsWith('_')) {
    report.fail('headers.name-ending', `header names may not end in '-' or '_': ${show(name)}`);
  }
  if (hasBadChar(value)) {
    report.fail(
      'headers.value',
      `the value of ${name} holds a control or non-latin-1 character: ${show(value)}`,
    );
  }
  if (isHopByHop(name)) {
    report.fail(
      'headers.hop-by-hop',
      `hop-by-hop headers are the server's business: ${show(name)}`,
    );
  }
  return lower === 'content-type';
}

/** Checks the headers and, when the status had a code, the presence of Content-Type. */
export function checkHeaders(headers: unknown, code: number | undefined, report: Reporter): void {
  if (!Array.isArray(headers)) {
    report.fail(
      'headers.type',
      `the headers must be an array of [name, value] pairs: ${show(headers)}`,
    );
    return;
  }
  let contentType = false;
  for (const item of headers as unknown[]) {
    if (checkHeader(item, report)) contentType = true;
  }
  if (code === undefined) return;
  // RFC 9110 §15.3.5, §15.4.5: 204 and 304 have no content; 1xx responses have none either.
  const noContent = code === 204 || code === 304;
  if (contentType && noContent) {
    report.fail(
      'headers.content-type-forbidden',
      `a ${code} response has no content, so no Content-Type: ${show(headers)}`,
    );
  } else if (!contentType && !noContent && code >= 200) {
    report.fail('headers.content-type-missing', `no Content-Type header: ${show(headers)}`);
  }
}

/** `excInfo`, when given, must be the caught error. */
export function checkExcInfo(excInfo: unknown, report: Reporter): void {
  if (excInfo !== undefined && excInfo !== null && !(excInfo instanceof Error)) {
    report.fail('exc-info.type', `excInfo must be the caught Error: ${show(excInfo)}`);
  }
}
