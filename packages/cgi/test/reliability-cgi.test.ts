/**
 * Reliability of CGIHandler as a real CGI script: stdin is never read past CONTENT_LENGTH
 * whatever the variables say, the client's copies of CGI variables are never trusted, a
 * failure shows no stack on stdout, a failure after output started exits non-zero, headers the
 * application must not send never reach the web server, and a web server that goes away ends
 * the script quietly with close() called once.
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { FIXTURES, NODE, cgiEnv, parseCgi, run } from './_cgi.ts';
import type { Result, RunOptions } from './_cgi.ts';

const SCRIPT = join(FIXTURES, 'reliability-app.mjs');
const STACK = /\n\s+at |node:internal|\.m?js:\d+/;

interface Report {
  read: number;
  closes: number;
  left: number;
}

function script(options: RunOptions): Promise<Result> {
  return run(NODE, [SCRIPT], options);
}

function report(result: Result): Report {
  const match = /\nREPORT (\{.*\})\n/.exec(result.stderr);
  if (match?.[1] === undefined) throw new Error(`no report in ${JSON.stringify(result.stderr)}`);
  return JSON.parse(match[1]) as Report;
}

function post(contentLength: string | undefined, extra: Record<string, string> = {}): RunOptions {
  const env = cgiEnv({
    REQUEST_METHOD: 'POST',
    PATH_INFO: '/read',
    RELIABILITY_DRAIN: '1',
    ...extra,
  });
  if (contentLength !== undefined) env['CONTENT_LENGTH'] = contentLength;
  return { env, stdin: Buffer.from('helloGET /smuggled HTTP/1.1\r\n\r\n', 'latin1') };
}

const STDIN_LENGTH = 'helloGET /smuggled HTTP/1.1\r\n\r\n'.length;

describe('stdin (RFC 3875 §4.2)', () => {
  it('reads exactly CONTENT_LENGTH bytes, and leaves the rest unread', async () => {
    const result = await script(post('5'));
    expect(result.code).toBe(0);
    expect(parseCgi(result.stdout).body.toString('latin1')).toBe('hello');
    expect(report(result)).toEqual({ read: 5, closes: 1, left: STDIN_LENGTH - 5 });
  });

  it.each(['', '-1', '+5', ' 5', '5 ', '5, 5', '0x5', '5e0', 'abc', '99999999999999999999'])(
    'reads nothing for CONTENT_LENGTH %j',
    async (value) => {
      const result = await script(post(value));
      expect(result.code).toBe(0);
      expect(report(result)).toEqual({ read: 0, closes: 1, left: STDIN_LENGTH });
    },
  );

  it('never takes the client’s HTTP_CONTENT_LENGTH for CONTENT_LENGTH', async () => {
    const missing = await script(post(undefined, { HTTP_CONTENT_LENGTH: '10' }));
    expect(report(missing)).toEqual({ read: 0, closes: 1, left: STDIN_LENGTH });
    const larger = await script(post('5', { HTTP_CONTENT_LENGTH: '20' }));
    expect(report(larger)).toEqual({ read: 5, closes: 1, left: STDIN_LENGTH - 5 });
  });

  it('stops at the end of stdin when CONTENT_LENGTH claims more', async () => {
    const result = await script(post('1000'));
    // The body is cut short: the application gets what there was, or the request fails; never hangs.
    expect(result.ms).toBeLessThan(10_000);
    expect(report(result).read).toBeLessThanOrEqual(STDIN_LENGTH);
  });
});

describe('variables the client controls', () => {
  it('keeps HTTP_PROXY out of process.env (httpoxy) and HTTP_CONTENT_LENGTH out of CONTENT_LENGTH', async () => {
    const result = await script({
      env: cgiEnv({ PATH_INFO: '/env', HTTP_PROXY: 'http://evil:1/', HTTP_CONTENT_LENGTH: '10' }),
    });
    const seen = JSON.parse(parseCgi(result.stdout).body.toString('latin1')) as Record<
      string,
      string | null
    >;
    expect(seen['processProxy']).toBeNull();
    expect(seen['HTTP_PROXY']).toBe('http://evil:1/');
    expect(seen['CONTENT_LENGTH']).not.toBe('10');
  });
});

describe('application failures', () => {
  it('answers 500 before output started; the stack goes to stderr only', async () => {
    const result = await script({ env: cgiEnv({ PATH_INFO: '/throw-before' }) });
    const out = result.stdout.toString('latin1');
    expect(out).toMatch(/^Status: 500 Internal Server Error\r\n/);
    expect(out).not.toContain('secret');
    expect(out).not.toMatch(STACK);
    expect(result.stderr).toMatch(/Error: secret before\n\s+at /);
  });

  it('exits non-zero after output started, with the stack on stderr only', async () => {
    const result = await script({ env: cgiEnv({ PATH_INFO: '/throw-after' }) });
    expect(result.code).not.toBe(0);
    const out = result.stdout.toString('latin1');
    expect(out).toBe('Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part\n');
    expect(result.stderr).toMatch(/Error: secret after\n\s+at /);
    expect(report(result).closes).toBe(1);
  });

  it.each(['/header-crlf', '/header-nul', '/status-crlf', '/hop-by-hop'])(
    'answers 500 and injects nothing for %s',
    async (path) => {
      const result = await script({ env: cgiEnv({ PATH_INFO: path }) });
      const out = result.stdout.toString('latin1');
      expect(out).toMatch(/^Status: 500 Internal Server Error\r\n/);
      expect(out).not.toMatch(/302|Location|evil|Connection/);
      expect(out).not.toMatch(STACK);
      expect(
        parseCgi(result.stdout).head.every((line) => /^[\x21-\x7e]+: [\x20-\x7e]*$/.test(line)),
      ).toBe(true);
    },
  );
});

describe('the web server goes away', () => {
  it('mid-response: the script ends quietly, close() once, no stack', async () => {
    const result = await script({
      env: cgiEnv({ PATH_INFO: '/long' }),
      onStdout: (stdout) => {
        stdout.once('data', () => {
          stdout.destroy();
        });
      },
    });
    expect(result.signal).toBeNull();
    expect(report(result).closes).toBe(1);
    expect(result.stderr.replace(/\nREPORT .*\n/, '')).not.toMatch(STACK);
  });
});
