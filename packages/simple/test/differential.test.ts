/**
 * The environ of the same raw request, built by Python's wsgiref.simple_server and by ours.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exchange, serve, teardown } from './_http.ts';

import { environApp } from './_apps.ts';

const PYTHON = '/root/.pyenv/versions/3.11.7/bin/python3';
const hasPython = existsSync(PYTHON);
let python: ChildProcess | undefined;
let pythonPort = 0;

beforeAll(async () => {
  if (!hasPython) return;
  const child = spawn(
    PYTHON,
    [join(import.meta.dirname, 'fixtures', 'wsgiref_environ_server.py')],
    {
      env: {},
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  python = child;
  pythonPort = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      reject(new Error(`python did not start: ${out}`));
    }, 10_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const match = /LISTENING (\d+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
});

afterAll(async () => {
  await teardown();
  if (python !== undefined && python.exitCode === null) {
    const exited = new Promise((resolve) => python?.once('exit', resolve));
    python.kill('SIGTERM');
    await exited;
  }
});

/** The environ each server builds for `head` (a request head without Host, which is added). */
async function both(head: string): Promise<[Record<string, string>, Record<string, string>]> {
  const { port } = await serve(environApp, { quiet: true });
  const request = (p: number): string =>
    head.replace('\r\n', `\r\nHost: 127.0.0.1:${String(p)}\r\n`);
  const [ours, theirs] = await Promise.all([
    exchange(port, request(port)),
    exchange(pythonPort, request(pythonPort)),
  ]);
  const parse = (body: Buffer | undefined): Record<string, string> =>
    JSON.parse(body?.toString('latin1') ?? '{}') as Record<string, string>;
  return [parse(ours.responses[0]?.body), parse(theirs.responses[0]?.body)];
}

/**
 * Keys that differ by design: each server's port and name, our extra REMOTE_PORT, and
 * LC_CTYPE, which Python's own locale coercion (PEP 538) puts in os.environ, which wsgiref
 * copies into every environ and we do not.
 */
const DIFFERENT = new Set([
  'SERVER_PORT',
  'SERVER_SOFTWARE',
  'REMOTE_PORT',
  'HTTP_HOST',
  'SERVER_NAME',
  'LC_CTYPE',
]);

function comparable(environ: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(environ).filter(([key]) => !DIFFERENT.has(key)));
}

describe('the environ against Python wsgiref.simple_server (differential)', () => {
  it('runs where CI runs: Python 3.11 is on the machine', () => {
    expect(hasPython || process.env['CI'] === undefined).toBe(true);
  });

  it.runIf(hasPython)(
    'matches for a GET with repeated headers, a query and a percent-encoded path',
    async () => {
      const [ours, theirs] = await both(
        'GET /caf%C3%A9/x%2Fy%zz?q=caf%C3%A9&a=1 HTTP/1.1\r\nX-Multi: a\r\nUser-Agent: diff\r\nx-multi: b\r\n' +
          'Accept: */*\r\nConnection: close\r\n\r\n',
      );
      expect(comparable(ours)).toEqual(comparable(theirs));
      expect(ours['PATH_INFO']).toBe('/caf\u00c3\u00a9/x/y%zz');
      expect(ours['REMOTE_PORT']).toMatch(/^\d+$/);
    },
  );

  it.runIf(hasPython)(
    'matches for a POST with Content-Type and Content-Length, and for HTTP/1.0',
    async () => {
      const [ours, theirs] = await both(
        'POST /submit HTTP/1.0\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\na=1',
      );
      expect(comparable(ours)).toEqual(comparable(theirs));
      expect(ours['CONTENT_LENGTH']).toBe('3');
    },
  );

  it.runIf(hasPython)('matches for CONNECT, which both hand to the application', async () => {
    const [ours, theirs] = await both('CONNECT example.com:443 HTTP/1.1\r\n\r\n');
    expect(comparable(ours)).toEqual(comparable(theirs));
    expect(ours['REQUEST_METHOD']).toBe('CONNECT');
    expect(ours['PATH_INFO']).toBe('example.com:443');
  });

  it.runIf(hasPython)('differs only by dropping header names with "_"', async () => {
    const [ours, theirs] = await both(
      'GET / HTTP/1.1\r\nX_User: forged\r\nConnection: close\r\n\r\n',
    );
    expect(theirs['HTTP_X_USER']).toBe('forged');
    expect(ours['HTTP_X_USER']).toBeUndefined();
    const rest = comparable(theirs);
    delete rest['HTTP_X_USER'];
    expect(comparable(ours)).toEqual(rest);
  });
});
