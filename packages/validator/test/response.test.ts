/**
 * The character rules of the status and headers, one code unit at a time, against the rules
 * written as regular expressions: RFC 9110 §5.6.2 tokens for names; no control character but
 * tab, no DEL and nothing above latin-1 in values and in the status.
 */
import { describe, expect, it } from 'vitest';

import type { ValidationCode } from '../src/index.ts';
import { collecting } from './_apps.ts';
import { makeEnviron } from './_wsgi.ts';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

// Every code unit up to 0x17f, and a few far above (a lone surrogate, the last unit).
const UNITS = [
  ...Array.from({ length: 0x180 }, (_, code) => code),
  0x2028,
  0xd800,
  0xdfff,
  0xfeff,
  0xffff,
];

async function codesFor(
  status: string,
  headers: Array<[string, string]>,
): Promise<ValidationCode[]> {
  const { app, findings } = collecting((_environ, startResponse) => {
    startResponse(status, headers);
    return [];
  });
  const body = await app(makeEnviron(), () => async () => {});
  await body.close?.();
  return findings.map((f) => f.code);
}

describe('one code unit at a time', () => {
  it('in a header name: refused unless a token character', async () => {
    for (const code of UNITS) {
      const name = `X${String.fromCharCode(code)}Y`;
      const codes = await codesFor('200 OK', [
        ['Content-Type', 'text/plain'],
        [name, 'v'],
      ]);
      expect([code, codes.includes('headers.name')]).toEqual([code, !TOKEN.test(name)]);
    }
    expect(
      await codesFor('200 OK', [
        ['Content-Type', 'text/plain'],
        ['', 'v'],
      ]),
    ).toContain('headers.name');
  });

  it('in a header value: refused when a control character but tab, DEL or above latin-1', async () => {
    for (const code of UNITS) {
      const value = `a${String.fromCharCode(code)}b`;
      const codes = await codesFor('200 OK', [['Content-Type', value]]);
      expect([code, codes.includes('headers.value')]).toEqual([code, BAD_CHAR.test(value)]);
    }
  });

  it('in the status: the same rule after the code, and only digits in the code', async () => {
    for (const code of UNITS) {
      const char = String.fromCharCode(code);
      const reason = await codesFor(`200 O${char}K`, [['Content-Type', 'text/plain']]);
      expect([code, reason.includes('status.invalid-char')]).toEqual([code, BAD_CHAR.test(char)]);
      for (const line of [`${char}00 OK`, `2${char}0 OK`, `20${char} OK`]) {
        const codes = await codesFor(line, [['Content-Type', 'text/plain']]);
        expect([line, codes.includes('status.format')]).toEqual([line, !/^[0-9]{3}/.test(line)]);
      }
    }
  });
});
