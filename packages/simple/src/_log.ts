/**
 * Common Log Format lines, as `http.server.BaseHTTPRequestHandler.log_request()` writes them
 * (with the CLF timestamp, `[10/Oct/2000:13:55:36 -0700]`).
 *
 * @module
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

let cachedSecond = -1;
let cachedStamp = '';

/** `01/Dec/2026:07:04:15 +0000` in local time; computed at most once a second. */
export function logTimestamp(now = Date.now()): string {
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    const d = new Date(second * 1000);
    const offset = -d.getTimezoneOffset();
    const sign = offset < 0 ? '-' : '+';
    const abs = Math.abs(offset);
    cachedStamp =
      `${pad(d.getDate())}/${MONTHS[d.getMonth()] ?? ''}/${String(d.getFullYear())}:` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ` +
      `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`;
    cachedSecond = second;
  }
  return cachedStamp;
}

// C0 controls, DEL and C1 controls, as http.server's _control_char_table.
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\x00-\x1f\x7f-\x9f]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

/** Escapes control characters as `\xNN`, so a request cannot forge log lines. */
export function escapeControl(text: string): string {
  return HAS_CONTROL.test(text)
    ? text.replace(CONTROL, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    : text;
}

/** One CLF line, with its newline: `host - - [date] "request line" status size`. */
export function formatLogLine(
  host: string,
  requestLine: string,
  code: string,
  size: number,
): string {
  return `${host} - - [${logTimestamp()}] "${escapeControl(requestLine)}" ${escapeControl(code)} ${String(size)}\n`;
}
