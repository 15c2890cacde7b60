/**
 * The validator around real applications served by a real server: makeServer on a socket, and
 * CGIHandler in a child process. A valid application's bytes are the same with and without
 * it, and a conforming server gives no findings; a broken application is caught.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

import { makeServer, type WSGIServer } from '@wsgi/simple';
import type { Application } from '@wsgi/util';
import { afterEach, describe, expect, it } from 'vitest';

import { validator, type Finding } from '../src/index.ts';
import { collectGarbage } from './_spec.ts';

const servers: WSGIServer[] = [];
const sockets = new Set<Socket>();

afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  for (const server of servers.splice(0)) {
    await server.close();
    await server.close(); // closing twice is safe
  }
});

/** Sends raw bytes and resolves with everything the server sent until it closed. */
function exchange(port: number, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    sockets.add(socket);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy(new Error('no answer within 5 s'));
    }, 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.end(raw, 'latin1');
  });
}

const withoutDate = (response: string): string => response.replace(/^Date: .*\r\n/im, '');

const echo: Application = async (environ, startResponse) => {
  const first = await environ['wsgi.input'].readline();
  const rest = await environ['wsgi.input'].read();
  startResponse('200 OK', [
    ['Content-Type', 'text/plain'],
    ['X-Path', environ.PATH_INFO],
  ]);
  return [Buffer.concat([first, Buffer.from('|'), rest])];
};

const stream: Application = (environ, startResponse) => {
  startResponse('200 OK', [['Content-Type', 'text/plain']]);
  return (async function* () {
    for (const part of ['one ', 'two ', environ.QUERY_STRING ?? '']) {
      yield await Promise.resolve(Buffer.from(part));
    }
  })();
};

const REQUESTS = [
  'GET /a/b?x=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
  'POST /post HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nConnection: close\r\n\r\nline\nrest!',
  'HEAD /head HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n',
  'GET /old?q HTTP/1.0\r\n\r\n',
];

async function serve(app: Application): Promise<number> {
  const server = await makeServer('127.0.0.1', 0, app, { quiet: true });
  servers.push(server);
  return server.port;
}

describe('served by makeServer', () => {
  for (const [name, app] of [
    ['an array body', echo],
    ['an async generator body', stream],
  ] as const) {
    it(`${name}: the same bytes with and without the validator, and no findings`, async () => {
      const findings: Finding[] = [];
      const plain = await serve(app);
      const checked = await serve(
        validator(app, { mode: 'collect', onFinding: (f) => findings.push(f) }),
      );
      for (const raw of REQUESTS) {
        const expected = withoutDate(await exchange(plain, raw));
        expect(expected).toMatch(/^HTTP\/1\.[01] 200 OK\r\n/);
        expect(withoutDate(await exchange(checked, raw))).toBe(expected);
      }
      await collectGarbage(() => findings.length > 0);
      expect(findings.map((f) => f.message)).toEqual([]);
    });
  }

  it('keeps the one-chunk Content-Length of an array body', async () => {
    const port = await serve(validator(echo));
    const response = await exchange(port, REQUESTS[1] ?? '');
    expect(response).toMatch(/\r\nContent-Length: 11\r\n/i);
    expect(response.endsWith('\r\n\r\nline\n|rest!')).toBe(true);
  });

  it('answers a broken application with a 500 and reports the rule', async () => {
    const broken: Application = (_environ, startResponse) => {
      startResponse('200 OK', [['Content-Length', '2']]);
      return [Buffer.from('ok')];
    };
    const findings: Finding[] = [];
    const port = await serve(validator(broken, { onFinding: (f) => findings.push(f) }));
    const response = await exchange(port, 'GET / HTTP/1.0\r\n\r\n');
    expect(response).toMatch(/^HTTP\/1\.[01] 500 /);
    expect(response).toContain('A server error occurred.');
    expect(findings.map((f) => f.code)).toEqual(['headers.content-type-missing']);
  });
});

const SCRIPT = fileURLToPath(new URL('fixtures/cgi-app.mjs', import.meta.url));

/** Runs the CGI fixture with a CGI environment and a request body. */
function cgi(
  mode: 'plain' | 'checked',
  kind: 'valid' | 'broken',
): Promise<{ stdout: string; codes: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SCRIPT, mode, kind], {
      env: {
        GATEWAY_INTERFACE: 'CGI/1.1',
        REQUEST_METHOD: 'POST',
        SCRIPT_NAME: '/cgi-bin/app',
        PATH_INFO: '/x/y',
        QUERY_STRING: 'a=1',
        CONTENT_TYPE: 'text/plain',
        CONTENT_LENGTH: '5',
        SERVER_NAME: 'localhost',
        SERVER_PORT: '8080',
        SERVER_PROTOCOL: 'HTTP/1.1',
        SERVER_SOFTWARE: 'test',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = stderr.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !last.startsWith('[')) reject(new Error(`exit ${code}: ${stderr}`));
      else
        resolve({
          stdout: Buffer.concat(stdout).toString('latin1'),
          codes: JSON.parse(last) as string[],
        });
    });
    child.stdin.end('hello');
  });
}

describe('served by CGIHandler', () => {
  it('a valid application: the same bytes with and without the validator, and no findings', async () => {
    const plain = await cgi('plain', 'valid');
    const checked = await cgi('checked', 'valid');
    expect(plain.stdout).toBe(
      'Status: 200 OK\r\nContent-Type: text/plain\r\nX-Path: /x/y\r\nContent-Length: 14\r\n\r\nPOST a=1 hello',
    );
    expect(checked.stdout).toBe(plain.stdout);
    expect(checked.codes).toEqual([]);
  });

  it('a broken application: the rule is reported and the output is unchanged in collect mode', async () => {
    const plain = await cgi('plain', 'broken');
    const checked = await cgi('checked', 'broken');
    expect(checked.stdout).toBe(plain.stdout);
    expect(checked.codes).toEqual(['headers.content-type-missing']);
  });
});
