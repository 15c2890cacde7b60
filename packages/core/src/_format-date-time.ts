/**
 * `wsgiref.handlers.format_date_time`.
 *
 * @module
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;
const MONTHS = [
  'Jan',
  'Feb',
  'Mar',
  'Apr',
  'May',
  'Jun',
  'Jul',
  'Aug',
  'Sep',
  'Oct',
  'Nov',
  'Dec',
] as const;

/** The last second formatted and its text: a server formats the same second many times. */
let cachedSecond = Number.NaN;
let cachedText = '';

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Formats a time in seconds since the epoch (fractions are dropped, as `time.gmtime` does) as
 * an HTTP date in GMT: `formatDateTime(784111777)` is `'Sun, 06 Nov 1994 08:49:37 GMT'`.
 *
 * @throws RangeError when `seconds` is not a finite number in `Date`'s range.
 * @see Python `wsgiref.handlers.format_date_time`; RFC 9110, section 5.6.7 (IMF-fixdate)
 */
export function formatDateTime(seconds: number): string {
  const second = Math.floor(seconds);
  if (second === cachedSecond) return cachedText;
  const date = new Date(second * 1000);
  const time = date.getTime();
  if (Number.isNaN(time)) {
    throw new RangeError(`formatDateTime() needs a finite time in seconds, got ${String(seconds)}`);
  }
  const day = DAYS[date.getUTCDay()] ?? '';
  const month = MONTHS[date.getUTCMonth()] ?? '';
  // Python's "%4d" pads the year with spaces, it does not zero-fill it.
  const year = String(date.getUTCFullYear()).padStart(4, ' ');
  const text =
    `${day}, ${pad2(date.getUTCDate())} ${month} ${year} ` +
    `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())} GMT`;
  cachedSecond = second;
  cachedText = text;
  return text;
}
