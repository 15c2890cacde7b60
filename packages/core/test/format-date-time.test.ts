import { describe, expect, it } from 'vitest';

import { formatDateTime } from '../src/index.ts';
import { PYTHON, hasPython, runPython } from './_python.ts';

describe('formatDateTime()', () => {
  it('formats the RFC 9110 example', () => {
    expect(formatDateTime(784111777)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
  });

  it('drops fractions the way time.gmtime does (towards the past)', () => {
    expect(formatDateTime(784111777.999)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(formatDateTime(0)).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(formatDateTime(-0.5)).toBe('Wed, 31 Dec 1969 23:59:59 GMT');
    // The per-second cache must not return the previous second's text.
    expect(formatDateTime(1)).toBe('Thu, 01 Jan 1970 00:00:01 GMT');
  });

  it('pads the year with spaces like "%4d"', () => {
    expect(formatDateTime(-62135596800 + 86400 * 365 * 99)).toMatch(/^\w{3}, \d\d \w{3} {3}\d\d /);
  });

  it('refuses a time that is not finite or out of range', () => {
    for (const value of [Number.NaN, Infinity, -Infinity, 8.64e15 * 10]) {
      expect(() => formatDateTime(value)).toThrow(RangeError);
    }
  });

  it.skipIf(!hasPython)(`matches wsgiref.handlers.format_date_time (${PYTHON})`, async () => {
    const times: number[] = [0, 784111777, 951782400, 4102444799, 1e10, -86400 * 365.25 * 30];
    for (let i = 0; i < 300; i += 1) times.push(Math.floor(Math.random() * 4e9) + Math.random());
    const script =
      'import json,sys\nfrom wsgiref.handlers import format_date_time\n' +
      'print(json.dumps([format_date_time(t) for t in json.load(sys.stdin)]))';
    const expected = JSON.parse(await runPython(['-c', script], JSON.stringify(times))) as string[];
    expect(times.map((t) => formatDateTime(t))).toEqual(expected);
  });
});
